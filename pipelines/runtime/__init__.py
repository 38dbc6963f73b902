"""What every Tessera pipeline shares: routing outputs to topics, dead letters, the
quixstreams application with exactly-once, the state adapter, metrics."""
