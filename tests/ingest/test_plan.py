"""The plan every stage follows: which input columns are read, and which may arrive dictionary-encoded."""

from __future__ import annotations

from ingest_helpers import plan_of, task


def test_dictionary_columns_are_string_dimensions_read_for_nothing_else() -> None:
    spec = task(
        timestamp={"column": "ts", "format": "auto"},
        dimensions=[
            "plain",
            "ts",
            "summed",
            "sketched",
            "in_expression",
            "transformed",
            "filtered",
            {"type": "long", "name": "number"},
        ],
        metrics=[
            {"type": "longSum", "name": "s", "fieldName": "summed"},
            {"type": "HLLSketchBuild", "name": "reach", "fieldName": "sketched"},
            {"type": "longSum", "name": "e", "expression": "strlen(in_expression)"},
        ],
        transform={
            "transforms": [{"type": "expression", "name": "t", "expression": "concat(transformed, 'x')"}],
            "filter": {"type": "selector", "dimension": "filtered", "value": "keep"},
        },
    )
    plan = plan_of(spec)
    assert plan.dictionary_columns() == ["plain"]
    assert set(plan.input_columns() or ()) >= {"plain", "summed", "sketched", "transformed", "filtered"}
    assert plan_of(task(dimensions=())).dictionary_columns() == []  # schemaless: discovered later
