"""The ads reporting workload of ``bench/query.py``: each query as grove's native JSON and as its peers' SQL
and Polars expressions, with the canonical form its answers are compared in.

A :class:`Workload` is derived once per data set (the largest advertiser, a mid-size one, the 1,000
advertisers of the IN filter, exact daily reach for checking estimates) and cached as JSON next to the
data. :func:`build_queries` turns it into :class:`BenchQuery` objects. Every engine's answer is reduced to
the same canonical rows — tuples of plain Python values, days as epoch milliseconds, sorted — so that
answers can be compared exactly (sums and counts) or within a tolerance (approximate reach).

Peers run each query in two variants: ``raw`` over the raw events (the same rows grove ingested) and
``hourly`` over a table pre-aggregated by hour and every dimension, the way grove's rollup stores them.
Reach cannot be pre-aggregated exactly, so its ``hourly`` variant is the ``raw`` query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

MS_PER_DAY = 86_400_000

RAW = "raw"
HOURLY = "hourly"
VARIANTS = (RAW, HOURLY)

RAW_TABLE = "events"
HOURLY_TABLE = "events_hourly"
DIMENSIONS = ("advertiser_id", "campaign_id", "ad_group_id", "pin_id", "country", "device", "placement")
LOW_CARDINALITY = ("country", "device", "placement")
SUMS = ("impressions", "clicks", "spend_micros")

# Allowed relative error of each engine's daily reach against the exact distinct count. grove's HLL
# (lgK 14, standard error 0.8%) and ClickHouse's ``uniq`` (adaptive sampling of up to 65,536 hashes)
# are held to 3%. DuckDB's ``approx_count_distinct`` and the ``approx_n_unique`` of Polars' default
# (streaming) engine are much coarser per group: measured on this data, standard errors of about 3.5%
# and 5%, single days off by up to 7% and 14%. A 3% bound would reject their correct answers, so they
# are held to about four of their standard errors, which still catches a wrong query (a wrong day, a
# missing filter) but not their estimator's noise.
REACH_TOLERANCE = {"grove": 0.03, "clickhouse": 0.03, "duckdb": 0.15, "polars": 0.20}

MID_SIZE_RANK = 100  # the "mid-size" advertiser is the 100th largest by events
IN_FILTER_ADVERTISERS = 1_000


# --------------------------------------------------------------------------------------------------------
# The workload's parameters, derived from the data.


@dataclass(frozen=True)
class Workload:
    """What the queries are about; derived from the data once and cached (see ``bench/query.py``)."""

    start_ms: int
    days: int
    largest: str
    largest_events: int
    mid: str
    mid_rank: int
    mid_events: int
    advertisers: tuple[str, ...]  # the advertisers of the IN filter, sorted
    advertiser_count: int
    exact_reach: dict[int, int]  # day start (ms) -> exact distinct users that day

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.days * MS_PER_DAY

    @property
    def week(self) -> tuple[int, int]:
        """The last seven days of the data ("last 7 days" in a report)."""
        return self.end_ms - 7 * MS_PER_DAY, self.end_ms

    @property
    def last_day(self) -> tuple[int, int]:
        """The last day of the data ("yesterday")."""
        return self.end_ms - MS_PER_DAY, self.end_ms

    @property
    def everything(self) -> tuple[int, int]:
        return self.start_ms, self.end_ms

    def to_json(self) -> dict[str, Any]:
        return {
            "start": iso(self.start_ms),
            "days": self.days,
            "largest": {"advertiser": self.largest, "events": self.largest_events},
            "mid": {"advertiser": self.mid, "rank": self.mid_rank, "events": self.mid_events},
            "inFilterAdvertisers": list(self.advertisers),
            "advertiserCount": self.advertiser_count,
            "exactReach": {iso(k): v for k, v in sorted(self.exact_reach.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Workload:
        return cls(
            start_ms=parse_iso(data["start"]),
            days=int(data["days"]),
            largest=data["largest"]["advertiser"],
            largest_events=int(data["largest"]["events"]),
            mid=data["mid"]["advertiser"],
            mid_rank=int(data["mid"]["rank"]),
            mid_events=int(data["mid"]["events"]),
            advertisers=tuple(data["inFilterAdvertisers"]),
            advertiser_count=int(data["advertiserCount"]),
            exact_reach={parse_iso(k): int(v) for k, v in data["exactReach"].items()},
        )


# --------------------------------------------------------------------------------------------------------
# Time helpers.


def iso(ms: int) -> str:
    """Druid's ISO form: ``2026-01-24T00:00:00.000Z``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_iso(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def sql_time(ms: int) -> str:
    """``2026-01-24 00:00:00``: a literal both DuckDB (TIMESTAMP) and ClickHouse (DateTime) read as UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def naive_utc(ms: int) -> datetime:
    """A naive datetime in UTC, to compare with Polars' naive ``Datetime`` column."""
    return datetime(1970, 1, 1) + timedelta(milliseconds=ms)


def interval(span: tuple[int, int]) -> str:
    return f"{iso(span[0])}/{iso(span[1])}"


def to_ms(value: Any) -> int:
    """A day or hour as returned by any engine -> epoch milliseconds (UTC)."""
    if isinstance(value, str):
        return parse_iso(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return round(value.timestamp() * 1000)
    if isinstance(value, int):
        return value * 1000 if abs(value) < 100_000_000_000 else value  # seconds or milliseconds
    raise TypeError(f"not a time: {value!r}")


# --------------------------------------------------------------------------------------------------------
# Queries.


@dataclass(frozen=True)
class BenchQuery:
    """One query of the workload in every engine's language.

    ``duckdb`` and ``clickhouse`` map a variant (``raw``/``hourly``) to SQL; ``polars`` maps a variant to
    a function from the variant's LazyFrame to the result's LazyFrame. Peer results are rows (tuples)
    in the column order of the SQL select list; ``canon_rows`` turns them, and ``canon_grove`` grove's
    JSON, into the canonical rows that are compared.
    """

    key: str
    number: int
    label: str  # short, for table rows
    title: str
    grove: dict[str, Any]
    duckdb: dict[str, str]
    clickhouse: dict[str, str]
    polars: dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]]
    canon_grove: Callable[[list[Any]], list[tuple[Any, ...]]]
    canon_rows: Callable[[Sequence[Sequence[Any]]], list[tuple[Any, ...]]]
    approximate: bool = False  # reach: compared with the exact counts within REACH_TOLERANCE
    advertiser_query: bool = False  # a target of at least 5x over the fastest peer
    raw_only: bool = False  # the hourly variant is the raw query (nothing can be pre-aggregated)
    notes: tuple[str, ...] = field(default=())


def _sum_aggs() -> list[dict[str, str]]:
    return [{"type": "longSum", "name": name, "fieldName": name} for name in SUMS]


def _sql_sums() -> str:
    return ", ".join(f"sum({name}) AS {name}" for name in SUMS)


def _pl_sums() -> list[pl.Expr]:
    return [pl.col(name).sum() for name in SUMS]


def _between(span: tuple[int, int]) -> str:
    return f"ts >= '{sql_time(span[0])}' AND ts < '{sql_time(span[1])}'"


def _pl_between(span: tuple[int, int]) -> pl.Expr:
    return (pl.col("ts") >= naive_utc(span[0])) & (pl.col("ts") < naive_utc(span[1]))


def _sql_list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _events_sql(variant: str, count: str) -> str:
    return f"{count} AS events" if variant == RAW else "sum(events) AS events"


def _pl_events(variant: str) -> pl.Expr:
    return (pl.len() if variant == RAW else pl.col("events").sum()).cast(pl.Int64).alias("events")


def _table(variant: str) -> str:
    return RAW_TABLE if variant == RAW else HOURLY_TABLE


def _grove_sums(result: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(result[name] for name in SUMS)


def _ints(row: Sequence[Any]) -> tuple[int, ...]:
    return tuple(int(v) for v in row)


def advertiser_timeseries(
    w: Workload, key: str, tag: str, advertiser: str, label: str, short: str
) -> BenchQuery:
    span = w.week

    def duck(variant: str) -> str:
        return (
            f"SELECT date_trunc('day', ts) AS day, {_sql_sums()} FROM {_table(variant)} "
            f"WHERE advertiser_id = '{advertiser}' AND {_between(span)} GROUP BY day ORDER BY day"
        )

    def click(variant: str) -> str:
        return (
            f"SELECT toStartOfDay(ts) AS day, {_sql_sums()} FROM {_table(variant)} "
            f"WHERE advertiser_id = '{advertiser}' AND {_between(span)} GROUP BY day ORDER BY day"
        )

    def polars(lf: pl.LazyFrame) -> pl.LazyFrame:
        return (
            lf.filter((pl.col("advertiser_id") == advertiser) & _pl_between(span))
            .group_by(pl.col("ts").dt.truncate("1d").alias("day"))
            .agg(_pl_sums())
            .sort("day")
        )

    def canon_grove(result: list[Any]) -> list[tuple[Any, ...]]:
        # Timeseries fills empty days with nulls; peers have no row for them.
        rows = [(to_ms(r["timestamp"]), *_grove_sums(r["result"])) for r in result]
        return sorted(r for r in rows if r[1] is not None)

    def canon_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        return sorted((to_ms(r[0]), *_ints(r[1:])) for r in rows)

    return BenchQuery(
        key=key,
        number=1,
        label=f"{tag} {short}, daily, 7 d",
        title=f"1. {label} advertiser [{advertiser}]: daily impressions, clicks, spend over {interval(span)}",
        grove={
            "queryType": "timeseries",
            "dataSource": "ads",
            "intervals": [interval(span)],
            "granularity": "day",
            "filter": {"type": "selector", "dimension": "advertiser_id", "value": advertiser},
            "aggregations": _sum_aggs(),
        },
        duckdb={v: duck(v) for v in VARIANTS},
        clickhouse={v: click(v) for v in VARIANTS},
        polars={v: polars for v in VARIANTS},
        canon_grove=canon_grove,
        canon_rows=canon_rows,
        advertiser_query=True,
    )


def advertisers_by_day(w: Workload) -> BenchQuery:
    span = w.week
    values = _sql_list(w.advertisers)
    wanted = list(w.advertisers)

    def sql(variant: str, day: str) -> str:
        return (
            f"SELECT advertiser_id, {day} AS day, {_sql_sums()} FROM {_table(variant)} "
            f"WHERE advertiser_id IN ({values}) AND {_between(span)} GROUP BY advertiser_id, day"
        )

    def polars(lf: pl.LazyFrame) -> pl.LazyFrame:
        return (
            lf.filter(pl.col("advertiser_id").is_in(wanted) & _pl_between(span))
            .group_by("advertiser_id", pl.col("ts").dt.truncate("1d").alias("day"))
            .agg(_pl_sums())
        )

    def canon_grove(result: list[Any]) -> list[tuple[Any, ...]]:
        return sorted(
            (r["event"]["advertiser_id"], to_ms(r["timestamp"]), *_grove_sums(r["event"])) for r in result
        )

    def canon_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        return sorted((str(r[0]), to_ms(r[1]), *_ints(r[2:])) for r in rows)

    return BenchQuery(
        key="q2-advertisers",
        number=2,
        label=f"2  {len(w.advertisers):,} advs × day, 7 d",
        title=(
            f"2. {len(w.advertisers):,} advertisers (IN filter, a seeded sample of all) grouped by advertiser and "
            f"day: impressions, clicks, spend over {interval(span)}"
        ),
        grove={
            "queryType": "groupBy",
            "dataSource": "ads",
            "intervals": [interval(span)],
            "granularity": "day",
            "dimensions": ["advertiser_id"],
            "filter": {"type": "in", "dimension": "advertiser_id", "values": wanted},
            "aggregations": _sum_aggs(),
        },
        duckdb={v: sql(v, "date_trunc('day', ts)") for v in VARIANTS},
        clickhouse={v: sql(v, "toStartOfDay(ts)") for v in VARIANTS},
        polars={v: polars for v in VARIANTS},
        canon_grove=canon_grove,
        canon_rows=canon_rows,
        advertiser_query=True,
    )


def top_campaigns(w: Workload) -> BenchQuery:
    span = w.last_day

    def sql(variant: str) -> str:
        return (
            f"SELECT campaign_id, sum(spend_micros) AS spend_micros, sum(impressions) AS impressions, "
            f"sum(clicks) AS clicks FROM {_table(variant)} WHERE {_between(span)} "
            f"GROUP BY campaign_id ORDER BY spend_micros DESC LIMIT 100"
        )

    def polars(lf: pl.LazyFrame) -> pl.LazyFrame:
        return (
            lf.filter(_pl_between(span))
            .group_by("campaign_id")
            .agg(pl.col("spend_micros").sum(), pl.col("impressions").sum(), pl.col("clicks").sum())
            .sort("spend_micros", descending=True)
            .head(100)
        )

    def canon_grove(result: list[Any]) -> list[tuple[Any, ...]]:
        rows = [
            (r["campaign_id"], r["spend_micros"], r["impressions"], r["clicks"])
            for b in result
            for r in b["result"]
        ]
        return sorted(rows, key=lambda r: (-r[1], r[0]))

    def canon_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        return sorted(((str(r[0]), *_ints(r[1:])) for r in rows), key=lambda r: (-r[1], r[0]))

    return BenchQuery(
        key="q3-top-campaigns",
        number=3,
        label="3  top 100 campaigns, 1 d",
        title=f"3. topN: the 100 campaigns with the most spend (with impressions, clicks) over {interval(span)}",
        grove={
            "queryType": "topN",
            "dataSource": "ads",
            "intervals": [interval(span)],
            "granularity": "all",
            "dimension": "campaign_id",
            "metric": "spend_micros",
            "threshold": 100,
            "aggregations": [
                {"type": "longSum", "name": "spend_micros", "fieldName": "spend_micros"},
                {"type": "longSum", "name": "impressions", "fieldName": "impressions"},
                {"type": "longSum", "name": "clicks", "fieldName": "clicks"},
            ],
        },
        duckdb={v: sql(v) for v in VARIANTS},
        clickhouse={v: sql(v) for v in VARIANTS},
        polars={v: polars for v in VARIANTS},
        canon_grove=canon_grove,
        canon_rows=canon_rows,
    )


def country_device(w: Workload) -> BenchQuery:
    span = w.everything

    def sql(variant: str, count: str) -> str:
        return (
            f"SELECT country, device, {_events_sql(variant, count)}, {_sql_sums()} FROM {_table(variant)} "
            f"WHERE {_between(span)} GROUP BY country, device"
        )

    def polars_for(variant: str) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
        def polars(lf: pl.LazyFrame) -> pl.LazyFrame:
            return (
                lf.filter(_pl_between(span))
                .group_by("country", "device")
                .agg(_pl_events(variant), *_pl_sums())
            )

        return polars

    def canon_grove(result: list[Any]) -> list[tuple[Any, ...]]:
        return sorted(
            (r["event"]["country"], r["event"]["device"], r["event"]["events"], *_grove_sums(r["event"]))
            for r in result
        )

    def canon_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        return sorted((str(r[0]), str(r[1]), *_ints(r[2:])) for r in rows)

    return BenchQuery(
        key="q4-country-device",
        number=4,
        label="4  country × device, 30 d",
        title=f"4. groupBy country, device: events, impressions, clicks, spend over {interval(span)}",
        grove={
            "queryType": "groupBy",
            "dataSource": "ads",
            "intervals": [interval(span)],
            "granularity": "all",
            "dimensions": ["country", "device"],
            "aggregations": [{"type": "longSum", "name": "events", "fieldName": "count"}, *_sum_aggs()],
        },
        duckdb={v: sql(v, "count(*)") for v in VARIANTS},
        clickhouse={v: sql(v, "count()") for v in VARIANTS},
        polars={v: polars_for(v) for v in VARIANTS},
        canon_grove=canon_grove,
        canon_rows=canon_rows,
    )


def daily_reach(w: Workload) -> BenchQuery:
    span = w.everything

    def sql(day: str, distinct: str) -> str:
        return (
            f"SELECT {day} AS day, {distinct}(user_id) AS reach FROM {RAW_TABLE} "
            f"WHERE {_between(span)} GROUP BY day ORDER BY day"
        )

    def polars(lf: pl.LazyFrame) -> pl.LazyFrame:
        return (
            lf.filter(_pl_between(span))
            .group_by(pl.col("ts").dt.truncate("1d").alias("day"))
            .agg(pl.col("user_id").approx_n_unique().alias("reach"))
            .sort("day")
        )

    def canon_grove(result: list[Any]) -> list[tuple[Any, ...]]:
        return sorted((to_ms(r["timestamp"]), float(r["result"]["reach"])) for r in result)

    def canon_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        return sorted((to_ms(r[0]), float(r[1])) for r in rows)

    duck = sql("date_trunc('day', ts)", "approx_count_distinct")
    click = sql("toStartOfDay(ts)", "uniq")
    return BenchQuery(
        key="q5-daily-reach",
        number=5,
        label="5  daily reach, 30 d",
        title=f"5. daily approximate reach (distinct user_id) over {interval(span)}",
        grove={
            "queryType": "timeseries",
            "dataSource": "ads",
            "intervals": [interval(span)],
            "granularity": "day",
            "aggregations": [{"type": "HLLSketchMerge", "name": "reach", "fieldName": "reach"}],
        },
        duckdb={v: duck for v in VARIANTS},
        clickhouse={v: click for v in VARIANTS},
        polars={v: polars for v in VARIANTS},
        canon_grove=canon_grove,
        canon_rows=canon_rows,
        approximate=True,
        raw_only=True,
        notes=(
            "grove: HLLSketchMerge of the ingested reach sketches; DuckDB: approx_count_distinct; "
            "ClickHouse: uniq; Polars: approx_n_unique — all on user_id of the raw events",
        ),
    )


def filtered_sum(w: Workload) -> BenchQuery:
    span = w.everything

    def sql(variant: str) -> str:
        return (
            f"SELECT sum(spend_micros) AS spend_micros FROM {_table(variant)} "
            f"WHERE device = 'mobile' AND placement = 'feed' AND {_between(span)}"
        )

    def polars(lf: pl.LazyFrame) -> pl.LazyFrame:
        return lf.filter(
            (pl.col("device") == "mobile") & (pl.col("placement") == "feed") & _pl_between(span)
        ).select(pl.col("spend_micros").sum())

    def canon_grove(result: list[Any]) -> list[tuple[Any, ...]]:
        return [(r["result"]["spend_micros"],) for r in result]

    def canon_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        return [_ints(r) for r in rows]

    return BenchQuery(
        key="q6-filtered-sum",
        number=6,
        label="6  filtered scan sum, 30 d",
        title=f"6. full scan: sum of spend where device = mobile and placement = feed over {interval(span)}",
        grove={
            "queryType": "timeseries",
            "dataSource": "ads",
            "intervals": [interval(span)],
            "granularity": "all",
            "filter": {
                "type": "and",
                "fields": [
                    {"type": "selector", "dimension": "device", "value": "mobile"},
                    {"type": "selector", "dimension": "placement", "value": "feed"},
                ],
            },
            "aggregations": [{"type": "longSum", "name": "spend_micros", "fieldName": "spend_micros"}],
        },
        duckdb={v: sql(v) for v in VARIANTS},
        clickhouse={v: sql(v) for v in VARIANTS},
        polars={v: polars for v in VARIANTS},
        canon_grove=canon_grove,
        canon_rows=canon_rows,
    )


# The columns query 6 reads in grove: its filter's dimensions and its metric (for bytes scanned).
FILTERED_SUM_COLUMNS = ("device", "placement", "spend_micros")


def build_queries(w: Workload) -> list[BenchQuery]:
    """The workload in the order it is run and reported."""
    return [
        advertiser_timeseries(w, "q1-largest", "1a", w.largest, "largest", "largest adv."),
        advertiser_timeseries(w, "q1-mid", "1b", w.mid, f"mid-size (#{w.mid_rank})", f"adv. #{w.mid_rank}"),
        advertisers_by_day(w),
        top_campaigns(w),
        country_device(w),
        daily_reach(w),
        filtered_sum(w),
    ]


# --------------------------------------------------------------------------------------------------------
# Comparing answers.


def compare(
    query: BenchQuery,
    expected: list[tuple[Any, ...]],
    actual: list[tuple[Any, ...]],
    engine: str,
    workload: Workload,
) -> tuple[bool, str]:
    """Whether ``actual`` (canonical rows of ``engine``) is right; and a short note (first difference, or
    for reach the largest error against the exact counts)."""
    if not query.approximate:
        if actual == expected:
            return True, f"{len(actual)} rows identical"
        if len(actual) != len(expected):
            return False, f"{len(actual)} rows, grove has {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            if a != e:
                return False, f"row {i}: {a!r}, grove has {e!r}"
        return False, "rows differ"
    tolerance = REACH_TOLERANCE[engine]
    exact = workload.exact_reach
    days = [day for day, _ in actual]
    if sorted(days) != sorted(exact):
        return False, f"days {len(days)} differ from the data's {len(exact)}"
    errors = [(abs(value / exact[day] - 1), day) for day, value in actual]
    worst, day = max(errors)
    versus_grove = max(abs(a[1] / e[1] - 1) for a, e in zip(sorted(actual), sorted(expected), strict=False))
    note = f"worst day {iso(day)[:10]} off exact by {worst:.2%} (bound {tolerance:.0%}); vs grove ≤ {versus_grove:.2%}"
    return worst <= tolerance, note
