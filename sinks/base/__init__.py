"""The contract every sink follows: a batch consumer loop and an idempotent writer.

`BatchSink` (loop.py) owns Kafka: poll, decode, dead letters, pause/backoff, commits.
A `BatchWriter` (writer.py) owns the target: it maps records to rows and writes a batch
idempotently, raising TransientWriteError when the target is unavailable.
"""

from .config import Backoff, BatchConfig
from .loop import BatchSink
from .records import Rejected, SourceRecord
from .writer import BatchWriter

__all__ = ["Backoff", "BatchConfig", "BatchSink", "BatchWriter", "Rejected", "SourceRecord"]
