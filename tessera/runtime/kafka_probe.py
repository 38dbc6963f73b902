"""A raw ApiVersions request: which protocol versions the broker really speaks.

librdkafka negotiates these silently; asking ourselves lets the tests prove they talk
to Apache Kafka 4.x: 4.0 dropped Fetch v0-v3 (KIP-896; Produce v0-v2 were kept
for librdkafka's sake, so Fetch is the tell).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

API_VERSIONS_KEY = 18
PRODUCE_KEY = 0
FETCH_KEY = 1


@dataclass(frozen=True)
class ApiRange:
    min_version: int
    max_version: int


def api_versions(host: str, port: int, timeout_s: float = 5.0) -> dict[int, ApiRange]:
    client_id = b"tessera-probe"
    header = struct.pack(">hhih", API_VERSIONS_KEY, 0, 1, len(client_id)) + client_id
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(struct.pack(">i", len(header)) + header)
        size = struct.unpack(">i", _read(sock, 4))[0]
        body = _read(sock, size)
    _correlation, error_code, count = struct.unpack_from(">ihi", body, 0)
    if error_code != 0:
        raise ConnectionError(f"ApiVersions answered error code {error_code}")
    ranges: dict[int, ApiRange] = {}
    offset = 10
    for _ in range(count):
        key, low, high = struct.unpack_from(">hhh", body, offset)
        ranges[key] = ApiRange(low, high)
        offset += 6
    return ranges


def looks_like_kafka_4(ranges: dict[int, ApiRange]) -> bool:
    fetch = ranges.get(FETCH_KEY)
    return bool(fetch and fetch.min_version >= 4 and PRODUCE_KEY in ranges)


def _read(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks.extend(chunk)
    return bytes(chunks)
