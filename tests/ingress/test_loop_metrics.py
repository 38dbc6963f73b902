"""Loop metrics expose what prometheus_client's own Counter and Histogram would."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from ingress.loop_metrics import LoopCounter, LoopHistogram

BUCKETS = (0.001, 0.0025, 0.01, 0.1, 1, 10)


def exposition(registry: CollectorRegistry) -> list[str]:
    """The text format minus the `_created` samples (loop metrics do not keep them)."""
    text = generate_latest(registry).decode()
    return [line for line in text.splitlines() if "_created" not in line]


@given(
    st.lists(st.tuples(st.sampled_from(["a", "b"]), st.floats(0, 20, allow_nan=False)), max_size=40)
)
def test_histogram_samples_match_prometheus_client(updates: list[tuple[str, float]]) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    loop = LoopHistogram("x_seconds", "help", ["route"], buckets=BUCKETS, registry=ours)
    reference = Histogram("x_seconds", "help", ["route"], buckets=BUCKETS, registry=theirs)
    for route, value in updates:
        loop.labels(route).observe(value)
        reference.labels(route).observe(value)
    assert exposition(ours) == exposition(theirs)


def test_a_value_on_a_bound_falls_in_that_bucket() -> None:
    registry = CollectorRegistry()
    histogram = LoopHistogram("y_seconds", "help", buckets=(1, 2), registry=registry)
    histogram.labels().observe(1.0)
    assert registry.get_sample_value("y_seconds_bucket", {"le": "1.0"}) == 1
    assert registry.get_sample_value("y_seconds_bucket", {"le": "+Inf"}) == 1
    assert registry.get_sample_value("y_seconds_sum") == 1.0


@given(st.lists(st.tuples(st.sampled_from(["GET", "POST"]), st.integers(200, 503)), max_size=40))
def test_counter_samples_match_prometheus_client(updates: list[tuple[str, int]]) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    loop = LoopCounter("z_requests_total", "help", ["method", "status"], registry=ours)
    reference = Counter("z_requests_total", "help", ["method", "status"], registry=theirs)
    for method, status in updates:
        loop.labels(method, status).inc()  # label values are turned into text, as theirs
        reference.labels(method, status).inc()
    assert exposition(ours) == exposition(theirs)


def test_wrong_label_count_and_a_taken_name_are_refused() -> None:
    registry = CollectorRegistry()
    counter = LoopCounter("w_total", "help", ["route"], registry=registry)
    with pytest.raises(ValueError, match="expected labels"):
        counter.labels("a", "b")
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        LoopCounter("w_total", "help", ["route"], registry=registry)
    with pytest.raises(ValueError, match="increasing"):
        LoopHistogram("v_seconds", "help", buckets=(2, 1), registry=registry)
