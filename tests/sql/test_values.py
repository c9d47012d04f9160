"""Result values in Druid's JSON forms: :func:`grove.sql.values.json_rows`."""

from __future__ import annotations

from grove.common.time import MAX_INSTANT, MIN_INSTANT, format_timestamp, zone
from grove.sql.catalog import ColumnInfo
from grove.sql.post import Relation
from grove.sql.values import RowRelation, json_rows

NAME = ColumnInfo("name", "VARCHAR", "STRING")
TOTAL = ColumnInfo("total", "BIGINT", "LONG")
DAY = ColumnInfo("day", "TIMESTAMP", "LONG")
TAGS = ColumnInfo("tags", "VARCHAR", "STRING", multi_value=True)


def test_rows_the_engine_returned_are_the_statement_rows_when_nothing_needs_converting() -> None:
    rows = [["a", 1], ["b", None]]
    rel = RowRelation([NAME, TOTAL], [["a", "b"], [1, None]], frozenset(("name", "total")), rows=rows)
    assert json_rows(rel) is rows


def test_columns_that_need_converting_are_converted_in_the_engine_rows() -> None:
    rows = [[86_400_000, 1], [0, 2]]
    rel = RowRelation([DAY, TOTAL], [[86_400_000, 0], [1, 2]], frozenset(("day", "total")), rows=rows)
    got = json_rows(rel)
    assert got == [["1970-01-02T00:00:00.000Z", 1], ["1970-01-01T00:00:00.000Z", 2]]
    assert got is rows  # the engine's fresh rows, converted where they stand (used once)
    inexact = RowRelation([NAME, TOTAL], [["a"], [1.0]], frozenset(("name",)), rows=[["a", 1.0]])
    assert json_rows(inexact) == [["a", 1]]

    def tags() -> RowRelation:
        return RowRelation([TAGS], [[["x", "y"]]], frozenset(("tags",)), rows=[[["x", "y"]]])

    assert json_rows(tags()) == [['["x","y"]']]
    assert json_rows(tags(), stringify_arrays=False) == [[["x", "y"]]]


def test_column_relations_become_rows() -> None:
    rel = Relation([NAME, DAY], [["a", None], [0, None]], frozenset(("name",)))
    assert json_rows(rel, "Asia/Tokyo") == [["a", "1970-01-01T09:00:00.000+09:00"], [None, None]]
    assert json_rows(Relation([], [])) == []


def test_timestamps_are_iso_text_in_the_statement_zone() -> None:
    instants = [0, 86_400_000, -1, 1_769_212_800_123, MIN_INSTANT, MAX_INSTANT]
    for tz in ("UTC", "Asia/Tokyo", "America/Sao_Paulo"):
        rel = Relation([DAY], [instants])
        assert json_rows(rel, tz) == [[format_timestamp(ms, zone(tz))] for ms in instants]
        assert json_rows(Relation([DAY], [instants[:4]]), tz) == [
            [format_timestamp(ms, zone(tz))] for ms in instants[:4]
        ]
