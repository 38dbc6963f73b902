"""Durable wall-clock timers on Kafka: timer buckets in state, fired by a ticker."""
