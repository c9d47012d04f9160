"""Druid SQL planned into native queries."""
