"""Counters and histograms for the request hot path, updated without a lock.

prometheus_client guards every value with a `threading.Lock` and checks the metric's
state on each update: about 1.5 µs per increment, and a create does five of them. The
ingress updates these only from its event-loop thread, so a plain attribute is enough:
a child keeps numbers, and the family turns them into samples when /metrics is scraped.
Names, labels and sample shapes are those prometheus_client would give (a counter's
`_total`, a histogram's cumulative `_bucket`s with `+Inf`, `_sum`, `_count`).

Not for values updated from other threads: `+=` on an attribute is not atomic there.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import REGISTRY, CollectorRegistry
from prometheus_client.utils import floatToGoString

_INF = float("inf")


class CounterChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class HistogramChild:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last slot is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        # bisect_left: a value equal to a bound falls in that bucket (le is "<=")
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value


class _Family:
    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self.name, self.documentation = name, documentation
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], Any] = {}
        registry.register(self)  # describe() first: a name taken twice raises here

    def _child(self, values: tuple[str, ...], make: Callable[[], Any]) -> Any:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name}: expected labels {self.labelnames}, got {values}")
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = make()
        return child

    def _family(self) -> Metric:
        raise NotImplementedError

    def describe(self) -> list[Metric]:
        return [self._family()]


class LoopCounter(_Family):
    """A counter family; `name` as prometheus_client takes it (`_total` is added)."""

    def labels(self, *values: str) -> CounterChild:
        return self._child(tuple(str(v) for v in values), CounterChild)  # type: ignore[no-any-return]

    def _family(self) -> CounterMetricFamily:
        return CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for values, child in list(self._children.items()):
            family.add_metric(list(values), child.value)
        yield family


class LoopHistogram(_Family):
    """A histogram family; `buckets` are the finite upper bounds (+Inf is implied)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        buckets: Sequence[float],
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        bounds = tuple(float(b) for b in buckets if b != _INF)
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"{name}: buckets must be increasing")
        self.bounds = bounds
        super().__init__(name, documentation, labelnames, registry)

    def labels(self, *values: str) -> HistogramChild:
        return self._child(  # type: ignore[no-any-return]
            tuple(str(v) for v in values), lambda: HistogramChild(self.bounds)
        )

    def _family(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for values, child in list(self._children.items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*self.bounds, _INF), list(child.counts), strict=True):
                cumulative += count
                buckets.append((floatToGoString(bound), cumulative))
            family.add_metric(list(values), buckets, child.sum)
        yield family
