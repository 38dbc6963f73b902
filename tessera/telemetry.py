"""JSON logs with context, one line per record, secrets and contact data masked."""

from __future__ import annotations

import json
import logging
import re
import sys
import time

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")
_BEARER = re.compile(r"(?i)(bearer\s+|sk_(?:test|live)_)[A-Za-z0-9._-]+")
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def mask(text: str) -> str:
    text = _BEARER.sub(lambda m: m.group(1) + "***", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    text = _CARD.sub("[card]", text)
    return _PHONE.sub(lambda m: "***" + m.group(0)[-2:], text)


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
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = mask(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(process_role: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(process_role))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
