"""Command and booking ids: exactly RFC 4122 uuid5, the derivation partners reproduce."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from schemas.command_ids import (
    BOOKING_NAMESPACE,
    COMMAND_NAMESPACE,
    action_id,
    booking_id_for,
    command_id,
)


@given(st.text(max_size=80), st.text(max_size=300))
def test_ids_equal_the_standard_library_uuid5(principal: str, key: str) -> None:
    message_id = command_id(principal, key)
    assert message_id == str(uuid.uuid5(COMMAND_NAMESPACE, f"{principal}\n{key}"))
    assert booking_id_for(message_id) == str(uuid.uuid5(BOOKING_NAMESPACE, message_id))


def test_action_ids_are_stable_per_key_and_fresh_without_one() -> None:
    assert action_id("cancel", "u", "b", "k") == action_id("cancel", "u", "b", "k")
    assert action_id("cancel", "u", "b", "k") != action_id("refund", "u", "b", "k")
    assert action_id("cancel", "u", "b", None) != action_id("cancel", "u", "b", None)
