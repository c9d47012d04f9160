"""Generated ad events, random native queries, and their translation to DuckDB SQL (the oracle).

``make_events`` builds a few 10k ad-like events over four days with numpy (seeded): skewed
advertisers and campaigns, countries with nulls and empty strings, a multi-value ``tags`` dimension,
numeric dimensions (``age`` long, ``bid`` double), user ids for distinct counts. Two datasources hold
them: ``events`` without rollup and ``events_hourly`` rolled up by hour over fewer dimensions.

``random_query(seed)`` draws one native query (timeseries, topN or groupBy; filters, aggregators,
post-aggregators, granularities, dimensions, virtual columns) and ``to_sql`` writes the SQL computing
the same groups over the raw rows in DuckDB, with Druid's semantics spelled out: three-valued logic
for filters, multi-value rows matching when any value matches and grouped once per value (UNNEST),
the bound filter matching null without a lower bound, rolled-up ``count`` counting stored rows.
Every granularity's bucket is precomputed per row in numpy (``b_<name>`` columns), independently of
grove's granularity code.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
from flavours import DAY, HOUR, Dataset

START = 1_583_020_800_000  # 2020-03-01T00:00:00Z
DAYS = 4
END = START + DAYS * DAY
MINUTE = 60_000

COUNTRIES = ["US", "GB", "FR", "DE", "JP", "BR", "IN", "", None]
COUNTRY_P = [0.35, 0.1, 0.1, 0.08, 0.07, 0.05, 0.1, 0.05, 0.1]
DEVICES = ["phone", "desktop", "tablet", None]
DEVICE_P = [0.55, 0.3, 0.1, 0.05]
TAGS = ["sports", "news", "tech", "music", "travel"]

RAW_DIMS = ["advertiser", "campaign", "country", "device", "tags", "age", "bid", "user_id"]
ROLLUP_DIMS = ["advertiser", "country", "device", "tags"]


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- data ------------------------------------------------------------------------------------------


def make_events(n: int, seed: int = 2020) -> dict[str, Any]:
    """Columns of ``n`` events (numpy arrays / Python lists), time-sorted, with unique times."""
    rng = np.random.default_rng(seed)
    times = np.unique(START + rng.integers(0, DAYS * DAY, size=int(n * 1.01)))
    while len(times) < n:
        times = np.unique(np.concatenate([times, START + rng.integers(0, DAYS * DAY, size=n)]))
    times = np.sort(rng.choice(times, size=n, replace=False))
    adv_id = np.minimum(rng.zipf(1.6, size=n), 120) - 1
    advertiser = np.array([f"adv{i:03d}" for i in range(120)], dtype=object)[adv_id]
    camp = rng.integers(0, 8, size=n)
    campaign = np.array(
        [f"{a}-c{c}" for a, c in zip(advertiser.tolist(), camp.tolist(), strict=True)], dtype=object
    )
    country = np.array(COUNTRIES, dtype=object)[rng.choice(len(COUNTRIES), size=n, p=COUNTRY_P)]
    device = np.array(DEVICES, dtype=object)[rng.choice(len(DEVICES), size=n, p=DEVICE_P)]
    ntags = rng.choice([-1, 0, 1, 2, 3], size=n, p=[0.1, 0.05, 0.45, 0.3, 0.1])
    tags: list[list[str] | None] = []
    perms = rng.permuted(np.tile(np.arange(len(TAGS)), (n, 1)), axis=1)
    for k, perm in zip(ntags.tolist(), perms.tolist(), strict=True):
        tags.append(None if k < 0 else [TAGS[i] for i in perm[:k]])
    age = rng.integers(18, 80, size=n)
    age_null = rng.random(n) < 0.15
    bid = np.round(rng.gamma(2.0, 0.8, size=n), 2)
    bid_null = rng.random(n) < 0.1
    users = rng.zipf(1.3, size=n) % 6000
    user_id = np.array([f"u{u}" for u in users.tolist()], dtype=object)
    impressions = rng.integers(0, 1000, size=n)
    clicks = rng.binomial(impressions, 0.02)
    spend = np.round(clicks * rng.gamma(2.0, 0.6, size=n) + rng.random(n), 2)
    spend_null = rng.random(n) < 0.03
    return {
        "__time": times.astype(np.int64),
        "advertiser": advertiser.tolist(),
        "campaign": campaign.tolist(),
        "country": country.tolist(),
        "device": device.tolist(),
        "tags": tags,
        "age": [None if z else int(a) for a, z in zip(age.tolist(), age_null.tolist(), strict=True)],
        "bid": [None if z else float(b) for b, z in zip(bid.tolist(), bid_null.tolist(), strict=True)],
        "user_id": user_id.tolist(),
        "impressions": impressions.astype(np.int64),
        "clicks": clicks.astype(np.int64),
        "spend": [None if z else float(s) for s, z in zip(spend.tolist(), spend_null.tolist(), strict=True)],
    }


def arrow_table(cols: dict[str, Any]) -> pa.Table:
    types = {
        "advertiser": pa.string(),
        "campaign": pa.string(),
        "country": pa.string(),
        "device": pa.string(),
        "tags": pa.list_(pa.string()),
        "age": pa.int64(),
        "bid": pa.float64(),
        "user_id": pa.string(),
        "impressions": pa.int64(),
        "clicks": pa.int64(),
        "spend": pa.float64(),
    }
    data = {"__time": pa.array(cols["__time"], pa.int64())}
    for name, t in types.items():
        data[name] = pa.array(cols[name], t)
    return pa.table(data)


METRICS = [
    {"type": "count", "name": "count"},
    {"type": "longSum", "name": "impressions", "fieldName": "impressions"},
    {"type": "longSum", "name": "clicks", "fieldName": "clicks"},
    {"type": "doubleSum", "name": "spend", "fieldName": "spend"},
    {"type": "longMin", "name": "imp_min", "fieldName": "impressions"},
    {"type": "longMax", "name": "imp_max", "fieldName": "impressions"},
    {"type": "doubleMax", "name": "spend_max", "fieldName": "spend"},
    {"type": "HLLSketchBuild", "name": "users_hll", "fieldName": "user_id"},
    {"type": "hyperUnique", "name": "users_hu", "fieldName": "user_id"},
    {"type": "thetaSketch", "name": "users_theta", "fieldName": "user_id"},
]


def datasets(table: pa.Table) -> list[Dataset]:
    raw = Dataset(
        "events",
        table,
        dimensions=[
            "advertiser",
            "campaign",
            "country",
            "device",
            "tags",
            {"type": "long", "name": "age"},
            {"type": "double", "name": "bid"},
            "user_id",
        ],
        metrics=METRICS,
    )
    hourly = Dataset(
        "events_hourly",
        table,
        dimensions=list(ROLLUP_DIMS),
        metrics=METRICS,
        rollup=True,
        query_granularity="hour",
    )
    return [raw, hourly]


# --- granularities (bucket of each row computed here, not by grove) ---------------------------------


def _fixed(size: int, origin: int = 0) -> Any:
    return lambda t: t - np.mod(t - origin, size)


def _zone_days(zone: str) -> Any:
    tz = ZoneInfo(zone)
    first = dt.datetime.fromtimestamp(START / 1000 - 2 * 86400, tz).date()
    bounds = []
    for k in range(DAYS + 4):
        d = first + dt.timedelta(days=k)
        bounds.append(int(dt.datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1000))
    edges = np.array(bounds, dtype=np.int64)
    return lambda t: edges[np.searchsorted(edges, t, side="right") - 1]


def _weeks(t: np.ndarray) -> np.ndarray:
    monday = -3 * DAY  # 1969-12-29
    return t - np.mod(t - monday, 7 * DAY)


def _months(t: np.ndarray) -> np.ndarray:
    return t.astype("datetime64[ms]").astype("datetime64[M]").astype("datetime64[ms]").astype(np.int64)


@dataclass(frozen=True)
class Gran:
    name: str
    spec: Any
    bucket: Any  # ms array -> bucket start array; None for "all"
    tz: str | None = None
    raw_ok: bool = True  # too many buckets on raw rows (none)


GRANULARITIES = [
    Gran("all", "all", None),
    Gran("none", "none", lambda t: t, raw_ok=False),
    Gran("fifteen_minute", "fifteen_minute", _fixed(15 * MINUTE)),
    Gran("hour", "hour", _fixed(HOUR)),
    Gran("six_hour", "six_hour", _fixed(6 * HOUR)),
    Gran("day", "day", _fixed(DAY)),
    Gran("week", "week", _weeks),
    Gran("month", "month", _months),
    Gran(
        "ny_day",
        {"type": "period", "period": "P1D", "timeZone": "America/New_York"},
        _zone_days("America/New_York"),
        "America/New_York",
    ),
    Gran(
        "pt6h_origin",
        {"type": "period", "period": "PT6H", "origin": "2020-03-01T02:00:00Z"},
        _fixed(6 * HOUR, 2 * HOUR),
    ),
    Gran(
        "dur_3h",
        {"type": "duration", "duration": 3 * HOUR, "origin": "2020-03-01T01:30:00Z"},
        _fixed(3 * HOUR, HOUR + 30 * MINUTE),
    ),
]
GRANS = {g.name: g for g in GRANULARITIES}


def duck_tables(cols: dict[str, Any]) -> dict[str, pa.Table]:
    """The raw rows of each datasource as DuckDB sees them, with bucket columns and rollup keys."""
    base = arrow_table(cols)
    out = {}
    for ds, trunc in (("events", None), ("events_hourly", HOUR)):
        t = cols["__time"] if trunc is None else cols["__time"] - np.mod(cols["__time"], trunc)
        table = base.set_column(0, "__time", pa.array(t, pa.int64()))
        # an empty multi-value row is null, as grove stores it
        tags = [v if v else None for v in cols["tags"]]
        table = table.set_column(
            table.schema.get_field_index("tags"), "tags", pa.array(tags, pa.list_(pa.string()))
        )
        for g in GRANULARITIES:
            if g.bucket is not None:
                table = table.append_column(f"b_{g.name}", pa.array(g.bucket(t), pa.int64()))
        if trunc is not None:
            keys = [
                (tt, a, c, d, tuple(sorted(tg)) if tg else None)
                for tt, a, c, d, tg in zip(
                    t.tolist(), cols["advertiser"], cols["country"], cols["device"], cols["tags"], strict=True
                )
            ]
            ids: dict[Any, int] = {}
            rk = [ids.setdefault(k, len(ids)) for k in keys]
            table = table.append_column("rk", pa.array(rk, pa.int64()))
        out[ds] = table
    return out


# --- queries ---------------------------------------------------------------------------------------


@dataclass
class Agg:
    spec: dict[str, Any]
    sql: str
    kind: str  # "exact_int" | "float" | "approx" | "theta" | "first"


@dataclass
class Plan:
    """A native query and how to check it: the SQL of its groups and the columns to compare."""

    seed: int
    query: dict[str, Any]
    qtype: str
    ds: str
    gran: Gran
    intervals: list[tuple[int, int]]
    dims: list[tuple[str, str]]  # (output name, SQL expression over the exploded rows)
    aggs: list[Agg]
    posts: list[tuple[str, str]]  # (name, SQL over aggregate names)
    where: str
    vcs: list[tuple[str, str]]  # (name, SQL)
    explode: bool
    skip_empty: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _str(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


class _Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.seed = seed

    def pick(self, seq: Any) -> Any:
        return self.r.choice(seq)

    def chance(self, p: float) -> bool:
        return self.r.random() < p


def _string_leaf(g: _Gen, dim: str, values: list[Any]) -> tuple[dict[str, Any], str]:
    col = f'"{dim}"'
    k = g.r.randrange(9)
    if k <= 2:
        v = g.pick(values)
        if v is None:
            return {"type": "selector", "dimension": dim, "value": None}, f"{col} IS NULL"
        if k == 2:  # what SQL plans for col = 'v'
            return {
                "type": "equals",
                "column": dim,
                "matchValueType": "STRING",
                "matchValue": v,
            }, f"{col} = {_str(v)}"
        return {"type": "selector", "dimension": dim, "value": v}, f"{col} = {_str(v)}"
    if k == 3:
        vs = g.r.sample(values, min(len(values), g.r.randrange(1, 4)))
        has_null = None in vs
        strings = [v for v in vs if v is not None]
        parts = []
        if strings:
            parts.append(f"{col} IN ({', '.join(_str(v) for v in strings)})")
        if has_null:
            parts.append(f"{col} IS NULL")
        sql = " OR ".join(parts) if parts else "FALSE"
        return {"type": "in", "dimension": dim, "values": vs}, f"({sql})"
    if k == 4:
        known = sorted({v for v in values if v is not None})
        lo, hi = sorted(g.r.sample(known, 2)) if len(known) > 1 else (known[0], known[0])
        spec: dict[str, Any] = {"type": "bound", "dimension": dim}
        conds = []
        if g.chance(0.7):
            spec["lower"] = lo
            spec["lowerStrict"] = g.chance(0.5)
            conds.append(f"{col} {'>' if spec['lowerStrict'] else '>='} {_str(lo)}")
        if g.chance(0.7) or "lower" not in spec:
            spec["upper"] = hi
            spec["upperStrict"] = g.chance(0.5)
            conds.append(f"{col} {'<' if spec['upperStrict'] else '<='} {_str(hi)}")
        sql = " AND ".join(conds)
        if "lower" not in spec:  # Druid's bound filter matches null without a lower bound
            sql = f"({col} IS NULL OR {sql})"
        return spec, f"({sql})"
    if k == 5:
        known = sorted({v for v in values if v is not None})
        lo = g.pick(known)
        spec = {
            "type": "range",
            "column": dim,
            "matchValueType": "STRING",
            "upper": lo,
            "upperOpen": g.chance(0.5),
        }
        return spec, f"({col} {'<' if spec['upperOpen'] else '<='} {_str(lo)})"
    if k == 6:
        known = [v for v in values if v]
        v = g.pick(known)
        pattern = g.pick([v[:1] + "%", "%" + v[-1:], "_" + v[1:], v[:2] + "%" + v[-1:]])
        return {"type": "like", "dimension": dim, "pattern": pattern}, f"({col} LIKE {_str(pattern)})"
    if k == 7:
        known = [v for v in values if v]
        v = g.pick(known)
        sub = v[g.r.randrange(len(v)) :][:2].lower()
        spec = {"type": "search", "dimension": dim, "query": {"type": "insensitive_contains", "value": sub}}
        return spec, f"(contains(lower({col}), {_str(sub)}))"
    known = [v for v in values if v]
    v = g.pick(known)
    pattern = g.pick(["^" + v[:2], v[-1:] + "$", "[0-9]"])
    return {
        "type": "regex",
        "dimension": dim,
        "pattern": pattern,
    }, f"(regexp_matches({col}, {_str(pattern)}))"


def _tags_leaf(g: _Gen) -> tuple[dict[str, Any], str]:
    k = g.r.randrange(4)
    if k == 0:
        return {"type": "selector", "dimension": "tags", "value": None}, '"tags" IS NULL'
    if k == 1:
        v = g.pick(TAGS)
        return {"type": "selector", "dimension": "tags", "value": v}, f'list_contains("tags", {_str(v)})'
    if k == 2:
        vs = g.r.sample([*TAGS, None], g.r.randrange(1, 4))
        strings = [v for v in vs if v is not None]
        parts = []
        if strings:
            parts.append(f'list_has_any("tags", [{", ".join(_str(v) for v in strings)}])')
        if None in vs:
            parts.append('"tags" IS NULL')
        return {"type": "in", "dimension": "tags", "values": vs}, "(" + " OR ".join(parts) + ")"
    v = g.pick(TAGS)
    pattern = v[:2] + "%"
    return (
        {"type": "like", "dimension": "tags", "pattern": pattern},
        f'(len(list_filter("tags", lambda x: x LIKE {_str(pattern)})) > 0)',
    )


def _numeric_leaf(g: _Gen, dim: str) -> tuple[dict[str, Any], str]:
    col = f'"{dim}"'
    lo, hi = (
        (g.r.randrange(18, 80), g.r.randrange(18, 80))
        if dim == "age"
        else (round(g.r.uniform(0, 4), 2), round(g.r.uniform(0, 4), 2))
    )
    lo, hi = min(lo, hi), max(lo, hi)
    k = g.r.randrange(5)
    if k == 0:
        if dim == "age":
            return {"type": "selector", "dimension": dim, "value": str(lo)}, f"{col} = {lo}"
        return {"type": "null", "column": dim}, f"{col} IS NULL"
    if k == 1:
        spec: dict[str, Any] = {"type": "bound", "dimension": dim, "ordering": "numeric", "upper": str(hi)}
        if g.chance(0.5):
            spec["lower"] = str(lo)
            return spec, f"({col} >= {lo} AND {col} <= {hi})"
        return spec, f"({col} IS NULL OR {col} <= {hi})"
    if k == 2:
        mvt = "LONG" if dim == "age" else "DOUBLE"
        spec = {
            "type": "range",
            "column": dim,
            "matchValueType": mvt,
            "lower": lo,
            "upper": hi,
            "lowerOpen": True,
        }
        return spec, f"({col} > {lo} AND {col} <= {hi})"
    if k == 3 and dim == "age":
        vs = [str(g.r.randrange(18, 80)) for _ in range(3)]
        return {"type": "in", "dimension": dim, "values": vs}, f"({col} IN ({', '.join(vs)}))"
    mvt = "LONG" if dim == "age" else "DOUBLE"
    return (
        {"type": "range", "column": dim, "matchValueType": mvt, "lower": lo},
        f"({col} >= {lo})",
    )


def _time_leaf(g: _Gen) -> tuple[dict[str, Any], str]:
    s = START + g.r.randrange(DAYS * 24) * HOUR
    e = s + g.r.randrange(1, 36) * HOUR
    return (
        {"type": "interval", "dimension": "__time", "intervals": [f"{_iso(s)}/{_iso(e)}"]},
        f'("__time" >= {s} AND "__time" < {e})',
    )


def _expression_leaf(g: _Gen) -> tuple[dict[str, Any], str]:
    options = [
        ("clicks > 10", '"clicks" > 10'),
        ("spend >= 5.5", '"spend" >= 5.5'),
        ("impressions % 7 == 0", '"impressions" % 7 = 0'),
        ("country == 'US'", "\"country\" = 'US'"),
        ("clicks * 50 > impressions", '"clicks" * 50 > "impressions"'),
    ]
    text, sql = g.pick(options)
    return {"type": "expression", "expression": text}, f"({sql})"


DOMAINS: dict[str, list[Any]] = {}


def _leaf(g: _Gen, ds: str, vcs: dict[str, str]) -> tuple[dict[str, Any], str]:
    dims = RAW_DIMS if ds == "events" else ROLLUP_DIMS
    choices = ["string", "string", "string", "tags", "time"]
    if ds == "events":
        choices += ["numeric", "numeric", "expression"]
    if vcs:
        choices.append("vc")
    kind = g.pick(choices)
    if kind == "tags" and "tags" in dims:
        return _tags_leaf(g)
    if kind == "numeric":
        return _numeric_leaf(g, g.pick(["age", "bid"]))
    if kind == "time":
        return _time_leaf(g)
    if kind == "expression":
        return _expression_leaf(g)
    if kind == "vc":
        name = g.pick(sorted(vcs))
        return _string_leaf(g, name, DOMAINS[name])
    dim = g.pick([d for d in dims if d in ("advertiser", "country", "device", "campaign")])
    return _string_leaf(g, dim, DOMAINS[dim])


def _filter(g: _Gen, ds: str, vcs: dict[str, str], depth: int = 0) -> tuple[dict[str, Any], str]:
    k = g.r.random()
    if depth < 2 and k < 0.25:
        kind = g.pick(["and", "or"])
        parts = [_filter(g, ds, vcs, depth + 1) for _ in range(g.r.randrange(2, 4))]
        return {"type": kind, "fields": [p[0] for p in parts]}, "(" + f" {kind.upper()} ".join(
            p[1] for p in parts
        ) + ")"
    if depth < 2 and k < 0.4:
        inner = _filter(g, ds, vcs, depth + 1)
        return {"type": "not", "field": inner[0]}, f"(NOT {inner[1]})"
    if k < 0.42:
        return ({"type": "true"}, "TRUE") if g.chance(0.7) else ({"type": "false"}, "FALSE")
    return _leaf(g, ds, vcs)


# virtual columns: name -> (expression, output type, SQL, datasets)
VIRTUALS = {
    "adv_prefix": (
        "substring(advertiser, 0, 5)",
        "STRING",
        'substr("advertiser", 1, 5)',
        ("events", "events_hourly"),
    ),
    "country_nvl": (
        "nvl(country, 'unknown')",
        "STRING",
        "coalesce(\"country\", 'unknown')",
        ("events", "events_hourly"),
    ),
    "dev_country": (
        "concat(device, ':', country)",
        "STRING",
        'CASE WHEN "device" IS NULL OR "country" IS NULL THEN NULL ELSE "device" || \':\' || "country" END',
        ("events", "events_hourly"),
    ),
    "country_upper": (
        "upper(lower(country))",
        "STRING",
        'upper(lower("country"))',
        ("events", "events_hourly"),
    ),
    "hour_of_day": (
        "timestamp_extract(__time, 'HOUR')",
        "LONG",
        'CAST(("__time" // 3600000) % 24 AS BIGINT)',
        ("events", "events_hourly"),
    ),
    "size": (
        "if(clicks > 20, 'big', case_searched(clicks > 5, 'mid', 'small'))",
        "STRING",
        "CASE WHEN \"clicks\" > 20 THEN 'big' WHEN \"clicks\" > 5 THEN 'mid' ELSE 'small' END",
        ("events",),
    ),
    "camp_len": ("strlen(campaign)", "LONG", 'CAST(length("campaign") AS BIGINT)', ("events",)),
}


def is_numeric_dimension(spec: Any) -> bool:
    """Whether a generated dimension outputs numbers (typed LONG/DOUBLE) rather than text."""
    if isinstance(spec, dict):
        return spec.get("outputType", "STRING") != "STRING"
    return False


def _dimension(g: _Gen, ds: str, vcs: dict[str, str]) -> tuple[Any, str, str, bool]:
    """(dimension spec, output name, SQL expression, explodes multi-value)."""
    base = ["advertiser", "country", "device", "tags"] + (
        ["campaign", "age", "bid"] if ds == "events" else []
    )
    options = [*base, "vc", "extraction"]
    kind = g.pick(options)
    if kind == "tags":
        return "tags", "tags", '"__tags"', True
    if kind in ("age", "bid"):
        out_type = "LONG" if kind == "age" else "DOUBLE"
        if g.chance(0.5):
            return (
                {"type": "default", "dimension": kind, "outputName": kind, "outputType": out_type},
                kind,
                f'"{kind}"',
                False,
            )
        # without outputType a numeric dimension groups as text (dimensionspecs.md)
        return kind, kind, f'CAST("{kind}" AS VARCHAR)', False
    if kind == "vc":
        names = [n for n, v in VIRTUALS.items() if ds in v[3]]
        name = g.pick(names)
        _, out_type, sql, _ = VIRTUALS[name]
        vcs[name] = sql
        if out_type == "LONG":
            return (
                {"type": "default", "dimension": name, "outputName": name, "outputType": "LONG"},
                name,
                f'"{name}"',
                False,
            )
        return name, name, f'"{name}"', False
    if kind == "extraction":
        k = g.r.randrange(4)
        if k == 0:
            fn = {"type": "upper"}
            return (
                {"type": "extraction", "dimension": "device", "outputName": "x_dev", "extractionFn": fn},
                "x_dev",
                'upper("device")',
                False,
            )
        if k == 1:
            fn = {"type": "substring", "index": 0, "length": 4}
            return (
                {"type": "extraction", "dimension": "advertiser", "outputName": "x_adv", "extractionFn": fn},
                "x_adv",
                'substr("advertiser", 1, 4)',
                False,
            )
        if k == 2:
            fn = {"type": "timeFormat", "format": "yyyy-MM-dd HH", "timeZone": "UTC"}
            return (
                {"type": "extraction", "dimension": "__time", "outputName": "x_hour", "extractionFn": fn},
                "x_hour",
                "strftime(make_timestamp(\"__time\" * 1000), '%Y-%m-%d %H')",
                False,
            )
        lookup = {"phone": "mobile", "tablet": "mobile", "desktop": "fixed"}
        fn = {"type": "lookup", "lookup": {"type": "map", "map": lookup}, "replaceMissingValueWith": "other"}
        sql = "CASE \"device\" WHEN 'phone' THEN 'mobile' WHEN 'tablet' THEN 'mobile' WHEN 'desktop' THEN 'fixed' ELSE 'other' END"
        return (
            {"type": "extraction", "dimension": "device", "outputName": "x_kind", "extractionFn": fn},
            "x_kind",
            sql,
            False,
        )
    return kind, kind, f'"{kind}"', False


def _aggs(g: _Gen, ds: str) -> list[Agg]:
    raw = ds == "events"
    count_sql = "count(*)" if raw else 'count(DISTINCT "rk")'
    pool = [
        Agg({"type": "count", "name": "rows"}, count_sql, "exact_int"),
        Agg({"type": "longSum", "name": "clicks", "fieldName": "clicks"}, 'sum("clicks")', "exact_int"),
        Agg(
            {"type": "longSum", "name": "impressions", "fieldName": "impressions"},
            'sum("impressions")',
            "exact_int",
        ),
        Agg({"type": "doubleSum", "name": "spend", "fieldName": "spend"}, 'sum("spend")', "float"),
        Agg(
            {"type": "longMin", "name": "imp_min", "fieldName": "imp_min"}, 'min("impressions")', "exact_int"
        ),
        Agg(
            {"type": "longMax", "name": "imp_max", "fieldName": "imp_max"}, 'max("impressions")', "exact_int"
        ),
        Agg({"type": "doubleMax", "name": "spend_max", "fieldName": "spend_max"}, 'max("spend")', "float"),
        Agg(
            {"type": "HLLSketchMerge", "name": "users_hll", "fieldName": "users_hll"},
            'count(DISTINCT "user_id")',
            "approx",
        ),
        Agg(
            {"type": "hyperUnique", "name": "users_hu", "fieldName": "users_hu"},
            'count(DISTINCT "user_id")',
            "approx",
        ),
        Agg(
            {"type": "thetaSketch", "name": "users_theta", "fieldName": "users_theta"},
            'count(DISTINCT "user_id")',
            "theta",
        ),
        Agg(
            {
                "type": "filtered",
                "name": "us_rows",
                "filter": {"type": "selector", "dimension": "country", "value": "US"},
                "aggregator": {"type": "count", "name": "us_rows"},
            },
            f"{count_sql} FILTER (WHERE \"country\" = 'US')",
            "exact_int",
        ),
        Agg(
            {
                "type": "filtered",
                "name": "news_clicks",
                "filter": {"type": "selector", "dimension": "tags", "value": "news"},
                "aggregator": {"type": "longSum", "name": "news_clicks", "fieldName": "clicks"},
            },
            'sum("clicks") FILTER (WHERE list_contains("tags", \'news\'))',
            "exact_int",
        ),
        Agg(
            {"type": "longSum", "name": "events", "fieldName": "count"},
            "count(*)",
            "exact_int",
        ),
    ]
    if raw:
        pool += [
            Agg(
                {"type": "cardinality", "name": "users_card", "fields": ["user_id"]},
                'count(DISTINCT "user_id")',
                "approx",
            ),
            Agg(
                {"type": "HLLSketchBuild", "name": "users_build", "fieldName": "user_id"},
                'count(DISTINCT "user_id")',
                "approx",
            ),
            Agg(
                {"type": "thetaSketch", "name": "camp_theta", "fieldName": "campaign"},
                'count(DISTINCT "campaign")',
                "theta",
            ),
            Agg({"type": "longMin", "name": "age_min", "fieldName": "age"}, 'min("age")', "exact_int"),
            Agg({"type": "doubleMin", "name": "bid_min", "fieldName": "bid"}, 'min("bid")', "float"),
            Agg({"type": "doubleSum", "name": "bid_sum", "fieldName": "bid"}, 'sum("bid")', "float"),
            Agg(
                {"type": "longSum", "name": "clicks2", "expression": "clicks * 2 + 1"},
                'sum("clicks" * 2 + 1)',
                "exact_int",
            ),
            Agg(
                {"type": "longFirst", "name": "first_clicks", "fieldName": "clicks"},
                'arg_min("clicks", "__time")',
                "exact_int",
            ),
            Agg(
                {"type": "longLast", "name": "last_imps", "fieldName": "impressions"},
                'arg_max("impressions", "__time")',
                "exact_int",
            ),
            Agg(
                {"type": "stringFirst", "name": "first_camp", "fieldName": "campaign"},
                'arg_min("campaign", "__time")',
                "first",
            ),
            Agg(
                {"type": "stringLast", "name": "last_adv", "fieldName": "advertiser"},
                'arg_max("advertiser", "__time")',
                "first",
            ),
        ]
    chosen = g.r.sample(pool, g.r.randrange(1, 5))
    if not any(a.spec["name"] in ("rows", "clicks") for a in chosen):
        chosen.insert(0, pool[g.r.randrange(2)])
    return chosen


def _intervals(g: _Gen) -> list[tuple[int, int]]:
    k = g.r.randrange(5)
    if k == 0:
        return [(START - DAY, END + DAY)]
    if k == 1:
        return [(START, END)]
    step = g.pick([HOUR, HOUR, MINUTE * 7, DAY])
    s = START - DAY // 2 + g.r.randrange((DAYS * DAY) // step) * step
    e = s + g.r.randrange(1, (2 * DAY) // step + 2) * step
    out = [(s, e)]
    if k == 4:
        s2 = e + g.r.randrange(1, 20) * HOUR
        out.append((s2, s2 + g.r.randrange(1, 30) * HOUR))
    return out


HIGH_CARDINALITY = {"campaign", "x_hour", "dev_country", "bid", "age", "camp_len"}


def random_query(seed: int) -> Plan:
    g = _Gen(seed)
    qtype = g.pick(["timeseries", "timeseries", "topN", "topN", "groupBy", "groupBy", "groupBy"])
    ds = "events" if g.chance(0.7) else "events_hourly"
    grans = [x for x in GRANULARITIES if x.raw_ok or ds != "events"]
    if qtype != "timeseries":
        grans = [x for x in grans if x.name in ("all", "all", "day", "ny_day", "six_hour", "week", "dur_3h")]
    gran = g.pick(grans)
    intervals = _intervals(g)
    vcs: dict[str, str] = {}
    dims: list[tuple[str, str]] = []
    dim_specs: list[Any] = []
    explode = False
    if qtype == "topN":
        spec, name, sql, ex = _dimension(g, ds, vcs)
        dim_specs.append(spec)
        dims.append((name, sql))
        explode = ex
    elif qtype == "groupBy":
        for _ in range(g.r.randrange(0, 3)):
            spec, name, sql, ex = _dimension(g, ds, vcs)
            if name in [d[0] for d in dims] or (ex and explode):
                continue
            dim_specs.append(spec)
            dims.append((name, sql))
            explode = explode or ex
    # High-cardinality groups (campaigns, hours) stay at coarse granularities: per-group HLL registers
    # make thousands of groups per bucket slow, and the oracle must stay quick.
    fine = {"six_hour", "dur_3h", "week", "ny_day"}
    if gran.name in fine and any(name in HIGH_CARDINALITY for name, _ in dims):
        gran = GRANS["day"] if g.chance(0.5) else GRANS["all"]
    # filters may use virtual columns of their own
    if g.chance(0.2):
        names = [n for n, v in VIRTUALS.items() if ds in v[3] and VIRTUALS[n][1] == "STRING"]
        name = g.pick(names)
        vcs[name] = VIRTUALS[name][2]
    where = "TRUE"
    flt = None
    if g.chance(0.8):
        flt, where = _filter(g, ds, {n: s for n, s in vcs.items() if VIRTUALS[n][1] == "STRING"})
    aggs = _aggs(g, ds)
    if any(name in HIGH_CARDINALITY for name, _ in dims):
        # per-group HLL registers are costly for thousands of groups (see the report); keep the
        # distinct counts to low-cardinality groupings so the suite stays quick
        aggs = [a for a in aggs if a.kind != "approx"] or aggs[:1]
    names = {a.spec["name"] for a in aggs}
    posts: list[tuple[str, str]] = []
    post_specs: list[dict[str, Any]] = []

    def fa(n: str) -> dict[str, Any]:
        return {"type": "fieldAccess", "fieldName": n}

    if {"clicks", "impressions"} <= names and g.chance(0.7):
        post_specs.append(
            {"type": "arithmetic", "name": "ctr", "fn": "/", "fields": [fa("clicks"), fa("impressions")]}
        )
        posts.append(("ctr", 'CASE WHEN "impressions" = 0 THEN 0.0 ELSE "clicks" / "impressions" END'))
    if {"spend", "clicks"} <= names and g.chance(0.7):
        post_specs.append(
            {"type": "arithmetic", "name": "cpc", "fn": "/", "fields": [fa("spend"), fa("clicks")]}
        )
        posts.append(("cpc", 'CASE WHEN "clicks" = 0 THEN 0.0 ELSE "spend" / "clicks" END'))
    if {"spend", "impressions"} <= names and g.chance(0.5):
        inner = {
            "type": "arithmetic",
            "name": "sk",
            "fn": "*",
            "fields": [fa("spend"), {"type": "constant", "name": "k", "value": 1000}],
        }
        post_specs.append(
            {"type": "arithmetic", "name": "cpm", "fn": "/", "fields": [inner, fa("impressions")]}
        )
        posts.append(("cpm", 'CASE WHEN "impressions" = 0 THEN 0.0 ELSE "spend" * 1000 / "impressions" END'))
    query: dict[str, Any] = {
        "queryType": qtype,
        "dataSource": ds,
        "intervals": [f"{_iso(s)}/{_iso(e)}" for s, e in intervals],
        "granularity": gran.spec,
        "aggregations": [a.spec for a in aggs],
    }
    if post_specs:
        query["postAggregations"] = post_specs
    if flt is not None:
        query["filter"] = flt
    used_vcs = [n for n in VIRTUALS if n in vcs]
    if used_vcs:
        query["virtualColumns"] = [
            {"type": "expression", "name": n, "expression": VIRTUALS[n][0], "outputType": VIRTUALS[n][1]}
            for n in used_vcs
        ]
    plan = Plan(
        seed,
        query,
        qtype,
        ds,
        gran,
        intervals,
        dims,
        aggs,
        posts,
        where,
        [(n, vcs[n]) for n in used_vcs],
        explode,
    )
    if qtype == "timeseries":
        plan.skip_empty = g.chance(0.5)
        if plan.skip_empty:
            query["context"] = {"skipEmptyBuckets": True}
        if g.chance(0.2):
            query["descending"] = True
        if g.chance(0.15):
            query.setdefault("context", {})["grandTotal"] = True
        if g.chance(0.15) and plan.skip_empty:
            query["limit"] = g.r.randrange(1, 6)
    elif qtype == "topN":
        query["dimension"] = dim_specs[0]
        query["threshold"] = g.r.randrange(1, 12)
        rankable = [
            a.spec["name"]
            for a in aggs
            if a.kind == "exact_int" and not a.spec["name"].startswith(("first", "last", "age", "news"))
        ]
        rankable += [p[0] for p in posts if p[0] == "ctr"]
        k = g.r.random()
        if k < 0.25 and not is_numeric_dimension(dim_specs[0]):
            ordering = g.pick(["lexicographic", "alphanumeric"])
            metric: Any = {"type": "dimension", "ordering": ordering}
            plan.extra["order"] = ("dimension", ordering, False)
            if g.chance(0.6):
                stop = g.pick(DOMAINS.get(dims[0][0], ["m"]) or ["m"])
                if isinstance(stop, str) and stop:
                    metric["previousStop"] = stop
                    plan.extra["previous_stop"] = stop
            if g.chance(0.3):
                metric = {"type": "inverted", "metric": metric}
                plan.extra["order"] = ("dimension", ordering, True)
                plan.extra.pop("previous_stop", None)
                metric["metric"].pop("previousStop", None)
        else:
            name = g.pick(rankable)
            inverted = k > 0.85
            metric = {"type": "inverted", "metric": name} if inverted else name
            plan.extra["order"] = ("metric", name, inverted)
        query["metric"] = metric
    else:
        query["dimensions"] = dim_specs
        if g.chance(0.35):
            cols = []
            order: list[tuple[str, str, bool]] = []
            text_dims = [d[0] for d, s in zip(dims, dim_specs, strict=True) if not is_numeric_dimension(s)]
            sortable = [a.spec["name"] for a in aggs if a.kind == "exact_int"] + text_dims
            for name in g.r.sample(sortable, min(len(sortable), g.r.randrange(1, 3))):
                desc = g.chance(0.5)
                cols.append({"dimension": name, "direction": "descending" if desc else "ascending"})
                order.append((name, "dim" if name in [d[0] for d in dims] else "metric", desc))
            spec: dict[str, Any] = {"type": "default", "columns": cols}
            if g.chance(0.7):
                spec["limit"] = g.r.randrange(1, 30)
            if g.chance(0.3):
                spec["offset"] = g.r.randrange(0, 10)
            query["limitSpec"] = spec
            plan.extra["order"] = order
            plan.extra["limit"] = spec.get("limit")
            plan.extra["offset"] = spec.get("offset", 0)
        if g.chance(0.2):
            name = g.pick([a.spec["name"] for a in aggs if a.kind == "exact_int"])
            threshold = g.r.randrange(0, 50)
            query["having"] = {"type": "greaterThan", "aggregation": name, "value": threshold}
            plan.extra["having"] = (name, threshold)
    return plan


def _interval_sql(plan: Plan) -> str:
    return "(" + " OR ".join(f'("__time" >= {s} AND "__time" < {e})' for s, e in plan.intervals) + ")"


def to_sql(plan: Plan, *, all_granularity: bool = False) -> str:
    """SQL returning one row per group: ``__b`` (bucket, absent for granularity all), dimensions,
    aggregates, ``__n`` (rows in the group) and post-aggregates, over the raw rows of the plan's
    datasource (the DuckDB table named like it)."""
    vc_sql = "".join(f', {sql} AS "{name}"' for name, sql in plan.vcs)
    src = f'SELECT *{vc_sql} FROM "{plan.ds}"'
    base = f"SELECT * FROM ({src}) WHERE {_interval_sql(plan)} AND ({plan.where})"
    if plan.explode:
        base = f'SELECT *, UNNEST(CASE WHEN "tags" IS NULL THEN [NULL::VARCHAR] ELSE "tags" END) AS "__tags" FROM ({base})'
    keys = []
    if plan.gran.bucket is not None and not all_granularity:
        keys.append(f'"b_{plan.gran.name}" AS "__b"')
    keys += [f'{sql} AS "{name}"' for name, sql in plan.dims]
    aggs = [f'{a.sql} AS "{a.spec["name"]}"' for a in plan.aggs] + ['count(*) AS "__n"']
    select = ", ".join(keys + aggs)
    group = " GROUP BY ALL" if keys else ""
    inner = f"SELECT {select} FROM ({base}){group}"
    if not plan.posts:
        return inner
    posts = "".join(f', {sql} AS "{name}"' for name, sql in plan.posts)
    return f"SELECT *{posts} FROM ({inner})"
