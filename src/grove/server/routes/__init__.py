"""Druid-compatible HTTP routes, one module per area."""
