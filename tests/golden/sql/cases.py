"""The Druid SQL golden cases: each a statement, what it covers, and how DuckDB spells it.

A case's file (``<name>.json`` beside this module) is written by ``regen.py`` from what grove answers;
this list only says what to ask. ``duckdb`` is the DuckDB spelling of the statement on the same rows
(``None``: the same text; ``False``: DuckDB cannot run it, e.g. sketches, EXPLAIN, system tables, Joda
time formats). ``ordered`` says whether row order is part of the answer. An ``error`` case records the
message grove refuses the statement with.

DuckDB's table ``ads`` holds the same rows (``tags`` as ``VARCHAR[]``, no ``count`` or sketch
metrics); its nulls sort first ascending as Druid's do. Spelling differences to remember: integer
division is ``//``, ``CONCAT`` with a null is null only as ``||``, ``FLOOR(__time TO DAY)`` is
``date_trunc('day', __time)``, Druid's ``DOW`` is DuckDB's ``isodow``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Case:
    """One golden statement; ``name`` is its file's stem."""

    name: str
    sql: str
    about: str
    duckdb: str | bool | None = None
    ordered: bool = False
    context: dict[str, Any] | None = None
    parameters: list[dict[str, Any]] | None = None
    error: bool = False


EXACT = {"useApproximateCountDistinct": False}
NOW = {"sqlCurrentTimestamp": "2020-01-03T12:00:00Z"}
NO = False  # DuckDB cannot run the statement

# DuckDB's ``tags``: one row per value, and one null row for a row without values (Druid's unnesting).
TAG = "unnest(CASE WHEN len(tags) > 0 THEN tags ELSE [NULL::VARCHAR] END)"
# DuckDB's ``tags`` as Druid returns a multi-value string: null, the one value, or the array's JSON text.
TAG_TEXT = "CASE WHEN len(tags) = 1 THEN tags[1] WHEN len(tags) > 1 THEN to_json(tags)::VARCHAR END"


PLANNING = [
    Case(
        "timeboundary_min_max",
        "SELECT MIN(__time), MAX(__time) FROM ads",
        "MIN and MAX of __time together plan to a timeBoundary query without bound",
    ),
    Case(
        "timeboundary_max_filtered",
        "SELECT MAX(__time) AS latest FROM ads WHERE country = 'US'",
        "MAX(__time) alone is a timeBoundary with bound maxTime, keeping the WHERE filter",
    ),
    Case(
        "timeboundary_min_druid_schema",
        "SELECT MIN(__time) AS earliest FROM druid.ads",
        "MIN(__time) on druid.ads is a timeBoundary with bound minTime",
        duckdb="SELECT MIN(__time) AS earliest FROM ads",
    ),
    Case(
        "timeboundary_empty_result",
        "SELECT MAX(__time) FROM ads WHERE country = 'nowhere'",
        "a timeBoundary over no rows answers one null row",
    ),
    Case(
        "timeboundary_planning_disabled",
        "SELECT MAX(__time) FROM ads",
        "enableTimeBoundaryPlanning false plans MAX(__time) as a timeseries with longMax",
        context={"enableTimeBoundaryPlanning": False},
    ),
    Case(
        "timeseries_grand_total",
        "SELECT COUNT(*), SUM(clicks) FROM ads",
        "aggregates without GROUP BY are a timeseries with granularity all",
    ),
    Case(
        "timeseries_group_by_empty_set",
        "SELECT SUM(clicks) FROM ads GROUP BY ()",
        "GROUP BY () is the grand total timeseries",
    ),
    Case(
        "timeseries_floor_day",
        "SELECT FLOOR(__time TO DAY) AS d, SUM(impressions) AS imp FROM ads GROUP BY 1",
        "grouping on FLOOR(__time TO DAY) is a timeseries with granularity P1D",
        duckdb="SELECT date_trunc('day', __time) AS d, SUM(impressions) AS imp FROM ads GROUP BY 1",
    ),
    Case(
        "timeseries_time_floor_ordered",
        "SELECT TIME_FLOOR(__time, 'P1D') AS d, COUNT(*), SUM(clicks) FROM ads GROUP BY 1 ORDER BY 1",
        "TIME_FLOOR(__time, 'P1D') ordered by time is a timeseries",
        duckdb="SELECT date_trunc('day', __time) AS d, COUNT(*), SUM(clicks) FROM ads GROUP BY 1 ORDER BY 1",
        ordered=True,
    ),
    Case(
        "timeseries_time_floor_desc_limit",
        "SELECT TIME_FLOOR(__time, 'PT6H') AS t, SUM(impressions) FROM ads GROUP BY 1 ORDER BY 1 DESC LIMIT 5",
        "a 6-hour timeseries ordered descending with a limit: descending and limit on the query",
        duckdb="SELECT time_bucket(INTERVAL '6 hours', __time) AS t, SUM(impressions) FROM ads GROUP BY 1 ORDER BY 1 DESC LIMIT 5",
        ordered=True,
    ),
    Case(
        "timeseries_date_trunc_hour_filtered",
        "SELECT DATE_TRUNC('hour', __time) AS h, COUNT(*) AS n FROM ads WHERE device = 'tablet' GROUP BY 1 ORDER BY h",
        "DATE_TRUNC('hour', __time) is a PT1H timeseries; empty hours are skipped",
        duckdb="SELECT date_trunc('hour', __time) AS h, COUNT(*) AS n FROM ads WHERE device = 'tablet' GROUP BY 1 ORDER BY h",
        ordered=True,
    ),
    Case(
        "timeseries_floor_hour_gap",
        "SELECT FLOOR(__time TO HOUR) AS h, COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-02 08:00:00' AND __time < TIMESTAMP '2020-01-02 16:00:00' GROUP BY 1 ORDER BY 1",
        "hours without rows (the day-2 gap) produce no timeseries rows",
        duckdb="SELECT date_trunc('hour', __time) AS h, COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-02 08:00:00' AND __time < TIMESTAMP '2020-01-02 16:00:00' GROUP BY 1 ORDER BY 1",
        ordered=True,
    ),
    Case(
        "topn_country_by_clicks",
        "SELECT country, SUM(clicks) AS c FROM ads GROUP BY country ORDER BY c DESC LIMIT 3",
        "one dimension ordered by an aggregate with LIMIT is a topN on a numeric metric",
        ordered=True,
    ),
    Case(
        "topn_ascending_by_ordinal",
        "SELECT country, SUM(clicks) FROM ads GROUP BY 1 ORDER BY 2 LIMIT 3",
        "an ascending topN uses an inverted numeric metric",
        ordered=True,
    ),
    Case(
        "topn_by_dimension_descending",
        "SELECT device, COUNT(*) FROM ads GROUP BY device ORDER BY device DESC LIMIT 2",
        "a topN ordered by its dimension uses an inverted lexicographic dimension metric",
        ordered=True,
    ),
    Case(
        "topn_numeric_dimension",
        "SELECT age, COUNT(*) FROM ads GROUP BY age ORDER BY age LIMIT 5",
        "a topN on a LONG dimension ordered by it uses numeric dimension ordering (nulls first)",
        ordered=True,
    ),
    Case(
        "topn_ratio_post_aggregate",
        "SELECT campaign, SUM(clicks) * 1.0 / SUM(impressions) AS ctr FROM ads GROUP BY 1 ORDER BY ctr DESC LIMIT 5",
        "a topN ordered by a ratio of aggregates orders on an expression post-aggregator",
        ordered=True,
    ),
    Case(
        "topn_filtered_campaigns",
        "SELECT campaign, SUM(impressions) AS imp FROM ads WHERE device = 'phone' GROUP BY campaign ORDER BY imp DESC LIMIT 4",
        "a topN with a filter",
        ordered=True,
    ),
    Case(
        "topn_on_expression",
        "SELECT UPPER(device) AS d, MAX(bid) AS top_bid FROM ads GROUP BY 1 ORDER BY top_bid DESC LIMIT 2",
        "a topN on an expression dimension (a virtual column)",
        ordered=True,
    ),
    Case(
        "groupby_approximate_topn_off",
        "SELECT country, SUM(clicks) FROM ads GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
        "useApproximateTopN false plans the same statement as a groupBy with a limitSpec",
        context={"useApproximateTopN": False},
        ordered=True,
    ),
    Case(
        "groupby_topn_shape_with_offset",
        "SELECT country, COUNT(*) FROM ads GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 2 OFFSET 1",
        "an OFFSET rules out topN: groupBy with limit and offset",
        ordered=True,
    ),
    Case(
        "groupby_topn_shape_with_having",
        "SELECT country, COUNT(*) FROM ads GROUP BY 1 HAVING COUNT(*) > 50 ORDER BY 2 DESC LIMIT 2",
        "a HAVING rules out topN: groupBy with a having filter",
        ordered=True,
    ),
    Case(
        "groupby_ordered_without_limit",
        "SELECT country, COUNT(*) FROM ads GROUP BY 1 ORDER BY 2 DESC, 1",
        "ORDER BY an aggregate without LIMIT is a groupBy",
        ordered=True,
    ),
    Case(
        "groupby_two_dimensions",
        "SELECT country, device, SUM(clicks) AS c, COUNT(*) AS n FROM ads GROUP BY country, device",
        "two grouping keys are a groupBy with two dimensions",
    ),
    Case(
        "groupby_time_floor_and_dimension",
        "SELECT FLOOR(__time TO DAY) AS d, device, SUM(clicks) AS c FROM ads GROUP BY 1, 2 ORDER BY d DESC, c DESC",
        "a floor of __time with another key: groupBy over the day, ordered by both",
        duckdb="SELECT date_trunc('day', __time) AS d, device, SUM(clicks) AS c FROM ads GROUP BY 1, 2 ORDER BY d DESC, c DESC",
        ordered=True,
    ),
    Case(
        "groupby_distinct",
        "SELECT DISTINCT device, country FROM ads",
        "SELECT DISTINCT is a groupBy without aggregations",
    ),
    Case(
        "scan_ordered_by_time_limit",
        "SELECT __time, country, clicks FROM ads ORDER BY __time LIMIT 5",
        "a scan ordered by __time ascending with a limit",
        ordered=True,
    ),
    Case(
        "scan_descending_time_limit_offset",
        "SELECT __time, country FROM ads WHERE device = 'tablet' ORDER BY __time DESC LIMIT 5 OFFSET 10",
        "a descending scan with a filter, LIMIT and OFFSET pushed into the query",
        ordered=True,
    ),
    Case(
        "scan_without_order",
        "SELECT country, promo, clicks FROM ads WHERE age = 33",
        "a scan without ORDER BY or LIMIT",
    ),
    Case(
        "scan_offset_without_limit",
        "SELECT __time, clicks FROM ads ORDER BY __time OFFSET 596",
        "an OFFSET without LIMIT on a time-ordered scan",
        ordered=True,
    ),
    Case(
        "scan_limit_zero",
        "SELECT clicks FROM ads WHERE country = 'DE' LIMIT 0",
        "LIMIT 0 answers no rows",
    ),
    Case(
        "scan_virtual_columns",
        "SELECT __time, clicks * 2 + 1 AS c2, impressions / 7 AS imp7, spend * 2 AS s2 FROM ads ORDER BY __time LIMIT 10",
        "expressions in a scan become virtual columns; BIGINT division truncates",
        duckdb="SELECT __time, clicks * 2 + 1 AS c2, impressions // 7 AS imp7, spend * 2 AS s2 FROM ads ORDER BY __time LIMIT 10",
        ordered=True,
    ),
    Case(
        "error_scan_order_by_other_column",
        "SELECT __time, clicks FROM ads WHERE country = 'DE' ORDER BY clicks DESC, __time LIMIT 5",
        "a scan orders by __time only, as in Druid: ORDER BY another column is refused",
        duckdb=NO,
        error=True,
    ),
    Case(
        "scan_select_star",
        "SELECT * FROM ads WHERE age = 33 AND device = 'phone'",
        "SELECT * lists __time, the dimensions and the metrics (sketch columns left out)",
        duckdb=f"SELECT __time, country, device, {TAG_TEXT}, campaign, \"user\", promo, age, bid, 1, impressions, clicks, spend, ratio, impressions, impressions, spend, spend FROM ads WHERE age = 33 AND device = 'phone'",
    ),
    Case(
        "scan_time_and_filter",
        "SELECT __time, device FROM ads WHERE __time >= TIMESTAMP '2020-01-03 23:00:00' ORDER BY __time",
        "a scan over one hour: the time condition becomes the interval",
        ordered=True,
    ),
]

FILTERS = [
    Case("filter_equals_string", "SELECT COUNT(*) FROM ads WHERE country = 'US'", "= on a string"),
    Case(
        "filter_not_equals_string",
        "SELECT COUNT(*) FROM ads WHERE country <> 'US'",
        "<> on a string excludes nulls (three-valued logic)",
    ),
    Case("filter_equals_empty_string", "SELECT COUNT(*) FROM ads WHERE country = ''", "'' is not null"),
    Case(
        "filter_equals_unicode",
        "SELECT COUNT(*), SUM(clicks) FROM ads WHERE country = '日本'",
        "a unicode value",
    ),
    Case("filter_greater_long", "SELECT COUNT(*) FROM ads WHERE age > 40", "> on a LONG dimension"),
    Case(
        "filter_range_long",
        "SELECT COUNT(*) FROM ads WHERE age >= 40 AND age < 50",
        ">= and < on one column: an AND of two range filters",
    ),
    Case("filter_less_equal_long", "SELECT COUNT(*) FROM ads WHERE age <= 20", "<= on a LONG dimension"),
    Case("filter_greater_double", "SELECT COUNT(*) FROM ads WHERE bid > 2.5", "> on a DOUBLE dimension"),
    Case(
        "filter_double_against_integer",
        "SELECT COUNT(*) FROM ads WHERE bid >= 3",
        "a DOUBLE column against an integer literal",
    ),
    Case("filter_metric_column", "SELECT COUNT(*) FROM ads WHERE clicks > 5", "a filter on a metric column"),
    Case(
        "filter_string_less_than",
        "SELECT COUNT(*) FROM ads WHERE campaign < 'c3'",
        "< on a string compares lexicographically",
    ),
    Case(
        "filter_between_double", "SELECT COUNT(*) FROM ads WHERE bid BETWEEN 1 AND 2", "BETWEEN is inclusive"
    ),
    Case(
        "filter_not_between",
        "SELECT COUNT(*) FROM ads WHERE bid NOT BETWEEN 1 AND 2",
        "NOT BETWEEN excludes nulls",
    ),
    Case(
        "filter_between_strings",
        "SELECT COUNT(*) FROM ads WHERE device BETWEEN 'd' AND 'q'",
        "BETWEEN on strings",
    ),
    Case(
        "filter_in_strings",
        "SELECT COUNT(*) FROM ads WHERE country IN ('US', 'FR', '日本')",
        "IN is one set filter (in), never ORs",
    ),
    Case(
        "filter_in_longs",
        "SELECT COUNT(*) FROM ads WHERE age IN (20, 30, 40)",
        "IN over a LONG dimension",
    ),
    Case(
        "filter_not_in",
        "SELECT COUNT(*) FROM ads WHERE country NOT IN ('US', 'FR')",
        "NOT IN excludes nulls",
    ),
    Case(
        "filter_or_equalities_same_column",
        "SELECT COUNT(*) FROM ads WHERE device = 'phone' OR device = 'tablet'",
        "ORed equalities on one column",
    ),
    Case(
        "filter_or_across_columns",
        "SELECT COUNT(*) FROM ads WHERE country = 'US' OR country = 'DE' OR device = 'tablet'",
        "OR across columns",
    ),
    Case(
        "filter_and_or_not",
        "SELECT COUNT(*) FROM ads WHERE (country = 'US' OR device = 'tablet') AND NOT (age > 50) AND promo IS NOT NULL",
        "AND, OR and NOT nested",
    ),
    Case(
        "filter_not_of_or",
        "SELECT COUNT(*) FROM ads WHERE NOT (country IN ('US') OR age > 50)",
        "NOT over an OR (De Morgan with nulls)",
    ),
    Case(
        "filter_not_greater", "SELECT COUNT(*) FROM ads WHERE NOT (age > 30)", "NOT of a range excludes nulls"
    ),
    Case("filter_like_prefix", "SELECT COUNT(*) FROM ads WHERE promo LIKE '50%'", "LIKE with a prefix"),
    Case(
        "filter_like_escape",
        r"SELECT COUNT(*) FROM ads WHERE promo LIKE '%\_%' ESCAPE '\'",
        "LIKE with ESCAPE matches a literal underscore",
    ),
    Case(
        "filter_like_escaped_percent",
        "SELECT promo, COUNT(*) FROM ads WHERE promo LIKE '%!%%' ESCAPE '!' GROUP BY promo",
        "LIKE with ESCAPE matches a literal percent sign",
    ),
    Case(
        "filter_like_single_char",
        "SELECT promo, COUNT(*) FROM ads WHERE promo LIKE '50_off' GROUP BY promo",
        "_ matches any one character",
    ),
    Case("filter_not_like", "SELECT COUNT(*) FROM ads WHERE promo NOT LIKE 'S%'", "NOT LIKE excludes nulls"),
    Case("filter_is_null", "SELECT COUNT(*) FROM ads WHERE country IS NULL", "IS NULL on a string"),
    Case(
        "filter_is_not_null_long",
        "SELECT COUNT(*), SUM(age) FROM ads WHERE age IS NOT NULL",
        "IS NOT NULL on a LONG dimension",
    ),
    Case(
        "filter_expression_lower",
        "SELECT COUNT(*) FROM ads WHERE LOWER(country) = 'us'",
        "a function of a column is an expression filter",
    ),
    Case(
        "filter_arithmetic",
        "SELECT COUNT(*) FROM ads WHERE clicks * 10 > impressions",
        "a comparison of two expressions",
    ),
    Case(
        "filter_column_equals_column",
        "SELECT COUNT(*) FROM ads WHERE country = device",
        "a comparison of two columns",
    ),
    Case(
        "filter_upper_like",
        "SELECT COUNT(*) FROM ads WHERE UPPER(device) LIKE 'PH%'",
        "LIKE on an expression",
    ),
    Case(
        "filter_in_and_range",
        "SELECT device, SUM(clicks) FROM ads WHERE country IN ('FR', 'DE') AND bid < 2 GROUP BY device",
        "IN together with a range under GROUP BY",
    ),
    Case(
        "filter_on_scan_or_null",
        "SELECT __time, age FROM ads WHERE age = 18 OR (age IS NULL AND country = 'DE' AND clicks = 9) ORDER BY __time",
        "an OR with IS NULL on a scan",
        ordered=True,
    ),
]

TIME_FILTERS = [
    Case(
        "time_filter_from",
        "SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-02 00:00:00'",
        "__time >= a TIMESTAMP literal becomes an interval from it",
    ),
    Case(
        "time_filter_range",
        "SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-01 06:00:00' AND __time < TIMESTAMP '2020-01-02 18:30:00'",
        "a half-open range on __time becomes one interval",
    ),
    Case(
        "time_filter_or_ranges",
        "SELECT COUNT(*) FROM ads WHERE __time < TIMESTAMP '2020-01-01 12:00:00' OR __time >= TIMESTAMP '2020-01-03 12:00:00'",
        "ORed time ranges become two intervals",
    ),
    Case(
        "time_filter_between",
        "SELECT COUNT(*) FROM ads WHERE __time BETWEEN TIMESTAMP '2020-01-02 00:00:00' AND TIMESTAMP '2020-01-02 23:59:59'",
        "BETWEEN on __time includes its upper bound's millisecond",
    ),
    Case(
        "time_filter_floor_equals",
        "SELECT COUNT(*) FROM ads WHERE FLOOR(__time TO DAY) = TIMESTAMP '2020-01-02 00:00:00'",
        "FLOOR(__time TO DAY) = a day becomes that day's interval",
        duckdb="SELECT COUNT(*) FROM ads WHERE date_trunc('day', __time) = TIMESTAMP '2020-01-02 00:00:00'",
    ),
    Case(
        "time_filter_in_interval",
        "SELECT COUNT(*) FROM ads WHERE TIME_IN_INTERVAL(__time, '2020-01-02T06:00:00Z/2020-01-03T00:00:00Z')",
        "TIME_IN_INTERVAL becomes the interval",
        duckdb="SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-02 06:00:00' AND __time < TIMESTAMP '2020-01-03 00:00:00'",
    ),
    Case(
        "time_filter_string_literal",
        "SELECT COUNT(*) FROM ads WHERE __time < '2020-01-01 08:00:00'",
        "a string compared with __time is read as a TIMESTAMP",
        duckdb="SELECT COUNT(*) FROM ads WHERE __time < TIMESTAMP '2020-01-01 08:00:00'",
    ),
    Case(
        "time_filter_and_dimension",
        "SELECT device, COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-03 00:00:00' AND country = 'FR' GROUP BY device",
        "a time range and a dimension filter: interval plus filter",
    ),
    Case(
        "time_filter_not_range",
        "SELECT COUNT(*) FROM ads WHERE NOT (__time >= TIMESTAMP '2020-01-02 00:00:00' AND __time < TIMESTAMP '2020-01-03 00:00:00')",
        "NOT of a time range becomes the intervals around it",
    ),
    Case(
        "time_filter_current_timestamp",
        "SELECT COUNT(*) FROM ads WHERE __time >= CURRENT_TIMESTAMP - INTERVAL '1' DAY",
        "CURRENT_TIMESTAMP fixed by sqlCurrentTimestamp, minus an INTERVAL, as an interval",
        duckdb="SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-03 12:00:00' - INTERVAL 1 DAY",
        context=NOW,
    ),
    Case(
        "time_filter_equals_instant",
        "SELECT __time, country FROM ads WHERE __time = TIMESTAMP '2020-01-01 00:06:28.513'",
        "__time = an instant becomes a one-millisecond interval",
    ),
    Case(
        "time_filter_empty_range",
        "SELECT COUNT(*), SUM(clicks) FROM ads WHERE __time >= TIMESTAMP '2021-01-01 00:00:00'",
        "a time range without data: a count of 0 and a null sum",
    ),
    Case(
        "time_filter_millis",
        "SELECT COUNT(*) FROM ads WHERE __time < MILLIS_TO_TIMESTAMP(1577880000000)",
        "MILLIS_TO_TIMESTAMP of a literal on __time",
        duckdb="SELECT COUNT(*) FROM ads WHERE __time < epoch_ms(1577880000000)",
    ),
]

NULLS = [
    Case(
        "nulls_not_equals_and_not",
        "SELECT COUNT(*) FILTER (WHERE country <> 'US'), COUNT(*) FILTER (WHERE NOT (country = 'US')), COUNT(*) FILTER (WHERE country IS NULL) FROM ads",
        "<> and NOT = both exclude nulls",
    ),
    Case(
        "nulls_not_in_with_null",
        "SELECT COUNT(*) FROM ads WHERE country NOT IN ('US', NULL)",
        "NOT IN a list holding NULL matches nothing",
    ),
    Case(
        "nulls_in_with_null",
        "SELECT COUNT(*) FROM ads WHERE country IN ('US', NULL)",
        "IN a list holding NULL matches the other values",
    ),
    Case(
        "nulls_negated_comparison_with_null",
        "SELECT COUNT(*) FROM ads WHERE NOT (country = NULL) OR NOT (age > NULL AND clicks > 8)",
        "a comparison with NULL is unknown, and so is its negation: only NOT (clicks > 8) can pass",
    ),
    Case(
        "nulls_negations_in_filter_clauses",
        "SELECT COUNT(*) FILTER (WHERE NOT (age BETWEEN NULL AND 30)), COUNT(*) FILTER (WHERE NOT (country NOT IN ('US', NULL))), COUNT(*) FILTER (WHERE NOT (promo LIKE NULL OR device = 'phone')) FROM ads",
        "negated BETWEEN with a NULL bound, NOT IN with a NULL and LIKE NULL in FILTER clauses",
    ),
    Case(
        "nulls_comparison_result",
        "SELECT __time, age, age > 30 AS older, age + 1 AS next, country = 'US' AS us FROM ads WHERE age IS NULL OR country IS NULL ORDER BY __time LIMIT 12",
        "comparisons and arithmetic on null are null",
        ordered=True,
    ),
    Case(
        "nulls_count_column",
        "SELECT COUNT(*), COUNT(age), COUNT(bid), COUNT(country), COUNT(promo), COUNT(1) FROM ads",
        "COUNT(col) counts non-null values ('' counts)",
    ),
    Case(
        "nulls_aggregates_over_nothing",
        "SELECT SUM(spend), MIN(bid), MAX(age), AVG(age), COUNT(*) FROM ads WHERE country = 'nowhere'",
        "aggregates over no rows: null, and 0 for COUNT",
    ),
    Case(
        "nulls_group_key",
        "SELECT country, COUNT(*) AS n FROM ads GROUP BY country ORDER BY country",
        "null and '' are separate groups; null sorts first",
        ordered=True,
    ),
    Case(
        "nulls_or_is_null",
        "SELECT COUNT(*) FROM ads WHERE age <> 30 OR age IS NULL",
        "<> together with IS NULL covers every row but one value",
    ),
    Case(
        "nulls_functions",
        "SELECT age + 1, CONCAT(country, 'x'), COALESCE(country, 'none'), NULLIF('', ''), UPPER(NULL) FROM ads WHERE age IS NULL AND country IS NULL",
        "null in arithmetic, CONCAT and UPPER; COALESCE and NULLIF",
        duckdb="SELECT age + 1, country || 'x', COALESCE(country, 'none'), NULLIF('', ''), UPPER(NULL) FROM ads WHERE age IS NULL AND country IS NULL",
    ),
    Case(
        "nulls_is_not_true_precedence",
        "SELECT COUNT(*) FROM ads WHERE bid * 2 > 5 IS NOT TRUE",
        "IS NOT TRUE binds more loosely than a comparison, as in Calcite: (bid * 2 > 5) IS NOT TRUE",
        duckdb="SELECT COUNT(*) FROM ads WHERE (bid * 2 > 5) IS NOT TRUE",
    ),
    Case(
        "nulls_comparison_is_null_precedence",
        "SELECT COUNT(*) FROM ads WHERE country = 'US' IS NULL",
        "a comparison IS NULL is null exactly where an operand is: (country = 'US') IS NULL",
        duckdb="SELECT COUNT(*) FROM ads WHERE (country = 'US') IS NULL",
    ),
    Case(
        "nulls_sum_of_nullable",
        "SELECT device, SUM(spend), AVG(bid), COUNT(spend) FROM ads GROUP BY device",
        "SUM and AVG skip nulls",
    ),
    Case(
        "nulls_order_desc",
        "SELECT age, COUNT(*) FROM ads GROUP BY age ORDER BY age DESC LIMIT 3",
        "nulls sort last in descending order",
        ordered=True,
    ),
    Case(
        "nulls_filter_on_expression",
        "SELECT COUNT(*) FROM ads WHERE NOT (LOWER(country) = 'us')",
        "NOT of an expression filter excludes nulls",
    ),
]

GROUPING = [
    Case(
        "group_by_name",
        "SELECT device, COUNT(*) AS n, SUM(impressions) AS imp FROM ads GROUP BY device",
        "GROUP BY a column name",
    ),
    Case(
        "group_by_ordinals",
        "SELECT campaign, device, MAX(clicks) FROM ads GROUP BY 1, 2",
        "GROUP BY ordinals",
    ),
    Case(
        "group_by_expression",
        "SELECT UPPER(device) AS d, COUNT(*) FROM ads GROUP BY UPPER(device)",
        "GROUP BY an expression (virtual column dimension)",
    ),
    Case(
        "group_by_alias",
        "SELECT SUBSTRING(campaign, 1, 2) AS prefix, COUNT(*) FROM ads GROUP BY prefix",
        "GROUP BY an output alias",
    ),
    Case(
        "group_by_case_bucket",
        "SELECT CASE WHEN age < 30 THEN 'young' WHEN age < 50 THEN 'mid' ELSE 'old' END AS bucket, COUNT(*) FROM ads GROUP BY 1",
        "GROUP BY a searched CASE",
    ),
    Case(
        "group_by_coalesce",
        "SELECT COALESCE(country, 'none') AS c, COUNT(*) FROM ads GROUP BY 1",
        "GROUP BY COALESCE folds nulls into a value",
    ),
    Case(
        "group_by_concat_pipes",
        "SELECT country || '/' || device AS k, COUNT(*) FROM ads GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
        "GROUP BY a || concatenation",
        ordered=True,
    ),
    Case(
        "group_by_numeric_expression",
        "SELECT clicks % 3 AS m, SUM(impressions) FROM ads GROUP BY clicks % 3 ORDER BY m",
        "GROUP BY an arithmetic expression",
        ordered=True,
    ),
    Case(
        "group_by_double_dimension",
        "SELECT bid, COUNT(*) FROM ads WHERE bid > 4.9 GROUP BY bid ORDER BY bid",
        "GROUP BY a DOUBLE dimension",
        ordered=True,
    ),
    Case(
        "group_by_not_selected",
        "SELECT SUM(clicks) AS c FROM ads GROUP BY device ORDER BY c",
        "grouping keys need not be selected",
        ordered=True,
    ),
    Case(
        "group_by_empty_result",
        "SELECT device, COUNT(*) FROM ads WHERE country = 'nowhere' GROUP BY device",
        "GROUP BY over no rows answers no rows",
    ),
    Case(
        "having_count",
        "SELECT country, device, COUNT(*) AS n FROM ads GROUP BY 1, 2 HAVING COUNT(*) > 20 ORDER BY n DESC, country, device",
        "HAVING on COUNT(*)",
        ordered=True,
    ),
    Case(
        "having_and_dimension",
        "SELECT device, SUM(clicks) FROM ads GROUP BY device HAVING SUM(clicks) > 600 AND device <> 'desktop'",
        "HAVING on an aggregate and a grouping key",
    ),
    Case(
        "having_aggregate_not_selected",
        "SELECT campaign FROM ads GROUP BY campaign HAVING MAX(bid) > 4.9",
        "HAVING on an aggregate that is not selected",
    ),
    Case(
        "having_alias",
        "SELECT campaign, AVG(clicks) AS a FROM ads GROUP BY campaign HAVING AVG(clicks) < 4.5 ORDER BY a",
        "HAVING on AVG with ORDER BY its alias",
        ordered=True,
    ),
    Case(
        "having_timeseries",
        "SELECT FLOOR(__time TO HOUR) AS h, COUNT(*) FROM ads GROUP BY 1 HAVING COUNT(*) > 8 ORDER BY h DESC",
        "HAVING on a grouping by hour",
        duckdb="SELECT date_trunc('hour', __time) AS h, COUNT(*) FROM ads GROUP BY 1 HAVING COUNT(*) > 8 ORDER BY h DESC",
        ordered=True,
    ),
    Case(
        "order_by_two_keys",
        "SELECT campaign, device, SUM(impressions) AS imp FROM ads GROUP BY 1, 2 ORDER BY campaign DESC, imp LIMIT 6",
        "ORDER BY a key descending then an aggregate",
        ordered=True,
    ),
    Case(
        "order_by_expression_over_aggregates",
        "SELECT device, SUM(clicks) AS c, SUM(impressions) AS i FROM ads GROUP BY device ORDER BY SUM(clicks) * 1.0 / SUM(impressions) DESC",
        "ORDER BY an expression of aggregates that is not selected",
        ordered=True,
    ),
    Case(
        "order_by_nulls_first",
        "SELECT LOWER(country) AS c, SUM(clicks) FROM ads GROUP BY country ORDER BY c NULLS FIRST",
        "ORDER BY with NULLS FIRST over an expression of a key",
        ordered=True,
    ),
    # No case for an explicit NULLS LAST (ascending) or NULLS FIRST (descending): grove ignores it and
    # orders nulls as the smallest values, as the native limitSpec does.
    Case(
        "limit_offset_group_by",
        "SELECT country, device, COUNT(*) AS n FROM ads GROUP BY 1, 2 ORDER BY n DESC, country, device LIMIT 4 OFFSET 3",
        "LIMIT with OFFSET on a groupBy",
        ordered=True,
    ),
    Case(
        "limit_offset_timeseries",
        "SELECT FLOOR(__time TO HOUR) AS h, COUNT(*) FROM ads GROUP BY 1 ORDER BY h DESC LIMIT 3 OFFSET 2",
        "LIMIT with OFFSET on a grouping by hour",
        duckdb="SELECT date_trunc('hour', __time) AS h, COUNT(*) FROM ads GROUP BY 1 ORDER BY h DESC LIMIT 3 OFFSET 2",
        ordered=True,
    ),
    Case(
        "limit_offset_scan",
        "SELECT __time, campaign FROM ads ORDER BY __time LIMIT 3 OFFSET 597",
        "OFFSET past most rows of a scan",
        ordered=True,
    ),
    Case(
        "order_by_string_key_limit",
        "SELECT campaign, COUNT(*) FROM ads GROUP BY 1 ORDER BY campaign DESC LIMIT 4",
        "strings order lexicographically (c9 before c12 descending)",
        ordered=True,
    ),
]

AGGREGATES = [
    Case(
        "agg_per_group",
        "SELECT country, COUNT(*), SUM(clicks), MIN(impressions), MAX(spend), AVG(clicks), AVG(spend) FROM ads GROUP BY country",
        "COUNT, SUM, MIN, MAX and AVG per group",
    ),
    Case(
        "agg_sum_types",
        "SELECT SUM(clicks), SUM(spend), SUM(ratio), SUM(bid), SUM(age) FROM ads",
        "SUM of BIGINT, DOUBLE and FLOAT columns",
    ),
    Case(
        "agg_min_max_types",
        "SELECT MIN(age), MAX(age), MIN(bid), MAX(bid), MIN(ratio), MAX(spend) FROM ads",
        "MIN and MAX keep their argument's type",
    ),
    Case(
        "agg_min_max_time_grouped",
        "SELECT device, MIN(__time), MAX(__time) FROM ads GROUP BY device",
        "MIN/MAX of __time per group are TIMESTAMP aggregates of a groupBy",
    ),
    Case(
        "agg_avg",
        "SELECT AVG(age), AVG(bid), AVG(clicks), AVG(ratio) FROM ads",
        "AVG of several types is a DOUBLE (sum / count)",
    ),
    Case(
        "agg_count_distinct_approximate",
        'SELECT COUNT(DISTINCT "user"), COUNT(DISTINCT country) FROM ads',
        "COUNT(DISTINCT) is approximate by default (a cardinality aggregator)",
        duckdb=NO,
    ),
    Case(
        "agg_count_distinct_exact",
        'SELECT COUNT(DISTINCT "user"), COUNT(*) FROM ads',
        "useApproximateCountDistinct false counts distinct values exactly",
        context=EXACT,
    ),
    Case(
        "agg_count_distinct_exact_grouped",
        'SELECT device, COUNT(DISTINCT "user") AS u, SUM(clicks), COUNT(*) FROM ads GROUP BY device ORDER BY u DESC, device',
        "exact COUNT(DISTINCT) per group, with other aggregates",
        context=EXACT,
        ordered=True,
    ),
    Case(
        "agg_count_distinct_exact_by_day",
        'SELECT FLOOR(__time TO DAY) AS d, COUNT(DISTINCT "user"), MAX(clicks) FROM ads GROUP BY 1',
        "exact COUNT(DISTINCT) per day",
        duckdb="SELECT date_trunc('day', __time) AS d, COUNT(DISTINCT \"user\"), MAX(clicks) FROM ads GROUP BY 1",
        context=EXACT,
    ),
    Case(
        "agg_count_distinct_exact_filtered",
        "SELECT COUNT(DISTINCT country) FROM ads WHERE age > 65",
        "exact COUNT(DISTINCT) skips nulls",
        context=EXACT,
    ),
    Case(
        "agg_approx_count_distinct",
        'SELECT APPROX_COUNT_DISTINCT("user"), APPROX_COUNT_DISTINCT(campaign) FROM ads',
        "APPROX_COUNT_DISTINCT of a string column",
        duckdb=NO,
    ),
    Case(
        "agg_approx_count_distinct_ds_hll",
        'SELECT device, APPROX_COUNT_DISTINCT_DS_HLL("user") FROM ads GROUP BY device',
        "APPROX_COUNT_DISTINCT_DS_HLL builds an HLL sketch per group",
        duckdb=NO,
    ),
    Case(
        "agg_approx_count_distinct_ds_theta",
        'SELECT APPROX_COUNT_DISTINCT_DS_THETA("user"), APPROX_COUNT_DISTINCT_DS_THETA(campaign) FROM ads',
        "APPROX_COUNT_DISTINCT_DS_THETA builds theta sketches",
        duckdb=NO,
    ),
    Case(
        "agg_sketch_columns",
        "SELECT APPROX_COUNT_DISTINCT_DS_HLL(users_hll), APPROX_COUNT_DISTINCT(users_hu), APPROX_COUNT_DISTINCT_DS_THETA(users_theta) FROM ads",
        "distinct counts merging the ingested HLL, hyperUnique and theta sketch columns",
        duckdb=NO,
    ),
    Case(
        "agg_earliest_latest",
        "SELECT EARLIEST(device), LATEST(device), EARLIEST(clicks), LATEST(impressions) FROM ads",
        "EARLIEST and LATEST by __time",
        duckdb="SELECT arg_min(device, __time), arg_max(device, __time), arg_min(clicks, __time), arg_max(impressions, __time) FROM ads",
    ),
    Case(
        "agg_earliest_latest_grouped",
        "SELECT device, EARLIEST(campaign, 16), LATEST(clicks) FROM ads GROUP BY device",
        "EARLIEST with a max size and LATEST per group",
        duckdb="SELECT device, arg_min(campaign, __time), arg_max(clicks, __time) FROM ads GROUP BY device",
    ),
    Case(
        "agg_earliest_by",
        "SELECT country, EARLIEST_BY(device, MILLIS_TO_TIMESTAMP(TIMESTAMP_TO_MILLIS(__time))) FROM ads WHERE country IN ('DE', 'FR') GROUP BY country",
        "EARLIEST_BY with an explicit time expression",
        duckdb="SELECT country, arg_min(device, __time) FROM ads WHERE country IN ('DE', 'FR') GROUP BY country",
    ),
    Case(
        "agg_any_value",
        "SELECT country, ANY_VALUE(country) AS same, ANY_VALUE(age) FILTER (WHERE age = 40) AS forty FROM ads GROUP BY country",
        "ANY_VALUE of values that are the same within each group",
        duckdb="SELECT country, ANY_VALUE(country) AS same, MAX(age) FILTER (WHERE age = 40) AS forty FROM ads GROUP BY country",
    ),
    Case(
        "agg_filter_clause",
        "SELECT device, SUM(clicks) FILTER (WHERE country = 'US'), COUNT(*) FILTER (WHERE age > 30), COUNT(*) FROM ads GROUP BY device",
        "FILTER (WHERE ...) becomes filtered aggregators",
    ),
    Case(
        "agg_filter_clause_grand_total",
        "SELECT COUNT(*) FILTER (WHERE promo LIKE '5%'), AVG(bid) FILTER (WHERE device = 'phone'), MAX(clicks) FILTER (WHERE country IS NULL) FROM ads",
        "FILTER on COUNT, AVG and MAX without GROUP BY",
    ),
    Case(
        "agg_filter_clause_no_match",
        "SELECT SUM(clicks) FILTER (WHERE country = 'nowhere'), COUNT(*) FILTER (WHERE country = 'nowhere') FROM ads",
        "a filtered SUM matching nothing is null, a filtered COUNT 0",
    ),
    Case(
        "agg_of_expression",
        "SELECT SUM(clicks * 2), MAX(impressions - clicks), MIN(bid * 10), SUM(CASE WHEN device = 'phone' THEN 1 ELSE 0 END) FROM ads",
        "aggregates of expressions",
    ),
    Case(
        "agg_ratio_of_aggregates",
        "SELECT SUM(clicks) / COUNT(*), SUM(clicks) * 1.0 / SUM(impressions), MAX(age) - MIN(age) FROM ads",
        "post-aggregation arithmetic: BIGINT division truncates",
        duckdb="SELECT SUM(clicks) // COUNT(*), SUM(clicks) * 1.0 / SUM(impressions), MAX(age) - MIN(age) FROM ads",
    ),
    Case(
        "agg_count_metric_column",
        'SELECT SUM("count"), SUM(imp_min), MAX(imp_max), MIN(spend_min), MAX(spend_max) FROM ads',
        "the count and min/max metric columns ingested without rollup",
        duckdb="SELECT COUNT(*), SUM(impressions), MAX(impressions), MIN(spend), MAX(spend) FROM ads",
    ),
    Case(
        "agg_scalar_over_aggregate",
        "SELECT device, ROUND(AVG(bid), 2) AS avg_bid, ABS(MIN(clicks) - MAX(clicks)) AS span FROM ads GROUP BY device",
        "functions of aggregates",
    ),
    Case(
        "agg_count_distinct_with_filter",
        'SELECT country, COUNT(DISTINCT "user") FILTER (WHERE clicks > 5) AS u FROM ads GROUP BY country',
        "approximate COUNT(DISTINCT) with a FILTER clause (grove refuses the exact one)",
        duckdb=NO,
    ),
]

SCALARS = [
    Case(
        "scalar_case_simple_and_searched",
        "SELECT __time, CASE device WHEN 'phone' THEN 1 WHEN 'tablet' THEN 2 ELSE 3 END AS code, CASE WHEN bid IS NULL THEN 'none' WHEN bid > 2.5 THEN 'high' ELSE 'low' END AS level FROM ads ORDER BY __time LIMIT 20",
        "simple and searched CASE",
        ordered=True,
    ),
    Case(
        "scalar_case_without_else",
        "SELECT __time, CASE WHEN clicks > 5 THEN 'hi' END FROM ads ORDER BY __time LIMIT 10",
        "CASE without ELSE is null when nothing matches",
        ordered=True,
    ),
    Case(
        "scalar_coalesce_nvl_nullif",
        "SELECT __time, COALESCE(age, 0), NVL(bid, -1.0), NULLIF(country, ''), COALESCE(promo, country, 'none'), IFNULL(spend, 0) FROM ads ORDER BY __time DESC LIMIT 30",
        "COALESCE, NVL, IFNULL and NULLIF",
        duckdb="SELECT __time, COALESCE(age, 0), COALESCE(bid, -1.0), NULLIF(country, ''), COALESCE(promo, country, 'none'), COALESCE(spend, 0) FROM ads ORDER BY __time DESC LIMIT 30",
        ordered=True,
    ),
    Case(
        "scalar_nvl2",
        "SELECT __time, NVL2(age, 'known', 'unknown') FROM ads ORDER BY __time LIMIT 15",
        "NVL2",
        duckdb="SELECT __time, CASE WHEN age IS NOT NULL THEN 'known' ELSE 'unknown' END FROM ads ORDER BY __time LIMIT 15",
        ordered=True,
    ),
    Case(
        "scalar_cast_numbers",
        "SELECT __time, CAST(age AS VARCHAR), CAST(clicks AS DOUBLE) / 4, CAST(bid AS BIGINT), CAST(age AS DOUBLE) FROM ads ORDER BY __time LIMIT 20",
        "CAST between BIGINT, DOUBLE and VARCHAR (DOUBLE to BIGINT truncates)",
        duckdb="SELECT __time, CAST(age AS VARCHAR), CAST(clicks AS DOUBLE) / 4, CAST(trunc(bid) AS BIGINT), CAST(age AS DOUBLE) FROM ads ORDER BY __time LIMIT 20",
        ordered=True,
    ),
    Case(
        "scalar_cast_strings",
        "SELECT CAST('12' AS BIGINT) + 1, CAST('2.5' AS DOUBLE) * 2, CAST(7 AS VARCHAR) || 'x', CAST('abc' AS BIGINT)",
        "CAST of strings to numbers; an unparseable string is null",
        duckdb="SELECT CAST('12' AS BIGINT) + 1, CAST('2.5' AS DOUBLE) * 2, CAST(7 AS VARCHAR) || 'x', TRY_CAST('abc' AS BIGINT)",
    ),
    Case(
        "scalar_cast_time",
        "SELECT __time, CAST(__time AS VARCHAR), CAST(__time AS BIGINT), CAST(__time AS DATE) FROM ads ORDER BY __time LIMIT 5",
        "CAST of __time to VARCHAR, BIGINT (millis) and DATE",
        duckdb="SELECT __time, strftime(__time, '%Y-%m-%d %H:%M:%S'), epoch_ms(__time), date_trunc('day', __time) FROM ads ORDER BY __time LIMIT 5",
        ordered=True,
    ),
    Case(
        "scalar_cast_string_to_timestamp",
        "SELECT COUNT(*) FROM ads WHERE __time >= CAST('2020-01-03 06:00:00' AS TIMESTAMP)",
        "CAST of a string to TIMESTAMP in a time condition",
    ),
    Case(
        "scalar_arithmetic",
        "SELECT __time, clicks + impressions, impressions - clicks * 3, -clicks, clicks % 4, impressions / 8, impressions / 8.0, (clicks + 1) * (age - 20) FROM ads ORDER BY __time LIMIT 20",
        "+, -, *, /, %, unary minus and precedence on BIGINTs and doubles",
        duckdb="SELECT __time, clicks + impressions, impressions - clicks * 3, -clicks, clicks % 4, impressions // 8, impressions / 8.0, (clicks + 1) * (age - 20) FROM ads ORDER BY __time LIMIT 20",
        ordered=True,
    ),
    Case(
        "scalar_arithmetic_doubles",
        "SELECT __time, bid * 2, bid + spend, spend / 3, bid - 0.5 FROM ads ORDER BY __time DESC LIMIT 15",
        "DOUBLE arithmetic with nulls",
        ordered=True,
    ),
    Case(
        "scalar_constants",
        "SELECT 1 + 2 * 3, 'x' || 'y', 7 / 2, 7.0 / 2, -7 / 2, 2 - 3 - 4",
        "constant expressions without FROM",
        duckdb="SELECT 1 + 2 * 3, 'x' || 'y', 7 // 2, 7.0 / 2, -7 // 2, 2 - 3 - 4",
    ),
    Case(
        "scalar_math_functions",
        "SELECT __time, ABS(clicks - 5), MOD(impressions, 7), POWER(clicks, 2), SQRT(clicks), FLOOR(bid), CEIL(bid), ROUND(bid, 1), TRUNCATE(bid, 1) FROM ads ORDER BY __time LIMIT 20",
        "ABS, MOD, POWER, SQRT, FLOOR, CEIL, ROUND and TRUNCATE",
        duckdb="SELECT __time, ABS(clicks - 5), impressions % 7, POWER(clicks, 2), SQRT(clicks), FLOOR(bid), CEIL(bid), ROUND(bid::DECIMAL(10, 2), 1)::DOUBLE, TRUNC(bid * 10) / 10 FROM ads ORDER BY __time LIMIT 20",
        ordered=True,
    ),
    # No case divides by a column that is zero in rows a WHERE excludes (``impressions / clicks ... WHERE
    # clicks > 0``): grove evaluates the expression on every row of the segment and fails with "Division
    # by zero in long operator [/]" (grove.query.expression.operators.check_divisor).
    Case(
        "scalar_exp_log",
        "SELECT EXP(1), LN(10), LOG10(1000), SIN(0), COS(0)",
        "EXP, LN, LOG10, SIN and COS",
    ),
    Case(
        "scalar_greatest_least",
        "SELECT __time, GREATEST(clicks, 5), LEAST(age, 30), GREATEST(bid, 1.5) FROM ads ORDER BY __time LIMIT 20",
        "GREATEST and LEAST",
        ordered=True,
    ),
    Case(
        "scalar_boolean_outputs",
        "SELECT __time, age IS NULL, country = 'US', clicks > 5 AND device = 'phone', promo LIKE '5%' FROM ads ORDER BY __time LIMIT 20",
        "boolean expressions as outputs",
        ordered=True,
    ),
    Case(
        "string_concat",
        "SELECT __time, CONCAT(country, '-', device), country || ':' || campaign, CONCAT(campaign, CAST(clicks AS VARCHAR)) FROM ads ORDER BY __time DESC LIMIT 20",
        "CONCAT and || (null when an argument is null)",
        duckdb="SELECT __time, country || '-' || device, country || ':' || campaign, campaign || CAST(clicks AS VARCHAR) FROM ads ORDER BY __time DESC LIMIT 20",
        ordered=True,
    ),
    Case(
        "string_functions",
        "SELECT __time, SUBSTRING(promo, 2, 3), SUBSTRING(campaign, 2), LENGTH(promo), UPPER(promo), LOWER(country), TRIM(' ' || device || ' '), REPLACE(promo, '0', 'o'), STRPOS(promo, 'f') FROM ads ORDER BY __time LIMIT 30",
        "SUBSTRING, LENGTH, UPPER, LOWER, TRIM, REPLACE and STRPOS",
        ordered=True,
    ),
    Case(
        "string_trim_variants",
        "SELECT TRIM(BOTH 'x' FROM 'xxaxx'), TRIM(LEADING 'x' FROM 'xxaxx'), TRIM(TRAILING 'x' FROM 'xxaxx'), LTRIM('  a '), RTRIM(' a  '), BTRIM('  a  ')",
        "TRIM with BOTH/LEADING/TRAILING, LTRIM, RTRIM and BTRIM",
        duckdb="SELECT trim('xxaxx', 'x'), ltrim('xxaxx', 'x'), rtrim('xxaxx', 'x'), ltrim('  a '), rtrim(' a  '), trim('  a  ')",
    ),
    Case(
        "string_pad_left_right",
        "SELECT campaign, LPAD(campaign, 4, '0'), RPAD(campaign, 5, '.'), LEFT(campaign, 2), RIGHT(campaign, 1), REVERSE(campaign) FROM ads GROUP BY campaign",
        "LPAD, RPAD, LEFT, RIGHT and REVERSE over grouping keys",
    ),
    Case(
        "string_position_and_length",
        "SELECT promo, POSITION('f' IN promo), CHAR_LENGTH(promo), STRLEN(promo) FROM ads GROUP BY promo",
        "POSITION ... IN, CHAR_LENGTH and STRLEN",
        duckdb="SELECT promo, strpos(promo, 'f'), length(promo), length(promo) FROM ads GROUP BY promo",
    ),
    Case(
        "string_regexp",
        "SELECT promo, REGEXP_EXTRACT(promo, '[0-9]+'), REGEXP_LIKE(promo, '^5') FROM ads GROUP BY promo",
        "REGEXP_EXTRACT and REGEXP_LIKE (false for null, as in Druid)",
        duckdb="SELECT promo, NULLIF(regexp_extract(promo, '[0-9]+'), ''), COALESCE(regexp_matches(promo, '^5'), false) FROM ads GROUP BY promo",
    ),
    Case(
        "string_contains",
        "SELECT promo, CONTAINS_STRING(promo, 'off'), ICONTAINS_STRING(promo, 'SALE') FROM ads GROUP BY promo",
        "CONTAINS_STRING and ICONTAINS_STRING (false for null, as in Druid)",
        duckdb="SELECT promo, COALESCE(contains(promo, 'off'), false), COALESCE(contains(lower(promo), 'sale'), false) FROM ads GROUP BY promo",
    ),
    Case(
        "string_substring_past_end",
        "SELECT __time, promo, SUBSTRING(promo, 5), SUBSTRING(promo, 10, 2) FROM ads ORDER BY __time LIMIT 10",
        "SUBSTRING from past the end of a string is null, as in Druid's SQL-compatible mode",
        duckdb="SELECT __time, promo, NULLIF(substring(promo, 5), ''), NULLIF(substring(promo, 10, 2), '') FROM ads ORDER BY __time LIMIT 10",
        ordered=True,
    ),
    Case(
        "string_filter_on_substring",
        "SELECT SUBSTRING(campaign, 2, 1) AS digit, COUNT(*) FROM ads WHERE LENGTH(campaign) = 3 GROUP BY 1",
        "SUBSTRING and LENGTH in a grouping and a filter",
    ),
    Case(
        "string_upper_lower_grouped",
        "SELECT LOWER(device) AS d, UPPER(COALESCE(country, '?')) AS c, COUNT(*) FROM ads GROUP BY 1, 2",
        "LOWER and UPPER over grouping keys",
    ),
    Case(
        "string_replace_filter",
        "SELECT REPLACE(promo, '_', ' ') AS p, COUNT(*) FROM ads WHERE promo IS NOT NULL GROUP BY 1",
        "REPLACE in a grouping key",
    ),
    Case(
        "string_textcat",
        "SELECT TEXTCAT(device, campaign) AS k, COUNT(*) FROM ads WHERE campaign = 'c1' GROUP BY 1",
        "TEXTCAT",
        duckdb="SELECT device || campaign AS k, COUNT(*) FROM ads WHERE campaign = 'c1' GROUP BY 1",
    ),
    Case(
        "lookup_unknown",
        "SELECT LOOKUP(country, 'countries') FROM ads",
        "LOOKUP names a lookup that is not registered",
        duckdb=NO,
        error=True,
    ),
    Case(
        "lookup_group",
        "SELECT LOOKUP(country, 'country_names') AS name, SUM(clicks) AS clicks FROM ads GROUP BY 1",
        "LOOKUP of a registered map in a grouping key: a missing key is null, a key mapped to '' stays ''",
        duckdb="SELECT n.v AS name, SUM(clicks) AS clicks FROM ads LEFT JOIN country_names n ON ads.country = n.k "
        "GROUP BY 1",
    ),
    Case(
        "lookup_replace_missing",
        "SELECT LOOKUP(country, 'country_names', 'other') AS name, COUNT(*) AS n FROM ads GROUP BY 1",
        "LOOKUP with replaceMissingValueWith: missing keys (and null) take the replacement",
        duckdb="SELECT COALESCE(n.v, 'other') AS name, COUNT(*) AS n FROM ads LEFT JOIN country_names n "
        "ON ads.country = n.k GROUP BY 1",
    ),
    Case(
        "lookup_in_where",
        "SELECT COUNT(*) FROM ads WHERE LOOKUP(country, 'country_names') = 'France'",
        "LOOKUP in WHERE becomes an expression filter",
        duckdb="SELECT COUNT(*) FROM ads JOIN country_names n ON ads.country = n.k WHERE n.v = 'France'",
    ),
    Case(
        "lookup_table",
        "SELECT k, v FROM lookup.country_names",
        "a registered lookup is a table in schema lookup",
        duckdb="SELECT k, v FROM country_names",
    ),
]

DIVISION = [
    Case(
        "division_div_function",
        "SELECT DIV(impressions, 7) AS d, impressions FROM ads WHERE impressions IS NOT NULL ORDER BY __time LIMIT 5",
        "DIV is Druid's integer-division function, not MySQL's operator",
        duckdb="SELECT impressions // 7 AS d, impressions FROM ads WHERE impressions IS NOT NULL ORDER BY __time LIMIT 5",
        ordered=True,
    ),
    Case(
        "division_guarded_by_where",
        "SELECT country, SUM(impressions / clicks) AS per_click FROM ads WHERE clicks > 0 GROUP BY country",
        "long division by zero only fails on rows the filter selects: WHERE clicks > 0 makes it safe",
        duckdb="SELECT country, SUM(impressions // clicks) AS per_click FROM ads WHERE clicks > 0 GROUP BY country",
    ),
    Case(
        "division_guarded_by_case",
        "SELECT SUM(CASE WHEN clicks > 0 THEN impressions / clicks ELSE 0 END) AS per_click FROM ads",
        "a CASE branch that divides by zero on rows that take another branch is no error",
        duckdb="SELECT SUM(CASE WHEN clicks > 0 THEN impressions // clicks ELSE 0 END) AS per_click FROM ads",
    ),
    Case(
        "division_by_zero_read",
        "SELECT SUM(impressions / clicks) FROM ads",
        "a long division by zero on a row the query reads fails, as in Druid",
        duckdb=NO,
        error=True,
    ),
]


TIME_FUNCTIONS = [
    Case(
        "time_floor_ceil_shift",
        "SELECT __time, TIME_FLOOR(__time, 'PT1H'), TIME_CEIL(__time, 'PT1H'), TIME_SHIFT(__time, 'PT1H', 2), TIME_SHIFT(__time, 'P1D', -1) FROM ads ORDER BY __time LIMIT 10",
        "TIME_FLOOR, TIME_CEIL and TIME_SHIFT forwards and back",
        duckdb="SELECT __time, date_trunc('hour', __time), date_trunc('hour', __time) + INTERVAL 1 HOUR, __time + INTERVAL 2 HOUR, __time - INTERVAL 1 DAY FROM ads ORDER BY __time LIMIT 10",
        ordered=True,
    ),
    Case(
        "time_floor_week_month",
        "SELECT TIME_FLOOR(__time, 'P1W') AS w, FLOOR(__time TO MONTH) AS m, DATE_TRUNC('year', __time) AS y, COUNT(*) FROM ads GROUP BY 1, 2, 3",
        "weeks start on Monday; month and year floors",
        duckdb="SELECT date_trunc('week', __time) AS w, date_trunc('month', __time) AS m, date_trunc('year', __time) AS y, COUNT(*) FROM ads GROUP BY 1, 2, 3",
    ),
    Case(
        "time_floor_with_origin",
        "SELECT TIME_FLOOR(__time, 'PT12H', TIMESTAMP '2020-01-01 06:00:00') AS t, COUNT(*) FROM ads GROUP BY 1 ORDER BY 1",
        "TIME_FLOOR with an origin",
        duckdb="SELECT time_bucket(INTERVAL '12 hours', __time, TIMESTAMP '2020-01-01 06:00:00') AS t, COUNT(*) FROM ads GROUP BY 1 ORDER BY 1",
        ordered=True,
    ),
    Case(
        "time_floor_with_time_zone",
        "SELECT TIME_FLOOR(__time, 'P1D', NULL, 'America/New_York') AS d, COUNT(*) FROM ads GROUP BY 1 ORDER BY 1",
        "TIME_FLOOR by days in a time zone",
        duckdb="SELECT date_trunc('day', __time - INTERVAL 5 HOUR) + INTERVAL 5 HOUR AS d, COUNT(*) FROM ads GROUP BY 1 ORDER BY 1",
        ordered=True,
    ),
    Case(
        "time_ceil_group",
        "SELECT CEIL(__time TO DAY), COUNT(*) FROM ads WHERE country = 'FR' GROUP BY 1",
        "CEIL(__time TO DAY)",
        duckdb="SELECT date_trunc('day', __time) + CASE WHEN date_trunc('day', __time) = __time THEN INTERVAL 0 DAY ELSE INTERVAL 1 DAY END, COUNT(*) FROM ads WHERE country = 'FR' GROUP BY 1",
    ),
    Case(
        "time_ceil_hour_scan",
        "SELECT __time, CEIL(__time TO HOUR), TIME_CEIL(__time, 'P1D') FROM ads ORDER BY __time DESC LIMIT 5",
        "CEIL(__time TO HOUR) and TIME_CEIL by day",
        duckdb="SELECT __time, date_trunc('hour', __time) + INTERVAL 1 HOUR, date_trunc('day', __time) + INTERVAL 1 DAY FROM ads ORDER BY __time DESC LIMIT 5",
        ordered=True,
    ),
    Case(
        "time_floor_minutes",
        "SELECT FLOOR(__time TO MINUTE) AS m, DATE_TRUNC('second', __time) AS s FROM ads ORDER BY __time LIMIT 5",
        "FLOOR to MINUTE and DATE_TRUNC to second",
        duckdb="SELECT date_trunc('minute', __time) AS m, date_trunc('second', __time) AS s FROM ads ORDER BY __time LIMIT 5",
        ordered=True,
    ),
    Case(
        "time_extract_units",
        "SELECT __time, EXTRACT(YEAR FROM __time), EXTRACT(MONTH FROM __time), EXTRACT(DAY FROM __time), EXTRACT(HOUR FROM __time), EXTRACT(MINUTE FROM __time), EXTRACT(SECOND FROM __time), EXTRACT(DOW FROM __time), EXTRACT(DOY FROM __time) FROM ads ORDER BY __time LIMIT 10",
        "EXTRACT of calendar fields (DOW: Monday is 1)",
        duckdb="SELECT __time, year(__time), month(__time), day(__time), hour(__time), minute(__time), second(__time), isodow(__time), dayofyear(__time) FROM ads ORDER BY __time LIMIT 10",
        ordered=True,
    ),
    Case(
        "time_extract_epoch_week_quarter",
        "SELECT __time, EXTRACT(EPOCH FROM __time), EXTRACT(WEEK FROM __time), EXTRACT(QUARTER FROM __time) FROM ads ORDER BY __time DESC LIMIT 5",
        "EXTRACT of EPOCH (seconds), WEEK and QUARTER",
        duckdb="SELECT __time, epoch_ms(__time) // 1000, week(__time), quarter(__time) FROM ads ORDER BY __time DESC LIMIT 5",
        ordered=True,
    ),
    Case(
        "time_extract_group",
        "SELECT EXTRACT(HOUR FROM __time) AS h, COUNT(*) FROM ads GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
        "GROUP BY EXTRACT(HOUR)",
        duckdb="SELECT extract(hour FROM __time) AS h, COUNT(*) FROM ads GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
        ordered=True,
    ),
    Case(
        "time_extract_function",
        "SELECT TIME_EXTRACT(__time, 'DAY') AS d, TIME_EXTRACT(__time, 'DOW') AS dow, COUNT(*) FROM ads GROUP BY 1, 2",
        "TIME_EXTRACT of DAY and DOW",
        duckdb="SELECT extract(day FROM __time) AS d, isodow(__time) AS dow, COUNT(*) FROM ads GROUP BY 1, 2",
    ),
    Case(
        "time_extract_in_time_zone",
        "SELECT TIME_EXTRACT(__time, 'HOUR', 'Asia/Kolkata') AS h, COUNT(*) FROM ads WHERE __time < TIMESTAMP '2020-01-01 03:00:00' GROUP BY 1",
        "TIME_EXTRACT in a time zone (+05:30)",
        duckdb="SELECT hour(__time + INTERVAL 330 MINUTE) AS h, COUNT(*) FROM ads WHERE __time < TIMESTAMP '2020-01-01 03:00:00' GROUP BY 1",
    ),
    Case(
        "time_filter_on_extract",
        "SELECT COUNT(*) FROM ads WHERE EXTRACT(HOUR FROM __time) BETWEEN 9 AND 17",
        "EXTRACT(HOUR) in a filter",
        duckdb="SELECT COUNT(*) FROM ads WHERE hour(__time) BETWEEN 9 AND 17",
    ),
    Case(
        "time_format_patterns",
        "SELECT TIME_FORMAT(__time, 'yyyy-MM-dd'), MAX(clicks) FROM ads GROUP BY 1",
        "TIME_FORMAT with a date pattern as a grouping key",
        duckdb="SELECT strftime(__time, '%Y-%m-%d'), MAX(clicks) FROM ads GROUP BY 1",
    ),
    Case(
        "time_format_default_and_hours",
        "SELECT __time, TIME_FORMAT(__time), TIME_FORMAT(__time, 'yyyy-MM-dd HH:mm') FROM ads ORDER BY __time LIMIT 5",
        "TIME_FORMAT without a pattern (ISO) and with hours and minutes",
        duckdb="SELECT __time, strftime(__time, '%Y-%m-%dT%H:%M:%S.%gZ'), strftime(__time, '%Y-%m-%d %H:%M') FROM ads ORDER BY __time LIMIT 5",
        ordered=True,
    ),
    Case(
        "time_format_joda_names",
        "SELECT TIME_FORMAT(__time, 'EEE, d MMM yyyy', 'Asia/Tokyo') AS day, COUNT(*) FROM ads GROUP BY 1",
        "TIME_FORMAT with Joda day and month names in a time zone",
        duckdb=NO,
    ),
    Case(
        "time_format_quoted_literal_zone",
        "SELECT TIME_FORMAT(__time, 'yyyy-MM-dd''T''HH', 'America/New_York') AS h FROM ads ORDER BY __time LIMIT 3",
        "TIME_FORMAT with a quoted literal in a time zone",
        duckdb="SELECT strftime(__time - INTERVAL 5 HOUR, '%Y-%m-%dT%H') AS h FROM ads ORDER BY __time LIMIT 3",
        ordered=True,
    ),
    Case(
        "time_parse",
        "SELECT TIME_PARSE('2020-01-02 03:04:05'), TIME_PARSE('2020-01-02T03:04:05Z'), TIME_PARSE('02/01/2020', 'dd/MM/yyyy'), TIME_PARSE('20200102', 'yyyyMMdd'), TIME_PARSE('junk')",
        "TIME_PARSE of ISO text, with patterns, and of junk (null)",
        duckdb="SELECT TIMESTAMP '2020-01-02 03:04:05', TIMESTAMP '2020-01-02 03:04:05', TIMESTAMP '2020-01-02 00:00:00', TIMESTAMP '2020-01-02 00:00:00', NULL",
    ),
    Case(
        "time_parse_filter",
        "SELECT COUNT(*) FROM ads WHERE __time >= TIME_PARSE('2020-01-03T20:00:00Z')",
        "TIME_PARSE of a literal in a time condition",
        duckdb="SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-03 20:00:00'",
    ),
    Case(
        "time_millis_round_trip",
        "SELECT __time, TIMESTAMP_TO_MILLIS(__time), MILLIS_TO_TIMESTAMP(TIMESTAMP_TO_MILLIS(__time) - 1000) FROM ads ORDER BY __time DESC LIMIT 3",
        "TIMESTAMP_TO_MILLIS and MILLIS_TO_TIMESTAMP",
        duckdb="SELECT __time, epoch_ms(__time), __time - INTERVAL 1 SECOND FROM ads ORDER BY __time DESC LIMIT 3",
        ordered=True,
    ),
    Case(
        "time_interval_arithmetic",
        "SELECT __time, __time + INTERVAL '1' DAY, __time - INTERVAL '90' MINUTE, __time - INTERVAL '1' MONTH, TIMESTAMPADD(HOUR, 3, __time) FROM ads ORDER BY __time LIMIT 5",
        "TIMESTAMP plus and minus INTERVALs, TIMESTAMPADD",
        duckdb="SELECT __time, __time + INTERVAL 1 DAY, __time - INTERVAL 90 MINUTE, __time - INTERVAL 1 MONTH, __time + INTERVAL 3 HOUR FROM ads ORDER BY __time LIMIT 5",
        ordered=True,
    ),
    Case(
        "time_literals",
        "SELECT TIMESTAMP '2020-01-02 00:00:00', TIMESTAMP '2020-01-02', DATE '2020-01-02', TIMESTAMP '2020-01-02 03:04:05.678'",
        "TIMESTAMP and DATE literals",
        duckdb="SELECT TIMESTAMP '2020-01-02 00:00:00', TIMESTAMP '2020-01-02', TIMESTAMP '2020-01-02', TIMESTAMP '2020-01-02 03:04:05.678'",
    ),
    Case(
        "time_current_timestamp",
        "SELECT CURRENT_TIMESTAMP, CURRENT_TIMESTAMP - INTERVAL '2' HOUR, CURRENT_DATE, NOW()",
        "CURRENT_TIMESTAMP, CURRENT_DATE and NOW fixed by sqlCurrentTimestamp",
        duckdb="SELECT TIMESTAMP '2020-01-03 12:00:00', TIMESTAMP '2020-01-03 10:00:00', TIMESTAMP '2020-01-03 00:00:00', TIMESTAMP '2020-01-03 12:00:00'",
        context=NOW,
    ),
    Case(
        "time_current_timestamp_floor",
        "SELECT FLOOR(__time TO DAY) AS d, COUNT(*) FROM ads WHERE __time >= TIME_FLOOR(CURRENT_TIMESTAMP, 'P1D') - INTERVAL '1' DAY GROUP BY 1",
        "a time range from a floor of CURRENT_TIMESTAMP",
        duckdb="SELECT date_trunc('day', __time) AS d, COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-02 00:00:00' GROUP BY 1",
        context=NOW,
    ),
    Case(
        "time_sql_time_zone",
        "SELECT FLOOR(__time TO DAY) AS d, COUNT(*) FROM ads GROUP BY 1 ORDER BY 1",
        "sqlTimeZone: days floored in Los Angeles and written with its offset",
        duckdb=NO,
        context={"sqlTimeZone": "America/Los_Angeles"},
        ordered=True,
    ),
    Case(
        "time_sql_time_zone_literal",
        "SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-03 00:00:00'",
        "sqlTimeZone: a TIMESTAMP literal is read in the statement's zone",
        duckdb="SELECT COUNT(*) FROM ads WHERE __time >= TIMESTAMP '2020-01-03 05:00:00'",
        context={"sqlTimeZone": "America/New_York"},
    ),
    Case(
        "time_of_aggregate",
        "SELECT TIME_FLOOR(MAX(__time), 'P1D'), TIMESTAMP_TO_MILLIS(MIN(__time)) FROM ads",
        "time functions over MIN/MAX of __time",
        duckdb="SELECT date_trunc('day', MAX(__time)), epoch_ms(MIN(__time)) FROM ads",
    ),
]

SUBQUERIES = [
    Case(
        "subquery_aggregate_of_groups",
        "SELECT AVG(c), MAX(c), COUNT(*) FROM (SELECT country, COUNT(*) AS c FROM ads GROUP BY country)",
        "aggregates over a grouped subquery in FROM",
    ),
    Case(
        "subquery_filter_on_aggregate",
        "SELECT * FROM (SELECT device, SUM(clicks) AS s FROM ads GROUP BY device) t WHERE t.s > 800 ORDER BY s DESC",
        "a WHERE over a grouped subquery's aggregate",
        ordered=True,
    ),
    Case(
        "subquery_regroup_scan",
        "SELECT d, COUNT(*) FROM (SELECT device AS d, country FROM ads WHERE age > 30) GROUP BY d ORDER BY d",
        "GROUP BY over a filtered projection",
        ordered=True,
    ),
    Case(
        "subquery_cte",
        "WITH per AS (SELECT campaign, SUM(impressions) AS imp FROM ads GROUP BY campaign) SELECT COUNT(*), SUM(imp) FROM per WHERE imp > 2500",
        "a WITH query over grouped results",
    ),
    Case(
        "subquery_select_star_filtered",
        "SELECT COUNT(*), SUM(clicks) FROM (SELECT * FROM ads WHERE country = 'US')",
        "aggregates over SELECT * with a filter",
    ),
    Case(
        "subquery_daily_average",
        "SELECT device, AVG(daily) AS avg_daily, MAX(daily) FROM (SELECT FLOOR(__time TO DAY) AS d, device, SUM(clicks) AS daily FROM ads GROUP BY 1, 2) GROUP BY device",
        "a daily grouping regrouped by device",
        duckdb="SELECT device, AVG(daily) AS avg_daily, MAX(daily) FROM (SELECT date_trunc('day', __time) AS d, device, SUM(clicks) AS daily FROM ads GROUP BY 1, 2) GROUP BY device",
    ),
    Case(
        "subquery_topn_then_order",
        "SELECT campaign, c FROM (SELECT campaign, SUM(clicks) AS c FROM ads GROUP BY campaign ORDER BY c DESC LIMIT 5) ORDER BY campaign",
        "an inner topN reordered outside",
        ordered=True,
    ),
    Case(
        "subquery_expression_outside",
        "SELECT country, n * 100 / total AS pct FROM (SELECT country, COUNT(*) AS n, 600 AS total FROM ads GROUP BY country) WHERE country IS NOT NULL",
        "expressions over a grouped subquery",
        duckdb="SELECT country, n * 100 // total AS pct FROM (SELECT country, COUNT(*) AS n, 600 AS total FROM ads GROUP BY country) WHERE country IS NOT NULL",
    ),
    Case(
        "union_all_totals",
        "SELECT 'phones' AS k, COUNT(*) AS n FROM ads WHERE device = 'phone' UNION ALL SELECT 'all', COUNT(*) FROM ads",
        "UNION ALL of two totals",
    ),
    Case(
        "union_all_ordered_limit",
        "SELECT device AS k, COUNT(*) AS n FROM ads GROUP BY 1 UNION ALL SELECT country, COUNT(*) FROM ads WHERE country = 'US' GROUP BY 1 ORDER BY n DESC LIMIT 3",
        "UNION ALL of groupings with ORDER BY and LIMIT over the union",
        ordered=True,
    ),
    Case(
        "union_all_three_branches",
        "SELECT MIN(__time) AS t FROM ads UNION ALL SELECT MAX(__time) FROM ads UNION ALL SELECT MAX(__time) FROM ads WHERE device = 'tablet'",
        "UNION ALL of three timeBoundary queries",
    ),
    Case(
        "union_all_scans",
        "SELECT __time, clicks FROM ads WHERE country = '日本' AND clicks = 9 UNION ALL SELECT __time, clicks FROM ads WHERE country = '' AND clicks = 0",
        "UNION ALL of two scans",
    ),
]

MULTI_VALUE = [
    Case(
        "tags_group_by",
        "SELECT tags, COUNT(*) FROM ads GROUP BY tags",
        "GROUP BY a multi-value column counts each row once per value; no value is null",
        duckdb=f"SELECT t, COUNT(*) FROM (SELECT {TAG} AS t FROM ads) GROUP BY t",
    ),
    Case(
        "tags_filter_equals",
        "SELECT COUNT(*) FROM ads WHERE tags = 'a'",
        "= on a multi-value column matches rows holding the value",
        duckdb="SELECT COUNT(*) FROM ads WHERE list_contains(tags, 'a')",
    ),
    Case(
        "tags_filter_in",
        "SELECT COUNT(*) FROM ads WHERE tags IN ('a', 'c')",
        "IN on a multi-value column matches rows holding any of the values",
        duckdb="SELECT COUNT(*) FROM ads WHERE list_has_any(tags, ['a', 'c'])",
    ),
    Case(
        "tags_is_null",
        "SELECT COUNT(*) FROM ads WHERE tags IS NULL",
        "IS NULL on a multi-value column matches rows without values",
        duckdb="SELECT COUNT(*) FROM ads WHERE tags IS NULL OR len(tags) = 0",
    ),
    Case(
        "tags_group_by_filtered",
        "SELECT tags, SUM(clicks) FROM ads WHERE tags = 'a' GROUP BY tags",
        "a filter on one value keeps the other values of matching rows in the grouping",
        duckdb=f"SELECT t, SUM(clicks) FROM (SELECT {TAG} AS t, clicks FROM ads WHERE list_contains(tags, 'a')) GROUP BY t",
    ),
    Case(
        "tags_scan",
        "SELECT __time, tags FROM ads ORDER BY __time LIMIT 8",
        "a scan returns a multi-value column as null, its one value, or its array's JSON text",
        duckdb=f"SELECT __time, {TAG_TEXT} FROM ads ORDER BY __time LIMIT 8",
        ordered=True,
    ),
    Case(
        "tags_topn",
        "SELECT tags, COUNT(*) AS n FROM ads GROUP BY 1 ORDER BY n DESC LIMIT 2",
        "a topN on a multi-value column",
        duckdb=f"SELECT t, COUNT(*) AS n FROM (SELECT {TAG} AS t FROM ads) GROUP BY 1 ORDER BY n DESC LIMIT 2",
        ordered=True,
    ),
    Case(
        "tags_with_dimension",
        "SELECT device, tags, COUNT(*) FROM ads WHERE device = 'desktop' GROUP BY 1, 2",
        "a multi-value column beside another grouping key",
        duckdb=f"SELECT device, t, COUNT(*) FROM (SELECT device, {TAG} AS t FROM ads WHERE device = 'desktop') GROUP BY 1, 2",
    ),
    Case(
        "tags_not_in",
        "SELECT COUNT(*) FROM ads WHERE tags NOT IN ('a', 'b')",
        "NOT IN on a multi-value column: rows with values, none of them listed",
        duckdb="SELECT COUNT(*) FROM ads WHERE len(tags) > 0 AND NOT list_has_any(tags, ['a', 'b'])",
    ),
    Case(
        "tags_two_values",
        "SELECT COUNT(*) FROM ads WHERE tags = 'a' AND tags = 'c'",
        "two equalities on a multi-value column match rows holding both values",
        duckdb="SELECT COUNT(*) FROM ads WHERE list_contains(tags, 'a') AND list_contains(tags, 'c')",
    ),
    Case(
        "tags_like",
        "SELECT COUNT(*) FROM ads WHERE tags LIKE 'b%'",
        "LIKE on a multi-value column matches rows with a matching value",
        duckdb="SELECT COUNT(*) FROM ads WHERE len(list_filter(tags, lambda x: x LIKE 'b%')) > 0",
    ),
    Case(
        "tags_expression_having",
        "SELECT UPPER(tags) AS t, COUNT(*) FROM ads GROUP BY 1 HAVING COUNT(*) > 200",
        "an expression over a multi-value column is applied to each value; HAVING on the groups",
        duckdb=f"SELECT upper(t) AS t, COUNT(*) FROM (SELECT {TAG} AS t FROM ads) GROUP BY 1 HAVING COUNT(*) > 200",
    ),
    Case(
        "tags_not_equals",
        "SELECT COUNT(*) FROM ads WHERE NOT (tags = 'b')",
        "NOT = on a multi-value column matches rows with values none of which is the value",
        duckdb="SELECT COUNT(*) FROM ads WHERE len(tags) > 0 AND NOT list_contains(tags, 'b')",
    ),
]

CATALOG = [
    Case(
        "information_schema_schemata",
        "SELECT SCHEMA_NAME FROM INFORMATION_SCHEMA.SCHEMATA ORDER BY SCHEMA_NAME",
        "INFORMATION_SCHEMA.SCHEMATA lists druid, lookup, sys, view and itself",
        duckdb=NO,
        ordered=True,
    ),
    Case(
        "information_schema_tables",
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IS_JOINABLE, IS_BROADCAST FROM INFORMATION_SCHEMA.TABLES ORDER BY 1, 2",
        "INFORMATION_SCHEMA.TABLES lists the datasource and the system tables",
        duckdb=NO,
        ordered=True,
    ),
    Case(
        "information_schema_columns",
        "SELECT COLUMN_NAME, DATA_TYPE, ORDINAL_POSITION, IS_NULLABLE, JDBC_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'druid' AND TABLE_NAME = 'ads' ORDER BY ORDINAL_POSITION",
        "INFORMATION_SCHEMA.COLUMNS of the ads datasource",
        duckdb=NO,
        ordered=True,
    ),
    Case(
        "information_schema_columns_count",
        "SELECT TABLE_NAME, COUNT(*) FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'sys' GROUP BY TABLE_NAME",
        "aggregating INFORMATION_SCHEMA.COLUMNS",
        duckdb=NO,
    ),
    Case(
        "sys_segments",
        'SELECT segment_id, datasource, "start", "end", "size", num_rows, is_active, is_overshadowed FROM sys.segments ORDER BY segment_id',
        "sys.segments columns",
        duckdb=NO,
        ordered=True,
    ),
    Case(
        "sys_segments_aggregate",
        'SELECT datasource, COUNT(*) AS segments, SUM(num_rows) AS num_rows, SUM("size") FROM sys.segments WHERE is_active = 1 GROUP BY datasource',
        "aggregating sys.segments",
        duckdb=NO,
    ),
    Case(
        "sys_servers",
        "SELECT server, server_type, tier, curr_size, max_size FROM sys.servers ORDER BY server_type",
        "sys.servers columns",
        duckdb=NO,
        ordered=True,
    ),
    Case(
        "sys_tasks",
        "SELECT task_id, status, duration, error_msg FROM sys.tasks WHERE datasource = 'ads' ORDER BY created_time DESC",
        "sys.tasks columns",
        duckdb=NO,
        ordered=True,
    ),
    Case(
        "sys_tasks_failed",
        "SELECT COUNT(*) FROM sys.tasks WHERE status = 'FAILED'",
        "a filter on sys.tasks",
        duckdb=NO,
    ),
    Case(
        "table_quoted_and_aliased",
        'SELECT a.country, COUNT(*) FROM "druid"."ads" AS a WHERE a.country = \'FR\' GROUP BY a.country',
        "quoted druid.ads with a table alias",
        duckdb="SELECT a.country, COUNT(*) FROM ads AS a WHERE a.country = 'FR' GROUP BY a.country",
    ),
]

STATEMENTS = [
    Case(
        "explain_timeseries",
        "EXPLAIN PLAN FOR SELECT COUNT(*) FROM ads WHERE country = 'US'",
        "EXPLAIN PLAN FOR returns the native plan, resources and attributes as JSON text",
        duckdb=NO,
        context={"sqlQueryId": "golden"},
    ),
    Case(
        "explain_topn",
        "EXPLAIN PLAN FOR SELECT country, SUM(clicks) AS c FROM ads GROUP BY country ORDER BY c DESC LIMIT 3",
        "EXPLAIN PLAN FOR a topN",
        duckdb=NO,
        context={"sqlQueryId": "golden"},
    ),
    Case(
        "explain_union_all",
        "EXPLAIN PLAN FOR SELECT MIN(__time) FROM ads UNION ALL SELECT MAX(__time) FROM ads",
        "EXPLAIN PLAN FOR a UNION ALL lists both native queries",
        duckdb=NO,
        context={"sqlQueryId": "golden"},
    ),
    Case(
        "parameters_string",
        "SELECT COUNT(*) FROM ads WHERE country = ?",
        "a VARCHAR parameter",
        parameters=[{"type": "VARCHAR", "value": "US"}],
    ),
    Case(
        "parameters_numbers",
        "SELECT device, COUNT(*) FROM ads WHERE age > ? AND bid < ? GROUP BY device",
        "BIGINT and DOUBLE parameters",
        parameters=[{"type": "BIGINT", "value": 40}, {"type": "DOUBLE", "value": 2.5}],
    ),
    Case(
        "parameters_timestamp",
        "SELECT COUNT(*) FROM ads WHERE __time >= ? AND __time < ?",
        "TIMESTAMP parameters become the interval",
        duckdb="SELECT COUNT(*) FROM ads WHERE __time >= CAST(? AS TIMESTAMP) AND __time < CAST(? AS TIMESTAMP)",
        parameters=[
            {"type": "TIMESTAMP", "value": "2020-01-02 00:00:00"},
            {"type": "TIMESTAMP", "value": "2020-01-02 12:00:00"},
        ],
    ),
    Case(
        "parameters_in_list",
        "SELECT country, COUNT(*) FROM ads WHERE country IN (?, ?) GROUP BY country",
        "parameters in an IN list",
        parameters=[{"type": "VARCHAR", "value": "FR"}, {"type": "VARCHAR", "value": "DE"}],
    ),
    Case(
        "parameters_in_select_and_limit",
        "SELECT campaign, SUM(clicks) * ? AS c FROM ads GROUP BY campaign ORDER BY c DESC LIMIT 3",
        "a parameter in an output expression",
        parameters=[{"type": "INTEGER", "value": 10}],
        ordered=True,
    ),
    Case(
        "error_unknown_column",
        "SELECT foo FROM ads",
        "an unknown column is named",
        duckdb=NO,
        error=True,
    ),
    Case(
        "error_join",
        "SELECT a.country FROM ads a JOIN ads b ON a.country = b.country",
        "JOIN is refused, never answered wrongly",
        duckdb=NO,
        error=True,
    ),
    Case(
        "error_union_distinct",
        "SELECT country FROM ads UNION SELECT device FROM ads",
        "UNION without ALL is refused",
        duckdb=NO,
        error=True,
    ),
    Case(
        "error_not_grouped",
        "SELECT country, clicks FROM ads GROUP BY country",
        "an output that is neither grouped nor aggregated is named",
        duckdb=NO,
        error=True,
    ),
]

CASES: list[Case] = [
    *PLANNING,
    *FILTERS,
    *TIME_FILTERS,
    *NULLS,
    *GROUPING,
    *AGGREGATES,
    *SCALARS,
    *DIVISION,
    *TIME_FUNCTIONS,
    *SUBQUERIES,
    *MULTI_VALUE,
    *CATALOG,
    *STATEMENTS,
]
