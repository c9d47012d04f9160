"""Typed wire models of the parts queries and ingestion specs share: filters, extraction functions,
dimension specs, virtual columns, aggregators and post-aggregators."""
