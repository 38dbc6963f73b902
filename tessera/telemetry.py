"""JSON logs with context, one line per record, secrets and contact data masked.

Context: `bind(booking_id=..., correlation_id=...)` puts fields on every log line of the
current thread or task until `unbind(token)`; the current span's trace id is added too.
Masking: emails, phone numbers, card numbers (Luhn-valid), JWTs, bearer tokens, API keys,
and the value of any field whose name says it is a secret or contact data.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
import time
from typing import Any

from opentelemetry import trace

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_SECRET = re.compile(
    r"(?i)(bearer\s+|basic\s+|\b(?:sk|rk|pk|whsec)_(?:test|live)_)[A-Za-z0-9._~+/=-]+"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_KEYED = re.compile(
    r"(?i)([\"']?[a-z_]*(?:password|passwd|secret|token|api_key|apikey|authorization|"
    r"card_number|cvc|cvv)[a-z_]*[\"']?\s*[:=]\s*[\"']?)([^\"'\s,;}&]+)"
)
# Digit runs that may be a phone or card: not glued to words, IPs, ports or paths.
_DIGITS = re.compile(r"(?<![A-Za-z0-9.:/#=-])\+?\(?\d[\d \t().-]{6,}\d(?![A-Za-z0-9.:/-])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SENSITIVE_KEYS = re.compile(r"(?i)(password|secret|token|authorization|email|phone|card|cvc)")
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
_Fields = tuple[tuple[str, Any], ...]
_CONTEXT: contextvars.ContextVar[_Fields] = contextvars.ContextVar("log_ctx", default=())


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _digits(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    # Card numbers start with 2-6 (epoch-ms timestamps with 1): Luhn-valid, 13-19 digits.
    if 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn(digits) and "." not in text:
        return "[card]"
    if _DATE.fullmatch(text.strip()) or len(digits) > 15 or len(digits) < 8:
        return text
    groups = len(re.findall(r"\d+", text))
    if text.startswith("+") or re.fullmatch(r"\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}", text):
        return "***" + digits[-2:]
    if groups >= 3 and len(digits) >= 9 and "." not in text:
        return "***" + digits[-2:]
    return text


def mask(text: str) -> str:
    text = _JWT.sub("[jwt]", text)
    text = _SECRET.sub(lambda m: m.group(1) + "***", text)
    text = _KEYED.sub(lambda m: m.group(1) + "***", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _DIGITS.sub(_digits, text)


def mask_value(key: str, value: Any) -> Any:
    """A log field's value, masked by its name first and then by its content."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    name = key.lower()
    if _SENSITIVE_KEYS.search(name) and not name.endswith(("_masked", "_id")):
        if "email" in name:
            return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
        return "***" + re.sub(r"\D", "", text)[-2:] if "phone" in name else "***"
    return mask(text)


def bind(**fields: Any) -> contextvars.Token[_Fields]:
    """Add fields (empty ones are skipped) to every log line until unbind(token)."""
    current = _CONTEXT.get()
    if current:
        fields = {**dict(current), **fields}
    return _CONTEXT.set(tuple([(k, v) for k, v in fields.items() if v]))


def unbind(token: contextvars.Token[_Fields]) -> None:
    _CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, process_role: str) -> None:
        super().__init__()
        self.process_role = process_role

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "role": self.process_role,
            "message": mask(record.getMessage()),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = f"{span.trace_id:032x}"
        for key, value in _CONTEXT.get():
            entry[key] = mask_value(key, value)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = mask_value(key, value)
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(process_role: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(process_role))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)
    crash = logging.getLogger("tessera.crash")
    # Uncaught exceptions become masked JSON lines too, not raw tracebacks on stderr.
    sys.excepthook = lambda kind, exc, tb: crash.critical("uncaught", exc_info=(kind, exc, tb))
    threading.excepthook = lambda args: crash.critical(
        "uncaught in thread %s",
        getattr(args.thread, "name", "?"),
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
    )
