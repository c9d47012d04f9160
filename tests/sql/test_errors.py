"""What grove refuses, and how: a 400-class error whose message names the construct or the name."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from grove.errors import InvalidInput, Unsupported
from grove.sql.errors import SqlError, SqlParseError, SqlUnsupported
from grove.sql.result import SqlResult

Sql = Callable[..., SqlResult]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT foo FROM ads", "Column 'foo' not found in any table"),
        ("SELECT x.country FROM ads", "Table 'x' not found"),
        ("SELECT country, clicks FROM ads GROUP BY country", "Expression 'clicks' is not being grouped"),
        ("SELECT COUNT(*) FROM ads WHERE SUM(clicks) > 1", "Aggregate expressions are not allowed in WHERE"),
        ("SELECT FOO(country) FROM ads", r"No match found for function signature FOO\(<VARCHAR>\)"),
        ("SELECT LOOKUP(country, 'countries') FROM ads", r"Lookup \[countries\] not found"),
        ("SELECT SUM(country) FROM ads", r"Cannot apply 'SUM' to arguments of type 'SUM\(<VARCHAR>\)'"),
        ("SELECT SUBSTRING(country) FROM ads", "Invalid number of arguments to function 'SUBSTRING'"),
        ("SELECT COUNT(*) FROM ads GROUP BY 5", r"Ordinal out of range in GROUP BY: \[5\]"),
        ("SELECT COUNT(*) FROM ads LIMIT -1", "LIMIT must be a non-negative integer literal"),
        ("SELECT TIME_FLOOR(__time, country) FROM ads", "The period of TIME_FLOOR must be a literal"),
        ("SELECT COUNT(*) FROM ads WHERE __time > 'not a time'", r"Illegal TIMESTAMP literal \[not a time\]"),
    ],
)
def test_invalid_statements(sql: Sql, statement: str, message: str) -> None:
    with pytest.raises(SqlError, match=message) as info:
        sql(statement)
    assert isinstance(info.value, InvalidInput)
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT a.country FROM ads a JOIN ads b ON a.country = b.country", "JOIN is not supported"),
        (
            "SELECT country FROM ads WHERE country IN (SELECT country FROM ads)",
            "IN with a subquery is not supported",
        ),
        ("SELECT country FROM ads UNION SELECT device FROM ads", "UNION without ALL is not supported"),
        (
            "SELECT country, COUNT(*) FROM ads GROUP BY ROLLUP (country)",
            "GROUPING SETS, ROLLUP and CUBE are not supported",
        ),
        (
            "SELECT ROW_NUMBER() OVER (ORDER BY clicks) FROM ads",
            r"Window functions \(OVER\) are not supported",
        ),
        ("INSERT INTO ads SELECT * FROM ads", r"Unsupported statement \[INSERT\]"),
        (
            "SELECT country FROM ads ORDER BY clicks LIMIT 3",
            r"requires ordering a table by non-time column \[\[clicks\]\]",
        ),
        ("SELECT users_hll FROM ads", r"Selecting the sketch column \[users_hll\] is not supported"),
        (
            'SELECT COUNT(DISTINCT "user"), COUNT(DISTINCT country) FROM ads',
            r"Exact COUNT\(DISTINCT\) of more than one column is not supported",
        ),
        (
            "SELECT country, COUNT(*) FROM ads GROUP BY country ORDER BY country NULLS LAST",
            "NULLS LAST with ASC is not supported",
        ),
        (
            "SELECT country, COUNT(*) FROM ads GROUP BY country ORDER BY country DESC NULLS FIRST",
            "NULLS FIRST with DESC is not supported",
        ),
    ],
)
def test_unsupported_statements(sql: Sql, statement: str, message: str) -> None:
    with pytest.raises(SqlUnsupported, match=message) as info:
        sql(statement, context={"useApproximateCountDistinct": False})
    assert isinstance(info.value, Unsupported)
    assert info.value.status == 400


@pytest.mark.parametrize(
    "statement", ["SELECT FROM WHERE", "SELEC 1", "SELECT 'unterminated", "", "SELECT", "SELECT FROM ads"]
)
def test_syntax_errors(sql: Sql, statement: str) -> None:
    with pytest.raises(SqlError) as info:
        sql(statement)
    assert info.value.status == 400
    if statement.strip():
        assert isinstance(info.value, SqlParseError | SqlUnsupported)


def test_parse_error_names_the_position(sql: Sql) -> None:
    with pytest.raises(SqlParseError, match=r"line \[1\], column \[17\]"):
        sql("SELECT FROM WHERE")


def test_bad_context_values(sql: Sql) -> None:
    with pytest.raises(SqlError, match="Unknown time zone"):
        sql("SELECT 1", context={"sqlTimeZone": "Mars/Olympus"})


def test_bad_parameters(sql: Sql) -> None:
    with pytest.raises(SqlError, match="must be an object"):
        sql("SELECT ?", parameters=["x"])
    with pytest.raises(SqlError, match=r"is not a valid \[BIGINT\]"):
        sql("SELECT ?", parameters=[{"type": "BIGINT", "value": "abc"}])
    with pytest.raises(SqlError, match=r"\[1\] parameter placeholders but \[2\] parameters"):
        sql("SELECT ?", parameters=[{"type": "BIGINT", "value": 1}, {"type": "BIGINT", "value": 2}])
