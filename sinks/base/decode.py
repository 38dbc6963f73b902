"""Step 2 of the batch loop: decode each record with its topic's contract and project it
to rows; what does not decode (or map) goes to the topic's .dlq with the reason."""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec
from confluent_kafka import Message

from schemas.base import SCHEMA_VERSION
from schemas.topics import TopicSpec
from tessera import tracing

from ..exceptions import SinkConfigError
from . import metrics
from .dead_letters import DeadLetters
from .records import SourceRecord
from .writer import BatchWriter


class RecordDecoder:
    def __init__(
        self, inputs: dict[str, TopicSpec], writer: BatchWriter, dead_letters: DeadLetters
    ) -> None:
        self.decoders: dict[str, msgspec.json.Decoder[Any]] = {}
        for spec in inputs.values():
            if spec.decoder is None:
                raise SinkConfigError(f"{spec.name} has no decoder: it is not an input topic")
            self.decoders[spec.name] = spec.decoder
        self.inputs = inputs
        self.writer = writer
        self.dead_letters = dead_letters
        self.name = writer.name
        self._counts: Counter[tuple[str, str]] = Counter()  # (topic, outcome), per batch
        tracing.setup(f"sink-{self.name}")

    def count_batch(self) -> None:
        """Add this batch's record outcomes to the metrics (once per batch, not per record)."""
        for (topic, outcome), n in self._counts.items():
            metrics.RECORDS.labels(self.name, topic, outcome).inc(n)
        self._counts.clear()

    def rows_of(self, message: Message) -> list[Any]:
        spec = self.inputs[message.topic()]
        value = message.value()
        source = SourceRecord(
            spec.name,
            message.partition(),
            message.offset(),
            (message.key() or b"").decode(errors="replace"),
            value or b"",
            list(message.headers() or ()),
        )
        if value is None:  # a tombstone on a compacted topic: nothing to write
            self._counts[(spec.name, "ignored")] += 1
            return []
        with tracing.start_span_from_headers(f"sink-{self.name} {spec.name}", source.headers):
            return self._rows(spec, source)

    def _rows(self, spec: TopicSpec, source: SourceRecord) -> list[Any]:
        decoded = self.decode(spec, source)
        if decoded is None:
            return []
        try:
            rows = list(self.writer.project(spec, decoded, source))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self.dead_letters.send(source, "UNMAPPABLE", f"{type(exc).__name__}: {exc}")
            return []
        self._counts[(spec.name, "written" if rows else "ignored")] += 1
        return rows

    def decode(self, spec: TopicSpec, source: SourceRecord) -> Any | None:
        try:
            message = self.decoders[spec.name].decode(source.value)
        except msgspec.ValidationError as exc:
            self.dead_letters.send(source, "INVALID", str(exc))
            return None
        except msgspec.DecodeError as exc:
            self.dead_letters.send(source, "UNDECODABLE", str(exc))
            return None
        if message.schema_version > SCHEMA_VERSION:
            reason = f"schema_version {message.schema_version} > supported {SCHEMA_VERSION}"
            self.dead_letters.send(source, "UNSUPPORTED_VERSION", reason)
            return None
        return message
