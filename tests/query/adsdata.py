"""The small ads dataset every query unit test runs on, and a reference to compute expectations.

``ROWS`` are seeded, deterministic ad events over three days (2020-01-01 .. 2020-01-03) with nulls,
empty strings, a multi-value ``tags`` dimension, numeric dimensions (``age`` long, ``bid`` double),
a gap without rows on day 2 (10:00–14:00) and a skewed country distribution. ``ADS`` ingests them
without rollup, ``ADS_ROLLUP`` with daily rollup over fewer dimensions. Expectations in the tests
are computed from ``ROWS`` with plain Python (:func:`where`, :func:`total`), so they read as the
definition of the answer.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyarrow as pa
from flavours import DAY, HOUR, T0, Dataset, table_of

from grove.segment.hashing import hash_array
from grove.segment.sketches import HLL_DEFAULT_LGK, hll_entries, hll_estimate_sparse

Row = dict[str, Any]

COUNTRIES = ["US", "US", "US", "US", "FR", "FR", "DE", "", None, "日本"]
DEVICES = ["phone", "phone", "tablet", "desktop"]
PROMOS = ["50%off", "50_off", "500ff", "5%", None, "x_y", "Sale"]
TAG_LISTS: list[list[str] | None] = [None, [], ["a"], ["a", "b"], ["b", "c"], ["c"], ["a", "b", "c"], ["b"]]


def _rows() -> list[Row]:
    rng = random.Random(20200101)
    rows: list[Row] = []
    for i in range(600):
        day = i % 3
        hour = rng.randrange(24)
        if day == 1 and 10 <= hour < 14:
            hour = 9  # no rows on day 2 between 10:00 and 14:00
        t = T0 + day * DAY + hour * HOUR + rng.randrange(3_600) * 1000 + i  # unique times
        rows.append(
            {
                "__time": t,
                "country": rng.choice(COUNTRIES),
                "device": rng.choice(DEVICES),
                "tags": rng.choice(TAG_LISTS),
                "campaign": f"c{rng.randrange(1, 13)}",
                "user": f"u{rng.randrange(90)}",
                "age": None if rng.random() < 0.2 else rng.randrange(18, 70),
                "bid": None if rng.random() < 0.2 else round(rng.uniform(0, 5), 2),
                "impressions": rng.randrange(0, 100),
                "clicks": rng.randrange(0, 10),
                "spend": None if rng.random() < 0.1 else round(rng.uniform(0, 20), 2),
                "ratio": rng.choice([0.25, 0.5, 1.5]),
                "promo": rng.choice(PROMOS),
            }
        )
    rows.sort(key=lambda r: r["__time"])
    return rows


ROWS = _rows()

TYPES = {
    "country": pa.string(),
    "device": pa.string(),
    "tags": pa.list_(pa.string()),
    "campaign": pa.string(),
    "user": pa.string(),
    "age": pa.int64(),
    "bid": pa.float64(),
    "impressions": pa.int64(),
    "clicks": pa.int64(),
    "spend": pa.float64(),
    "ratio": pa.float64(),
    "promo": pa.string(),
}

METRICS = [
    {"type": "count", "name": "count"},
    {"type": "longSum", "name": "impressions", "fieldName": "impressions"},
    {"type": "longSum", "name": "clicks", "fieldName": "clicks"},
    {"type": "doubleSum", "name": "spend", "fieldName": "spend"},
    {"type": "floatSum", "name": "ratio", "fieldName": "ratio"},
    {"type": "longMin", "name": "imp_min", "fieldName": "impressions"},
    {"type": "longMax", "name": "imp_max", "fieldName": "impressions"},
    {"type": "doubleMin", "name": "spend_min", "fieldName": "spend"},
    {"type": "doubleMax", "name": "spend_max", "fieldName": "spend"},
    {"type": "HLLSketchBuild", "name": "users_hll", "fieldName": "user"},
    {"type": "hyperUnique", "name": "users_hu", "fieldName": "user"},
    {"type": "thetaSketch", "name": "users_theta", "fieldName": "user"},
]

ADS = Dataset(
    "ads",
    table_of(ROWS, TYPES),
    dimensions=[
        "country",
        "device",
        "tags",
        "campaign",
        "user",
        "promo",
        {"type": "long", "name": "age"},
        {"type": "double", "name": "bid"},
    ],
    metrics=METRICS,
)

ADS_ROLLUP = Dataset(
    "ads_rollup",
    table_of(ROWS, TYPES),
    dimensions=["country", "tags"],
    metrics=METRICS,
    rollup=True,
    query_granularity="day",
)

INTERVAL = "2020-01-01/2020-01-04"


def where(pred: Callable[[Row], bool] | None = None) -> list[Row]:
    return [r for r in ROWS if pred is None or pred(r)]


def total(rows: list[Row], field: str) -> Any:
    """SQL SUM: null when no row has a non-null value."""
    values = [r[field] for r in rows if r[field] is not None]
    return sum(values) if values else None


def has_tag(r: Row, tag: str) -> bool:
    return bool(r["tags"]) and tag in r["tags"]


def timeseries(aggs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "queryType": "timeseries",
        "dataSource": "ads",
        "intervals": [INTERVAL],
        "granularity": "all",
        "aggregations": aggs,
        **extra,
    }


def groupby(dims: list[Any], aggs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "queryType": "groupBy",
        "dataSource": "ads",
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimensions": dims,
        "aggregations": aggs,
        **extra,
    }


def topn(dim: Any, metric: Any, threshold: int, aggs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "queryType": "topN",
        "dataSource": "ads",
        "intervals": [INTERVAL],
        "granularity": "all",
        "dimension": dim,
        "metric": metric,
        "threshold": threshold,
        "aggregations": aggs,
        **extra,
    }


COUNT = {"type": "count", "name": "rows"}


def hll_estimate(values: Iterable[Any], lgk: int = HLL_DEFAULT_LGK) -> float:
    """The estimate of one HLL sketch holding ``values`` (nulls skipped).

    Merging HLL sketches is a register-wise max, so a query merging any number of partial sketches
    (rows, segments, pieces, time buckets) must return exactly this figure.
    """
    arr = pa.array([v for v in values if v is not None])
    if len(arr) == 0:
        return 0.0
    hashes, _ = hash_array(arr)
    entries = hll_entries(hashes, lgk)
    return float(hll_estimate_sparse(np.zeros(len(entries), np.int64), entries, 1, lgk)[0])
