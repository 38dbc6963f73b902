"""Local runtime: starts and stops the real Kafka, PostgreSQL and Redis as private instances."""
