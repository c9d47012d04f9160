"""Ingestion: specs, input sources and formats, transforms, partitioning, batch and stream tasks."""
