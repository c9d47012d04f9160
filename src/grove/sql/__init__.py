"""Druid SQL: parsed with sqlglot, planned into native queries, answered by the native engine.

:mod:`grove.sql.result` is the shape of an answer; :mod:`grove.sql.catalog` is what the planner knows
about tables (datasources, INFORMATION_SCHEMA, sys); :mod:`grove.sql.engine` plans and runs
statements.
"""
