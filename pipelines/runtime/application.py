"""A Tessera stream processor on quixstreams: typed in, typed out, exactly-once.

Per input record, in this order:
1. Decode the value with the source topic's msgspec decoder; a record that does not
   decode, fails validation or has a newer schema version becomes a dead letter.
2. Call the pure handler with the key's state store and the decoded message.
3. Route each output message to its topic and key (outputs.route) with the trace
   headers of the input, in one Kafka transaction with the state changelog and the
   consumer offsets (processing_guarantee="exactly-once").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
import quixstreams.internal_producer as _quix_producer
from quixstreams import Application, message_context
from quixstreams.models import Serializer

from schemas.base import SCHEMA_VERSION, now_ms
from schemas.timers import ScheduleTimer
from schemas.topics import TopicSpec, declared_topics
from state_stores.base import KeyValueStore
from tessera import telemetry, tracing
from tessera.config import Settings
from tessera.metrics import bound

from . import metrics
from .commits import install_commit_policy
from .dead_letters import dead_letter
from .outputs import Headers, Outbound, route
from .store import PASSTHROUGH_OPTIONS, QuixStateStore

logger = logging.getLogger(__name__)

# librdkafka lacks KIP-890's epoch bump: retrying a transaction commit that timed out can
# let a later commit carry stale writes. One attempt, then the app fails and the runner
# builds a new Application (a new producer) -- see run_processor.
_quix_producer._ABORT_RETRY_ATTEMPTS = 1  # noqa: SLF001

Handler = Callable[[KeyValueStore, Any, int], Iterable[Any]]
# A pipeline's own input rules beyond the schema: None if fine, else why it is rejected.
Validator = Callable[[Any], str | None]
PROPAGATED_HEADERS = ("traceparent", "tracestate", "x-correlation-id")


class _OutboundValue(Serializer):
    def __call__(self, value: Outbound, ctx: Any) -> bytes:
        return value.value


class _OutboundKey(Serializer):
    def __call__(self, value: str, ctx: Any) -> bytes:
        return value.encode()


def build_application(settings: Settings, role: str) -> Application:
    return Application(
        broker_address=settings.kafka_bootstrap,
        consumer_group=settings.topic(f"tessera-{role}"),
        processing_guarantee="exactly-once",
        commit_interval=settings.commit_interval_s,
        auto_offset_reset="earliest",
        auto_create_topics=True,
        state_dir=str(settings.state_dir(role)),
        rocksdb_options=PASSTHROUGH_OPTIONS,
        # The checkpoint is committed between polls: a long poll on an idle input would
        # hold the last transaction (and every downstream hop) open until it returns
        # (commits.py commits as soon as a poll comes back empty).
        consumer_poll_timeout=0.005,  # an empty poll is what lets a drained input commit
        consumer_extra_config=consumer_membership(settings, role)
        | {"fetch.wait.max.ms": 20, "log_level": 3},
        producer_extra_config={
            # A stable transactional.id per instance: a restarted process fences its dead
            # predecessor and aborts its open transaction at once. quixstreams' default (a
            # fresh uuid) leaves that transaction open until it times out, and every
            # read_committed consumer downstream waits behind it.
            "transactional.id": settings.topic(f"tessera-{role}-{settings.instance}"),
            "transaction.timeout.ms": 10000,
            # Nothing produced in a transaction is visible before it commits, so lingering
            # costs no latency until the commit's flush has to wait for the last batch.
            # 2 ms sent a batch per partition every 2 ms (the broker's busiest work on 12
            # partitions); a whole interval made each commit's flush slow. See Settings.
            "linger.ms": settings.eos_linger_ms,
            "log_level": 3,
        },
        loglevel="WARNING",
    )


def consumer_membership(settings: Settings, role: str) -> dict[str, Any]:
    """Static group membership: a restarted instance (crash, deploy) takes its partitions
    back at once instead of waiting out the dead member's session and a full rebalance."""
    return {
        "group.instance.id": settings.topic(f"tessera-{role}-{settings.instance}"),
        "session.timeout.ms": 15000,
    }


def decode_or_dead_letter(
    spec: TopicSpec, key: str, value: bytes, headers: Headers
) -> tuple[Any | None, Outbound | None]:
    if spec.decoder is None:
        raise LookupError(f"{spec.name} has no decoder: it is not an input topic")
    try:
        message = spec.decoder.decode(value)
    except msgspec.ValidationError as exc:
        return None, dead_letter(spec.name, key, value, "INVALID", str(exc), headers)
    except msgspec.DecodeError as exc:
        return None, dead_letter(spec.name, key, value, "UNDECODABLE", str(exc), headers)
    if message.schema_version > SCHEMA_VERSION:
        reason = f"schema_version {message.schema_version} > supported {SCHEMA_VERSION}"
        return None, dead_letter(spec.name, key, value, "UNSUPPORTED_VERSION", reason, headers)
    return message, None


def with_trace(message: Any, headers: Headers) -> Any:
    """A timer remembers the trace that set it, so the record it fires continues it."""
    if isinstance(message, ScheduleTimer) and not message.traceparent:
        value = tracing.header(headers, "traceparent")
        if value:
            return msgspec.structs.replace(message, traceparent=tracing.text(value))
    return message


def make_step(
    role: str, inputs: dict[str, TopicSpec], handler: Handler, validate: Validator | None = None
) -> Callable[..., list[Outbound]]:
    tracing.setup(role)

    def step(value: bytes, key: Any, _timestamp: int, headers: Any, state: Any) -> list[Outbound]:
        started = time.perf_counter()
        broker_topic = message_context().topic
        spec = inputs[broker_topic]
        key_text = key.decode() if isinstance(key, bytes) else str(key or "")
        carried = [(k, v) for k, v in (headers or ()) if k in PROPAGATED_HEADERS]
        # One span per record, child of the input's traceparent; outputs carry the new one.
        with tracing.start_span_from_headers(f"{role} {spec.name}", carried) as span:
            tracing.inject(carried, span)
            message, rejected = decode_or_dead_letter(spec, key_text, value, carried)
            if rejected is None and validate is not None and (problem := validate(message)):
                rejected = dead_letter(spec.name, key_text, value, "INVALID", problem, carried)
            if rejected is not None:
                reason = rejected.headers[0][1].decode()
                tracing.mark_error(span, reason)
                metrics.DEAD_LETTERS.labels(role, spec.name, reason).inc()
                logger.warning(
                    "dead-lettered record",
                    extra={"topic": spec.name, "key": key_text, "reason": reason},
                )
                return [rejected]
            token = telemetry.bind(
                booking_id=getattr(message, "booking_id", ""),
                correlation_id=message.correlation_id or message.message_id,
            )
            try:
                outputs = [
                    out if isinstance(out, Outbound) else route(with_trace(out, carried), carried)
                    for out in handler(QuixStateStore(state), message, now_ms())
                ]
            finally:
                telemetry.unbind(token)
        bound(metrics.PROCESSED, role, spec.name, type(message).__name__).inc()
        bound(metrics.PROCESSING_SECONDS, role).observe(time.perf_counter() - started)
        return outputs

    return step


def run_processor(
    settings: Settings,
    role: str,
    inputs: list[TopicSpec],
    handler: Handler,
    validate: Validator | None = None,
) -> None:
    """Run until stopped; a failed transaction commit rebuilds the Application."""
    while True:
        app = build_application(settings, role)
        wire(app, settings, role, inputs, handler, validate)
        install_commit_policy(app, role, settings.commit_min_interval_s)
        try:
            app.run()
            return
        except _quix_producer.KafkaProducerTransactionCommitFailed:
            metrics.ERRORS.labels(role, "transaction_commit").inc()
            logger.exception("transaction commit failed; recreating the producer")


def wire(
    app: Application,
    settings: Settings,
    role: str,
    inputs: list[TopicSpec],
    handler: Handler,
    validate: Validator | None = None,
) -> None:
    by_broker_name = {settings.topic(spec.name): spec for spec in inputs}
    out_topics = {
        spec.name: app.topic(
            settings.topic(spec.name),
            key_serializer=_OutboundKey(),
            value_serializer=_OutboundValue(),
        )
        for spec in declared_topics()
    }
    frames = [
        app.dataframe(app.topic(name, key_deserializer="bytes", value_deserializer="bytes"))
        for name in by_broker_name
    ]
    sdf = frames[0]
    for other in frames[1:]:
        sdf = sdf.concat(other)
    # concat() asks for timestamp-aligned consumption across the input topics. We need no
    # cross-topic time order (the saga is correct under any interleaving; per-key order
    # within a topic is what matters), and the alignment stalls on transactional inputs:
    # it calls a partition idle only when position == high watermark, which the
    # transaction markers never let a read_committed consumer reach.
    app._dataframe_registry._requires_time_alignment = False  # noqa: SLF001
    sdf = sdf.apply(
        make_step(role, by_broker_name, handler, validate),
        stateful=True,
        metadata=True,
        expand=True,
    )
    sdf = sdf.set_headers(lambda value, _key, _ts, _headers: value.headers)
    sdf.to_topic(
        lambda value, _key, _ts, _headers: out_topics[value.topic], key=lambda value: value.key
    )
