"""PostgreSQL read models, one database per service, written by idempotent batch upserts.

Why our own sink and not quixstreams' community PostgreSQL sink: that one is psycopg2-based
and appends/overwrites rows with no version guard, so a redelivered or reordered event could
overwrite a newer row, and it writes inside the stream processor's commit. Ours is psycopg 3
(binary COPY into a staging table, merged with `ON CONFLICT ... WHERE target.version <
EXCLUDED.version`), runs as its own consumer group off the critical path, pauses and retries
while PostgreSQL is down, and commits offsets only after the rows are committed.
"""
