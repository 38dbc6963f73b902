"""Bound metric children: the same child labels() gives, looked up once."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from tessera.metrics import bound


def test_bound_is_the_labelled_child_and_counts_into_it() -> None:
    counter = Counter("t_bound_total", "test", ["a"], registry=CollectorRegistry())
    assert bound(counter, "x") is counter.labels("x")
    bound(counter, "x").inc()
    bound(counter, "x").inc()
    assert counter.labels("x")._value.get() == 2
    assert bound(counter, "y") is not bound(counter, "x")
