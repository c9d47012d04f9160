"""The statement text before parsing: EXPLAIN, ``?`` parameters and lifted IN lists."""

from __future__ import annotations

import pytest

from grove.sql.errors import SqlError
from grove.sql.text import IN_LIST_PREFIX, prepare


def test_explain_prefix_and_semicolon() -> None:
    p = prepare("  explain plan for SELECT 1 ;")
    assert p.explain and p.text == "SELECT 1"
    assert not prepare("SELECT 'EXPLAIN PLAN FOR'").explain


def test_parameters_become_literals_outside_strings_and_comments() -> None:
    p = prepare(
        "SELECT '?', \"a?\", x -- ?\nFROM t WHERE a = ? AND b = ? /* ? */ AND c = ? AND d = ? AND e = ?",
        [
            {"type": "VARCHAR", "value": "o'k"},
            {"type": "BIGINT", "value": "12"},
            {"type": "DOUBLE", "value": 1.5},
            {"type": "BOOLEAN", "value": True},
            {"type": "TIMESTAMP", "value": "2020-01-01 00:00:00"},
        ],
    )
    assert p.text == (
        "SELECT '?', \"a?\", x -- ?\nFROM t WHERE a = 'o''k' AND b = 12 /* ? */ AND c = 1.5 AND d = TRUE "
        "AND e = TIMESTAMP '2020-01-01 00:00:00'"
    )
    assert prepare("SELECT ?", [{"type": "VARCHAR", "value": None}]).text == "SELECT NULL"
    assert prepare("SELECT ?", [{"type": "TIMESTAMP", "value": 0}]).text == "SELECT MILLIS_TO_TIMESTAMP(0)"


def test_parameter_errors() -> None:
    with pytest.raises(SqlError, match=r"position \[1\]"):
        prepare("SELECT ?", [])
    with pytest.raises(SqlError, match=r"Unsupported type \[MAP\]"):
        prepare("SELECT ?", [{"type": "MAP", "value": {}}])
    with pytest.raises(SqlError, match="is not a valid"):
        prepare("SELECT ?", [{"type": "DOUBLE", "value": float("nan")}])


def test_literal_in_lists_are_lifted() -> None:
    p = prepare(
        "SELECT 1 FROM t WHERE a IN ('x', 'it''s', 'x') AND b NOT IN (1, -2.5, NULL, 3e2) AND c IN (d, 'e')"
    )
    assert p.text == (
        f'SELECT 1 FROM t WHERE a IN ("{IN_LIST_PREFIX}0") AND b NOT IN ("{IN_LIST_PREFIX}1") AND c IN (d, \'e\')'
    )
    assert p.in_lists == [["x", "it's", "x"], [1, -2.5, None, 300.0]]
    assert p.in_lists[0].strings and not p.in_lists[1].strings


def test_in_inside_strings_is_left_alone() -> None:
    p = prepare("SELECT 'a IN (1, 2)' FROM t WHERE \"IN\" = 1 AND x IN (SELECT y FROM u)")
    assert p.in_lists == []
    assert p.text == "SELECT 'a IN (1, 2)' FROM t WHERE \"IN\" = 1 AND x IN (SELECT y FROM u)"


def test_parameters_inside_in_lists_are_lifted_too() -> None:
    p = prepare(
        "SELECT 1 FROM t WHERE a IN (?, ?)",
        [{"type": "VARCHAR", "value": "p"}, {"type": "VARCHAR", "value": "q"}],
    )
    assert p.in_lists == [["p", "q"]]


def test_a_long_list_is_one_value_list() -> None:
    values = ", ".join(f"'v{i}'" for i in range(10_000))
    p = prepare(f"SELECT COUNT(*) FROM t WHERE a IN ({values})")
    assert len(p.in_lists) == 1 and len(p.in_lists[0]) == 10_000
    assert len(p.text) < 100


def test_empty_statement() -> None:
    with pytest.raises(SqlError, match="empty"):
        prepare("   ")
