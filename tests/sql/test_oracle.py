"""SQL answers checked against DuckDB running the same statement (or its DuckDB spelling) on the same rows.

Each case is ``(grove SQL, DuckDB SQL or None when identical, ordered)``; unordered results are compared
as sorted multisets. TIMESTAMP values are compared as Druid's ISO text, numbers with a relative
tolerance. Distinct counts run exact (``useApproximateCountDistinct: false``) so DuckDB can check them.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest
from sqldata import assert_rows_agree

from grove.sql.result import SqlResult

EXACT = {"useApproximateCountDistinct": False}

CASES: list[tuple[str, str | None, bool]] = [
    # filters
    ("SELECT COUNT(*) FROM ads", None, False),
    ("SELECT COUNT(*) FROM ads WHERE country = 'US'", None, False),
    ("SELECT COUNT(*) FROM ads WHERE country <> 'US'", None, False),
    ("SELECT COUNT(*) FROM ads WHERE country IN ('US', 'FR', '日本')", None, False),
    ("SELECT COUNT(*) FROM ads WHERE country NOT IN ('US', 'FR')", None, False),
    ("SELECT COUNT(*) FROM ads WHERE country IS NULL", None, False),
    ("SELECT COUNT(*) FROM ads WHERE country IS NOT NULL AND country <> ''", None, False),
    ("SELECT COUNT(*) FROM ads WHERE age > 40", None, False),
    ("SELECT COUNT(*) FROM ads WHERE age >= 40 AND age < 50", None, False),
    ("SELECT COUNT(*) FROM ads WHERE age <= 20 OR bid > 4.5", None, False),
    ("SELECT COUNT(*) FROM ads WHERE NOT (age > 30)", None, False),
    ("SELECT COUNT(*) FROM ads WHERE bid BETWEEN 1 AND 2", None, False),
    ("SELECT COUNT(*) FROM ads WHERE bid NOT BETWEEN 1 AND 2", None, False),
    ("SELECT COUNT(*) FROM ads WHERE age IN (20, 30, 40)", None, False),
    ("SELECT COUNT(*) FROM ads WHERE promo LIKE '50%'", None, False),
    ("SELECT COUNT(*) FROM ads WHERE promo LIKE '%\\_%' ESCAPE '\\'", None, False),
    ("SELECT COUNT(*) FROM ads WHERE promo NOT LIKE 'S%'", None, False),
    ("SELECT COUNT(*) FROM ads WHERE device BETWEEN 'd' AND 'q'", None, False),
    ("SELECT COUNT(*) FROM ads WHERE country = 'US' OR country = 'DE' OR device = 'tablet'", None, False),
    ("SELECT COUNT(*) FROM ads WHERE LOWER(country) = 'us'", None, False),
    ("SELECT COUNT(*) FROM ads WHERE clicks * 10 > impressions", None, False),
    ("SELECT COUNT(*) FROM ads WHERE UPPER(device) LIKE 'PH%'", None, False),
    ("SELECT COUNT(*) FROM ads WHERE country = device", None, False),
    ("SELECT COUNT(*) FROM ads WHERE NOT (country IN ('US') OR age > 50)", None, False),
    # time
    ("SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-02 00:00:00'", None, False),
    (
        "SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-01 06:00:00' AND __time < TIMESTAMP '2020-01-02 18:30:00'",
        None,
        False,
    ),
    (
        "SELECT COUNT(*) FROM ads WHERE __time < TIMESTAMP '2020-01-01 12:00:00' OR __time >= TIMESTAMP '2020-01-03 12:00:00'",
        None,
        False,
    ),
    (
        "SELECT COUNT(*) FROM ads WHERE FLOOR(__time TO DAY) = TIMESTAMP '2020-01-02 00:00:00'",
        "SELECT COUNT(*) FROM ads WHERE date_trunc('day', __time) = TIMESTAMP '2020-01-02 00:00:00'",
        False,
    ),
    (
        "SELECT COUNT(*) FROM ads WHERE __time BETWEEN TIMESTAMP '2020-01-02 00:00:00' AND TIMESTAMP '2020-01-02 23:59:59'",
        None,
        False,
    ),
    (
        "SELECT FLOOR(__time TO DAY) AS d, COUNT(*), SUM(clicks) FROM ads GROUP BY 1 ORDER BY 1",
        "SELECT date_trunc('day', __time) AS d, COUNT(*), SUM(clicks) FROM ads GROUP BY 1 ORDER BY 1",
        True,
    ),
    (
        "SELECT TIME_FLOOR(__time, 'PT6H') AS t, SUM(impressions) FROM ads GROUP BY 1 ORDER BY 1 DESC LIMIT 5",
        "SELECT time_bucket(INTERVAL '6 hours', __time) AS t, SUM(impressions) FROM ads GROUP BY 1 ORDER BY 1 DESC LIMIT 5",
        True,
    ),
    (
        "SELECT DATE_TRUNC('hour', __time) AS h, country, COUNT(*) FROM ads WHERE country = 'US' GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 5",
        "SELECT date_trunc('hour', __time) AS h, country, COUNT(*) FROM ads WHERE country = 'US' GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 5",
        True,
    ),
    (
        "SELECT FLOOR(__time TO DAY) AS d, device, SUM(clicks) AS c FROM ads GROUP BY 1, 2 ORDER BY d DESC, c DESC",
        "SELECT date_trunc('day', __time) AS d, device, SUM(clicks) AS c FROM ads GROUP BY 1, 2 ORDER BY d DESC, c DESC",
        True,
    ),
    (
        "SELECT EXTRACT(HOUR FROM __time) AS h, COUNT(*) FROM ads GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
        "SELECT extract(hour FROM __time) AS h, COUNT(*) FROM ads GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
        True,
    ),
    (
        "SELECT TIME_EXTRACT(__time, 'DAY'), COUNT(*) FROM ads GROUP BY 1",
        "SELECT extract(day FROM __time), COUNT(*) FROM ads GROUP BY 1",
        False,
    ),
    (
        "SELECT TIME_FORMAT(__time, 'yyyy-MM-dd'), MAX(clicks) FROM ads GROUP BY 1",
        "SELECT strftime(__time, '%Y-%m-%d'), MAX(clicks) FROM ads GROUP BY 1",
        False,
    ),
    (
        "SELECT CEIL(__time TO DAY), COUNT(*) FROM ads WHERE country = 'FR' GROUP BY 1",
        "SELECT date_trunc('day', __time) + CASE WHEN date_trunc('day', __time) = __time THEN INTERVAL 0 DAY ELSE INTERVAL 1 DAY END, COUNT(*) FROM ads WHERE country = 'FR' GROUP BY 1",
        False,
    ),
    (
        "SELECT __time, TIME_SHIFT(__time, 'PT1H', 2), __time + INTERVAL '1' DAY, TIMESTAMP_TO_MILLIS(__time) FROM ads ORDER BY __time LIMIT 3",
        "SELECT __time, __time + INTERVAL 2 HOUR, __time + INTERVAL 1 DAY, epoch_ms(__time) FROM ads ORDER BY __time LIMIT 3",
        True,
    ),
    (
        "SELECT MILLIS_TO_TIMESTAMP(TIMESTAMP_TO_MILLIS(__time) - 1000) FROM ads ORDER BY __time DESC LIMIT 2",
        "SELECT __time - INTERVAL 1 SECOND FROM ads ORDER BY __time DESC LIMIT 2",
        True,
    ),
    (
        "SELECT TIME_CEIL(__time, 'PT1H'), TIME_PARSE('2020-01-02 03:04:05'), TIME_PARSE('02/01/2020', 'dd/MM/yyyy') FROM ads ORDER BY __time LIMIT 3",
        "SELECT date_trunc('hour', __time) + INTERVAL 1 HOUR, TIMESTAMP '2020-01-02 03:04:05', TIMESTAMP '2020-01-02 00:00:00' FROM ads ORDER BY __time LIMIT 3",
        True,
    ),
    ("SELECT MIN(__time), MAX(__time) FROM ads", None, False),
    ("SELECT MAX(__time) FROM ads WHERE country = 'DE'", None, False),
    # aggregation
    (
        "SELECT country, COUNT(*), SUM(clicks), MIN(impressions), MAX(spend), AVG(clicks), AVG(spend) FROM ads GROUP BY country",
        None,
        False,
    ),
    ("SELECT COUNT(age), COUNT(bid), COUNT(country), COUNT(1) FROM ads", None, False),
    ("SELECT SUM(spend), MIN(bid), MAX(age), AVG(age) FROM ads WHERE country = 'nowhere'", None, False),
    ("SELECT COUNT(*) FROM ads WHERE country = 'nowhere'", None, False),
    ("SELECT device, COUNT(*) FROM ads WHERE country = 'nowhere' GROUP BY device", None, False),
    (
        "SELECT device, SUM(clicks) FILTER (WHERE country = 'US'), COUNT(*) FILTER (WHERE age > 30), COUNT(*) FROM ads GROUP BY device",
        None,
        False,
    ),
    ("SELECT country, SUM(clicks) AS c FROM ads GROUP BY country ORDER BY c DESC LIMIT 3", None, True),
    ("SELECT country, SUM(clicks) AS c FROM ads GROUP BY country ORDER BY c LIMIT 3", None, True),
    ("SELECT campaign, COUNT(*) FROM ads GROUP BY 1 ORDER BY campaign DESC LIMIT 4", None, True),
    ("SELECT age, COUNT(*) FROM ads GROUP BY age ORDER BY age LIMIT 5", None, True),
    (
        "SELECT country, device, COUNT(*) AS n FROM ads GROUP BY 1, 2 HAVING COUNT(*) > 20 ORDER BY n DESC, country, device",
        None,
        True,
    ),
    (
        "SELECT country, device, COUNT(*) AS n FROM ads GROUP BY 1, 2 ORDER BY n DESC, country, device LIMIT 4 OFFSET 3",
        None,
        True,
    ),
    (
        "SELECT device, SUM(clicks) FROM ads GROUP BY device HAVING SUM(clicks) > 600 AND device <> 'desktop'",
        None,
        False,
    ),
    ("SELECT campaign FROM ads GROUP BY campaign HAVING MAX(bid) > 4.9", None, False),
    ("SELECT DISTINCT device, country FROM ads", None, False),
    ('SELECT COUNT(DISTINCT "user"), COUNT(*) FROM ads', None, False),
    ("SELECT device, COUNT(DISTINCT country) FROM ads GROUP BY device", None, False),
    (
        'SELECT device, COUNT(DISTINCT "user") AS u, SUM(clicks), COUNT(*) FROM ads GROUP BY device ORDER BY u DESC, device',
        None,
        True,
    ),
    ('SELECT COUNT(DISTINCT "user") FROM ads WHERE age > 65', None, False),
    (
        'SELECT FLOOR(__time TO DAY) AS d, COUNT(DISTINCT "user"), MAX(clicks) FROM ads GROUP BY 1',
        "SELECT date_trunc('day', __time) AS d, COUNT(DISTINCT \"user\"), MAX(clicks) FROM ads GROUP BY 1",
        False,
    ),
    ("SELECT COUNT(*), SUM(clicks) FROM (SELECT * FROM ads WHERE country = 'US')", None, False),
    (
        "SELECT COUNT(*) FROM ads WHERE TIME_IN_INTERVAL(__time, '2020-01-02T06:00:00Z/2020-01-03T00:00:00Z')",
        "SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-02 06:00:00' AND __time < TIMESTAMP '2020-01-03 00:00:00'",
        False,
    ),
    ("SELECT SUM(clicks) FROM ads GROUP BY ()", None, False),
    (
        "SELECT FLOOR(__time TO HOUR) AS h, COUNT(*) FROM ads GROUP BY 1 HAVING COUNT(*) > 8 ORDER BY h DESC",
        "SELECT date_trunc('hour', __time) AS h, COUNT(*) FROM ads GROUP BY 1 HAVING COUNT(*) > 8 ORDER BY h DESC",
        True,
    ),
    (
        "SELECT FLOOR(__time TO HOUR) AS h, COUNT(*) FROM ads GROUP BY 1 ORDER BY h DESC LIMIT 3 OFFSET 2",
        "SELECT date_trunc('hour', __time) AS h, COUNT(*) FROM ads GROUP BY 1 ORDER BY h DESC LIMIT 3 OFFSET 2",
        True,
    ),
    (
        "SELECT SUM(clicks) / COUNT(*), SUM(clicks) * 1.0 / SUM(impressions), MAX(age) - MIN(age) FROM ads",
        "SELECT SUM(clicks) // COUNT(*), SUM(clicks) * 1.0 / SUM(impressions), MAX(age) - MIN(age) FROM ads",
        False,
    ),
    (
        "SELECT campaign, SUM(clicks) * 1.0 / SUM(impressions) AS ctr FROM ads GROUP BY 1 ORDER BY ctr DESC LIMIT 5",
        None,
        True,
    ),
    ("SELECT UPPER(device) AS d, COUNT(*) FROM ads GROUP BY UPPER(device)", None, False),
    (
        "SELECT country || '/' || device AS k, COUNT(*) FROM ads GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
        None,
        True,
    ),
    ("SELECT LOWER(country) AS c, SUM(clicks) FROM ads GROUP BY country ORDER BY c NULLS FIRST", None, True),
    (
        "SELECT CASE WHEN age < 30 THEN 'young' WHEN age < 50 THEN 'mid' ELSE 'old' END AS bucket, COUNT(*) FROM ads GROUP BY 1",
        None,
        False,
    ),
    ("SELECT COALESCE(country, 'none') AS c, COUNT(*) FROM ads GROUP BY 1", None, False),
    (
        "SELECT EARLIEST(device), LATEST(device), EARLIEST(clicks), LATEST(impressions) FROM ads",
        "SELECT arg_min(device, __time), arg_max(device, __time), arg_min(clicks, __time), arg_max(impressions, __time) FROM ads",
        False,
    ),
    (
        "SELECT device, EARLIEST(campaign), LATEST(clicks) FROM ads GROUP BY device",
        "SELECT device, arg_min(campaign, __time), arg_max(clicks, __time) FROM ads GROUP BY device",
        False,
    ),
    # scalar expressions on a scan
    (
        "SELECT __time, country, clicks, clicks * 2 + 1, impressions / 7, spend * 2 FROM ads ORDER BY __time LIMIT 20",
        "SELECT __time, country, clicks, clicks * 2 + 1, impressions // 7, spend * 2 FROM ads ORDER BY __time LIMIT 20",
        True,
    ),
    (
        "SELECT __time, SUBSTRING(promo, 2, 3), SUBSTRING(campaign, 2), LENGTH(promo), UPPER(promo), LOWER(country), TRIM(' ' || device || ' '), REPLACE(promo, '0', 'o'), STRPOS(promo, 'f') FROM ads ORDER BY __time LIMIT 30",
        "SELECT __time, substring(promo, 2, 3), substring(campaign, 2), length(promo), upper(promo), lower(country), trim(' ' || device || ' '), replace(promo, '0', 'o'), strpos(promo, 'f') FROM ads ORDER BY __time LIMIT 30",
        True,
    ),
    (
        "SELECT __time, CONCAT(country, '-', device), NULLIF(country, ''), COALESCE(age, 0), NVL(bid, -1.0), CAST(age AS VARCHAR), CAST(clicks AS DOUBLE) / 4 FROM ads ORDER BY __time DESC LIMIT 30",
        "SELECT __time, country || '-' || device, NULLIF(country, ''), COALESCE(age, 0), COALESCE(bid, -1.0), CAST(age AS VARCHAR), CAST(clicks AS DOUBLE) / 4 FROM ads ORDER BY __time DESC LIMIT 30",
        True,
    ),
    (
        "SELECT __time, CASE device WHEN 'phone' THEN 1 WHEN 'tablet' THEN 2 ELSE 3 END, CASE WHEN bid IS NULL THEN 'none' ELSE 'some' END, ABS(clicks - 5), MOD(impressions, 7), POWER(clicks, 2), age IS NULL, country = 'US' FROM ads ORDER BY __time LIMIT 30",
        "SELECT __time, CASE device WHEN 'phone' THEN 1 WHEN 'tablet' THEN 2 ELSE 3 END, CASE WHEN bid IS NULL THEN 'none' ELSE 'some' END, ABS(clicks - 5), impressions % 7, POWER(clicks, 2), age IS NULL, country = 'US' FROM ads ORDER BY __time LIMIT 30",
        True,
    ),
    (
        "SELECT __time, country FROM ads WHERE device = 'tablet' ORDER BY __time DESC LIMIT 5 OFFSET 10",
        None,
        True,
    ),
    ("SELECT country, promo FROM ads WHERE age = 33", None, False),
    ("SELECT clicks FROM ads WHERE country = 'DE' LIMIT 0", None, False),
    # subqueries and UNION ALL
    (
        "SELECT AVG(c), MAX(c), COUNT(*) FROM (SELECT country, COUNT(*) AS c FROM ads GROUP BY country)",
        None,
        False,
    ),
    (
        "SELECT * FROM (SELECT device, SUM(clicks) AS s FROM ads GROUP BY device) t WHERE t.s > 800 ORDER BY s DESC",
        None,
        True,
    ),
    (
        "SELECT d, COUNT(*) FROM (SELECT device AS d, country FROM ads WHERE age > 30) GROUP BY d ORDER BY d",
        None,
        True,
    ),
    (
        "WITH per AS (SELECT campaign, SUM(impressions) AS imp FROM ads GROUP BY campaign) SELECT COUNT(*), SUM(imp) FROM per WHERE imp > 2500",
        None,
        False,
    ),
    (
        "SELECT 'phones' AS k, COUNT(*) AS n FROM ads WHERE device = 'phone' UNION ALL SELECT 'all', COUNT(*) FROM ads",
        None,
        False,
    ),
    (
        "SELECT device AS k, COUNT(*) AS n FROM ads GROUP BY 1 UNION ALL SELECT country, COUNT(*) FROM ads WHERE country = 'US' GROUP BY 1 ORDER BY n DESC LIMIT 3",
        None,
        True,
    ),
    (
        "SELECT 1 + 2 * 3, 'x' || 'y', 7 / 2, 7.0 / 2, CAST('12' AS BIGINT) + 1",
        "SELECT 1 + 2 * 3, 'x' || 'y', 7 // 2, 7.0 / 2, CAST('12' AS BIGINT) + 1",
        False,
    ),
]


@pytest.mark.parametrize(("statement", "duck_statement", "ordered"), CASES, ids=[c[0][:70] for c in CASES])
def test_agrees_with_duckdb(
    sql: Callable[..., SqlResult],
    oracle: duckdb.DuckDBPyConnection,
    statement: str,
    duck_statement: str | None,
    ordered: bool,
) -> None:
    got = sql(statement, context=EXACT)
    want = oracle.execute(duck_statement or statement).fetchall()
    assert_rows_agree(got.rows, [list(r) for r in want], ordered=ordered)


def test_approximate_distinct_counts_are_close(
    sql: Callable[..., SqlResult], oracle: duckdb.DuckDBPyConnection
) -> None:
    (exact,) = oracle.execute('SELECT COUNT(DISTINCT "user") FROM ads').fetchone() or (0,)
    row = sql(
        'SELECT COUNT(DISTINCT "user"), APPROX_COUNT_DISTINCT("user"), APPROX_COUNT_DISTINCT_DS_HLL("user"), '
        'APPROX_COUNT_DISTINCT_DS_THETA("user"), APPROX_COUNT_DISTINCT_DS_HLL(users_hll), '
        "APPROX_COUNT_DISTINCT(users_hu), APPROX_COUNT_DISTINCT_DS_THETA(users_theta) FROM ads"
    ).rows[0]
    assert all(isinstance(v, int) for v in row)
    assert all(abs(v - exact) <= max(2, exact * 0.03) for v in row), (row, exact)
