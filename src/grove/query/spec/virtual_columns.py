"""Virtual columns: columns computed at query time from a row, usable wherever a column name is."""

from __future__ import annotations

from typing import Annotated, Literal

from grove.common.models import ColumnTypeName, NonEmptyStr, TaggedUnion, WireModel


class ExpressionVirtualColumn(WireModel):
    """The column ``name`` computed by the Druid expression ``expression``.

    ``outputType`` coerces the result (``LONG``, ``FLOAT``, ``DOUBLE``, ``STRING``, ``ARRAY<...>``,
    ``COMPLEX<...>``). Druid's docs give FLOAT as its default, but Druid itself infers the type from the
    expression when it is left out, and so does grove: None means "infer".
    """

    type: Literal["expression"] = "expression"
    name: NonEmptyStr
    expression: NonEmptyStr
    output_type: ColumnTypeName | None = None


VirtualColumn = Annotated[
    ExpressionVirtualColumn,
    TaggedUnion(
        "virtualColumn",
        unsupported={
            "nested-field": "nested JSON columns are not supported",
            "mv-filtered": "multi-value filtered virtual columns are not supported",
            "list-filtered": "list filtered virtual columns are not supported",
        },
    ),
]
