"""JSON Schema for every topic: what partners code against."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from .base import SCHEMA_VERSION
from .topics import ALL_TOPICS


def topic_schema(name: str, payload: Any, key: str, description: str) -> dict[str, Any]:
    schema = msgspec.json.schema(payload)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = name
    schema["description"] = f"{description} Kafka key: {key}. Schema version {SCHEMA_VERSION}."
    return schema


def export_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in ALL_TOPICS:
        if spec.payload is None:
            continue
        path = directory / f"{spec.name}.schema.json"
        schema = topic_schema(spec.name, spec.payload, spec.key, spec.description)
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
