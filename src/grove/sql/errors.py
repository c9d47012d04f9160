"""The errors SQL raises: every one is a 400 whose message names the construct or the unknown name.

Messages follow Druid's (Calcite's) wording where Druid has one (``Column 'x' not found in any table``,
``Object 'foo' not found``); the HTTP layer renders them in Druid's error body like any
:class:`~grove.errors.InvalidInput`.
"""

from __future__ import annotations

from grove.errors import InvalidInput, Unsupported


class SqlError(InvalidInput):
    """A statement that cannot be validated or planned (unknown table or column, type errors...)."""

    druid_error = "Plan validation failed"


class SqlParseError(SqlError):
    """The statement is not syntactically valid SQL."""

    druid_error = "SQL parse failed"


class SqlUnsupported(SqlError, Unsupported):
    """Valid SQL that grove does not plan (joins, window functions...); never answered wrongly."""

    druid_error = "Unsupported operation"
