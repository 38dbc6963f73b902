"""The inventory pipeline: one ledger per item, partitioned by itemId."""
