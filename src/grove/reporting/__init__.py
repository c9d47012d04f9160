"""The ads reporting service: validation, entity-interval short-circuit, batching, limits."""
