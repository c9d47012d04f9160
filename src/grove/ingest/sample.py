"""Realistic sample ads events, generated fast and deterministically.

:func:`generate_ads` streams pyarrow tables of ad events; :func:`write_ads` writes them as newline-delimited
JSON (``.json``), gzipped JSON (``.json.gz``) or Parquet (``.parquet``). Everything is vectorised with
numpy and pyarrow: there is no per-row Python code, and memory is bounded by ``chunk_rows``.

The data has the shape that makes ads reporting hard:

* **Advertisers** are Zipf-like: the advertiser of rank ``r`` (1-based) gets a share proportional to
  ``(r + 1.5) ** -1.2``. With 5,000 advertisers the largest takes ~10% of events and the top ten ~38%;
  with 1,000 advertisers ~11% and ~42%. The number of advertisers is ``isqrt(rows)`` clamped to
  [300, 5,000]: 1,000 for 1M rows, 4,472 for 20M rows, 300 for small runs.
* **Hierarchy**: an advertiser owns ``1 + Poisson(1.5) + floor(60 * (share / top share) ** 0.6)`` campaigns
  (the largest ~60), a campaign ``1 + Poisson(2)`` ad groups and an ad group ``1 + Poisson(3)`` pins,
  so ~1,000 advertisers have ~40k pins and ~4,500 advertisers ~155k pins. Traffic inside an advertiser,
  campaign or ad group is split by log-normal weights (sigma 1). A pin always belongs to the same ad
  group, campaign and advertiser; every id is globally unique.
* **Time**: event times cover ``[start, start + days)``. Traffic follows a UTC diurnal curve
  ``1 + 0.6 * cos(2 * pi * (hour - 20) / 24)`` (peak 20:00 UTC, the US afternoon; trough 08:00 UTC, four
  times quieter) and weekends carry 10% more traffic. Within a chunk rows are in log-arrival order:
  event time is the arrival time minus a delivery delay (exponential, mean 1.5 s; 1% of events up to
  five minutes late), so timestamps are roughly but not strictly ascending, like real logs. Chunk ``k``
  holds the ``k``-th slice of the time range.
* **Geography and devices**: 40 countries (US ~34%, then GB, CA, DE, FR, BR ...); devices mobile 62%,
  desktop 25%, tablet 9%, tv 4%; placements feed 42%, search 20%, related 16%, video 12%, shopping 10%.
* **Users**: ``max(2,000, rows // 6)`` users (at most 20M), each living in one country (the population is
  split by country weight). Inside a country user activity is a truncated power law (the most active 1%
  of users make ~9% of the events, the most active 10% ~31%, no user more than ~50 times the mean), so
  users repeat and the reach of an advertiser is well below its event count.
* **Metrics**: ``impressions`` is geometric (85% are 1); ``clicks`` is binomial over the impressions with a
  CTR from the placement (0.4% video to 2.2% search), the device (tv a quarter of mobile, desktop a
  quarter more) and a log-normal pin quality, so ``clicks <= impressions`` always; ``spend_micros`` is
  CPM pricing: a per-country CPM (US $9, India $0.60) times placement and device factors, a per-advertiser
  bid factor and per-event auction noise, in micro-dollars, never negative.

Output is a pure function of ``(rows, days, seed, start, chunk_rows)``: the same arguments give the same
tables and byte-identical files. A different ``chunk_rows`` gives different (equally distributed) rows.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from grove.common.time import format_timestamp, parse_timestamp
from grove.errors import InvalidInput, StorageError

__all__ = ["ADS_SCHEMA", "ads_ingestion_spec", "generate_ads", "write_ads"]

T = TypeVar("T")
R = TypeVar("R")

ADS_SCHEMA = pa.schema(
    [
        pa.field("timestamp", pa.string(), nullable=False),
        pa.field("advertiser_id", pa.string(), nullable=False),
        pa.field("campaign_id", pa.string(), nullable=False),
        pa.field("ad_group_id", pa.string(), nullable=False),
        pa.field("pin_id", pa.string(), nullable=False),
        pa.field("country", pa.string(), nullable=False),
        pa.field("device", pa.string(), nullable=False),
        pa.field("placement", pa.string(), nullable=False),
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("impressions", pa.int64(), nullable=False),
        pa.field("clicks", pa.int64(), nullable=False),
        pa.field("spend_micros", pa.int64(), nullable=False),
    ]
)

# (ISO-3166 alpha-2, share of traffic, CPM in US dollars). Shares are normalised after reading.
_COUNTRIES: tuple[tuple[str, float, float], ...] = (
    ("US", 0.340, 9.0), ("GB", 0.060, 7.0), ("CA", 0.050, 6.5), ("DE", 0.050, 6.0), ("FR", 0.045, 5.0),
    ("BR", 0.040, 1.5), ("MX", 0.035, 1.5), ("AU", 0.030, 7.0), ("JP", 0.030, 6.0), ("IN", 0.030, 0.6),
    ("IT", 0.025, 3.5), ("ES", 0.025, 3.5), ("NL", 0.020, 5.5), ("KR", 0.010, 4.5), ("ID", 0.010, 0.7),
    ("SE", 0.012, 5.5), ("PL", 0.012, 2.0), ("AR", 0.012, 1.0), ("CO", 0.010, 1.0), ("PH", 0.008, 0.7),
    ("CL", 0.008, 1.5), ("BE", 0.008, 5.0), ("TR", 0.008, 1.0), ("AT", 0.007, 5.0), ("CH", 0.007, 8.0),
    ("IE", 0.006, 6.0), ("DK", 0.006, 6.0), ("NO", 0.006, 7.0), ("ZA", 0.006, 1.5), ("FI", 0.005, 5.0),
    ("PT", 0.005, 2.5), ("NZ", 0.005, 5.5), ("SG", 0.005, 5.0), ("SA", 0.005, 3.5), ("AE", 0.005, 4.5),
    ("IL", 0.004, 4.0), ("CZ", 0.004, 2.0), ("GR", 0.004, 2.0), ("RO", 0.004, 1.5), ("HU", 0.003, 1.5),
)  # fmt: skip

# (device, share of traffic, CTR factor, CPM factor)
_DEVICES: tuple[tuple[str, float, float, float], ...] = (
    ("mobile", 0.62, 1.0, 0.9),
    ("desktop", 0.25, 1.25, 1.2),
    ("tablet", 0.09, 0.9, 1.0),
    ("tv", 0.04, 0.25, 1.5),
)

# (placement, share of traffic, base CTR, CPM factor)
_PLACEMENTS: tuple[tuple[str, float, float, float], ...] = (
    ("feed", 0.42, 0.008, 1.0),
    ("search", 0.20, 0.022, 1.6),
    ("related", 0.16, 0.010, 0.8),
    ("video", 0.12, 0.004, 1.4),
    ("shopping", 0.10, 0.018, 1.3),
)

_ZIPF_EXPONENT = 1.2
_ZIPF_OFFSET = 1.5
_MIN_ADVERTISERS = 300
_MAX_ADVERTISERS = 5_000
_MIN_USERS = 2_000
_MAX_USERS = 20_000_000
_ROWS_PER_USER = 6
_USER_SKEW = 2.0  # user activity density ~ x ** (1 / skew - 1) over the users x of a country
_USER_SKEW_CUTOFF = 0.01
_SINGLE_IMPRESSION_SHARE = 0.85
_MAX_CHUNK_ROWS = 20_000_000  # keeps every string column under arrow's 2 GiB offsets
_JSON_BATCH_ROWS = 262_144  # bounds the size of one encoded JSON block
_PARQUET_ROW_GROUP = 1_000_000
_MS_PER_MINUTE = 60_000
_MS_PER_DAY = 86_400_000
_ZERO = ord("0")

_SUFFIXES = {".json": "json", ".json.gz": "json.gz", ".parquet": "parquet"}


def generate_ads(
    rows: int, days: int, seed: int, start: str = "2026-01-01", *, chunk_rows: int = 1_000_000
) -> Iterator[pa.Table]:
    """Yield ``rows`` ad events as tables of at most ``chunk_rows`` rows with schema :data:`ADS_SCHEMA`.

    Events fall in ``[start, start + days)`` (``start`` is an ISO-8601 date or instant, UTC when it has
    no offset). The distributions are described in the module docstring. The same arguments always yield
    the same tables. Raises InvalidInput, at the call rather than on first iteration, for a negative
    ``rows`` or ``seed``, ``days < 1``, ``chunk_rows`` outside [1, 20,000,000] or an unparseable ``start``;
    ``rows == 0`` yields nothing.
    """
    plan = _plan(rows, days, seed, start, chunk_rows)  # here, so that bad arguments fail at the call
    return (_sample(plan, index).table for index in range(plan.chunk_count))


def write_ads(
    path: str | os.PathLike[str], rows: int, days: int, seed: int, start: str = "2026-01-01"
) -> dict[str, Any]:
    """Write :func:`generate_ads` output to ``path`` and return a summary of what was written.

    The format follows the suffix: ``.json`` (one JSON object per line), ``.json.gz`` (the same, gzipped)
    or ``.parquet`` (zstd, row groups of 1M rows). Missing parent folders are created; the file appears
    under its name only once complete, so a failed run never leaves a truncated file behind. The same
    arguments give byte-identical files. Memory stays bounded by a few million-row chunks.

    The summary holds ``path``, ``format``, ``rows``, ``bytes``, ``start``, ``end`` (ISO-8601), the distinct
    ``advertisers``, ``campaigns``, ``ad_groups``, ``pins`` and ``users`` present, and the totals of
    ``impressions``, ``clicks`` and ``spend_micros``.

    Raises InvalidInput for another suffix or invalid arguments (see :func:`generate_ads`) and
    StorageError when the file cannot be written.
    """
    target = Path(path)
    fmt = _format_of(target)
    plan = _plan(rows, days, seed, start, 1_000_000)  # validates the arguments before touching disk
    universe = plan.universe
    seen_pins = np.zeros(universe.pin_advertiser.size, dtype=bool)
    seen_users = np.zeros(len(universe.user_ids), dtype=bool)
    totals = np.zeros(3, dtype=np.int64)

    def accounted(chunk: _Chunk) -> _Chunk:
        seen_pins[chunk.pins] = True
        seen_users[chunk.users] = True
        for i, name in enumerate(("impressions", "clicks", "spend_micros")):
            totals[i] += pc.sum(chunk.table.column(name)).as_py() or 0
        return chunk

    chunks = (accounted(_sample(plan, index)) for index in range(plan.chunk_count))
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            _write_parquet(tmp, chunks)
        else:
            _write_json(tmp, chunks, gzipped=fmt == "json.gz")
        os.replace(tmp, target)
        size = target.stat().st_size
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise StorageError(f"Cannot write sample data to [{target}]: {e.strerror or e}") from None
        raise

    pins = np.flatnonzero(seen_pins)
    return {
        "path": str(target),
        "format": fmt,
        "rows": rows,
        "bytes": size,
        "start": format_timestamp(plan.start_ms),
        "end": format_timestamp(plan.start_ms + days * _MS_PER_DAY),
        "advertisers": int(np.unique(universe.pin_advertiser[pins]).size),
        "campaigns": int(np.unique(universe.pin_campaign[pins]).size),
        "ad_groups": int(np.unique(universe.pin_ad_group[pins]).size),
        "pins": int(pins.size),
        "users": int(np.count_nonzero(seen_users)),
        "impressions": int(totals[0]),
        "clicks": int(totals[1]),
        "spend_micros": int(totals[2]),
    }


# --------------------------------------------------------------------------------------------------------
# The entity universe: advertisers, campaigns, ad groups, pins and users, fixed by (rows, seed).


@dataclass(frozen=True)
class _Universe:
    """Every entity of one run; per-row sampling only indexes into these arrays."""

    pin_cdf: np.ndarray  # cumulative event share per pin, last value 1.0
    pin_advertiser: np.ndarray  # advertiser index of each pin
    pin_campaign: np.ndarray
    pin_ad_group: np.ndarray
    pin_quality: np.ndarray  # CTR factor per pin, mean ~1
    advertiser_bid: np.ndarray  # CPM factor per advertiser, mean ~1
    advertiser_ids: pa.Array
    campaign_ids: pa.Array
    ad_group_ids: pa.Array
    pin_ids: pa.Array
    user_ids: pa.Array
    user_block_start: np.ndarray  # first user index of each country
    user_block_size: np.ndarray  # users living in each country


def _universe_for(rows: int, seed: int) -> _Universe:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0])))
    n_adv = min(max(math.isqrt(rows), _MIN_ADVERTISERS), _MAX_ADVERTISERS)
    share = (np.arange(1, n_adv + 1) + _ZIPF_OFFSET) ** -_ZIPF_EXPONENT
    share /= share.sum()

    campaigns_per_adv = (
        1 + rng.poisson(1.5, n_adv) + np.floor(60 * (share / share[0]) ** 0.6).astype(np.int64)
    )
    campaign_adv = np.repeat(np.arange(n_adv), campaigns_per_adv)
    groups_per_campaign = 1 + rng.poisson(2.0, campaign_adv.size)
    group_campaign = np.repeat(np.arange(campaign_adv.size), groups_per_campaign)
    pins_per_group = 1 + rng.poisson(3.0, group_campaign.size)
    pin_group = np.repeat(np.arange(group_campaign.size), pins_per_group)
    pin_campaign = group_campaign[pin_group]
    pin_adv = campaign_adv[pin_campaign]

    # A pin's share is its advertiser's Zipf share times log-normal splits at each level below it.
    campaign_w = _split(rng.lognormal(0.0, 1.0, campaign_adv.size), campaign_adv, n_adv)
    group_w = _split(rng.lognormal(0.0, 1.0, group_campaign.size), group_campaign, campaign_adv.size)
    pin_w = _split(rng.lognormal(0.0, 1.0, pin_group.size), pin_group, group_campaign.size)
    pin_share = share[pin_adv] * campaign_w[pin_campaign] * group_w[pin_group] * pin_w
    pin_cdf = np.cumsum(pin_share)
    pin_cdf /= pin_cdf[-1]

    n_users = min(max(rows // _ROWS_PER_USER, _MIN_USERS), _MAX_USERS)
    country_share = _shares(c[1] for c in _COUNTRIES)
    block_size = np.maximum(np.floor(country_share * n_users).astype(np.int64), 1)
    block_start = np.concatenate(([0], np.cumsum(block_size)[:-1]))

    return _Universe(
        pin_cdf=pin_cdf,
        pin_advertiser=pin_adv,
        pin_campaign=pin_campaign,
        pin_ad_group=pin_group,
        pin_quality=rng.lognormal(-0.125, 0.5, pin_group.size),  # mean exp(-0.125 + 0.5**2 / 2) = 1
        advertiser_bid=rng.lognormal(-0.045, 0.3, n_adv),
        # Ids are distinct random numbers, so id order says nothing about size or hierarchy.
        advertiser_ids=_fixed_ids("adv_", _distinct(rng, n_adv, 6), 6),
        campaign_ids=_fixed_ids("cmp_", _distinct(rng, campaign_adv.size, 7), 7),
        ad_group_ids=_fixed_ids("ag_", _distinct(rng, group_campaign.size, 8), 8),
        pin_ids=_fixed_ids("pin_", _distinct(rng, pin_group.size, 12), 12),
        user_ids=_fixed_ids("u_", _distinct(rng, int(block_size.sum()), 11), 11),
        user_block_start=block_start,
        user_block_size=block_size,
    )


def _split(weights: np.ndarray, parent: np.ndarray, n_parents: int) -> np.ndarray:
    """Normalise ``weights`` so that the children of each parent sum to one."""
    return weights / np.bincount(parent, weights=weights, minlength=n_parents)[parent]


def _shares(values: Any) -> np.ndarray:
    arr = np.fromiter(values, dtype=np.float64)
    return arr / arr.sum()


def _distinct(rng: np.random.Generator, n: int, digits: int) -> np.ndarray:
    """``n`` distinct random numbers of at most ``digits`` digits, excluding zero."""
    return rng.choice(10**digits - 1, size=n, replace=False) + 1


def _fixed_ids(prefix: str, numbers: np.ndarray, digits: int) -> pa.Array:
    """Strings ``prefix`` + zero-padded ``numbers``, built as one fixed-width byte matrix."""
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    out = np.empty((numbers.size, head.size + digits), dtype=np.uint8)
    out[:, : head.size] = head
    powers = [10**k for k in range(digits - 1, -1, -1)]
    for j, power in enumerate(powers):  # one pass per digit keeps temporaries at one int64 per id
        out[:, head.size + j] = numbers // power % 10 + _ZERO
    return _fixed_width_strings(out)


def _fixed_width_strings(matrix: np.ndarray) -> pa.Array:
    """An arrow string array whose i-th value is row i of a C-contiguous uint8 matrix."""
    n, width = matrix.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(matrix)))


# --------------------------------------------------------------------------------------------------------
# Per-chunk sampling.


@dataclass(frozen=True)
class _Chunk:
    table: pa.Table
    pins: np.ndarray  # pin index of each row
    users: np.ndarray  # user index of each row


@dataclass(frozen=True)
class _Plan:
    """A validated run: its arguments, entity universe and traffic curve; chunks are sampled from it."""

    rows: int
    seed: int
    start_ms: int
    chunk_rows: int
    universe: _Universe
    minute_cdf: np.ndarray  # cumulative traffic share per minute of the range
    day_prefixes: np.ndarray  # ``YYYY-MM-DDT`` bytes per UTC day touched, from the first

    @property
    def chunk_count(self) -> int:
        return -(-self.rows // self.chunk_rows)


def _plan(rows: int, days: int, seed: int, start: str, chunk_rows: int) -> _Plan:
    if rows < 0:
        raise InvalidInput(f"Sample rows must not be negative, got [{rows}]", "rows")
    if days < 1:
        raise InvalidInput(f"Sample days must be at least 1, got [{days}]", "days")
    if seed < 0:
        raise InvalidInput(f"Sample seed must not be negative, got [{seed}]", "seed")
    if not 1 <= chunk_rows <= _MAX_CHUNK_ROWS:
        raise InvalidInput(
            f"Sample chunk_rows must be in [1, {_MAX_CHUNK_ROWS}], got [{chunk_rows}]", "chunk_rows"
        )
    start_ms = parse_timestamp(start)
    return _Plan(
        rows=rows,
        seed=seed,
        start_ms=start_ms,
        chunk_rows=chunk_rows,
        universe=_universe_for(rows, seed),
        minute_cdf=_minute_cdf(start_ms, days),
        day_prefixes=_day_prefixes(start_ms, days),
    )


def _minute_cdf(start_ms: int, days: int) -> np.ndarray:
    """Cumulative traffic share per minute of the range: the diurnal curve times the weekend lift."""
    minute_ms = start_ms + np.arange(days * 1440, dtype=np.int64) * _MS_PER_MINUTE
    hour = (minute_ms % _MS_PER_DAY) / 3_600_000
    weekday = (minute_ms // _MS_PER_DAY + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    weight = (1 + 0.6 * np.cos(2 * np.pi * (hour - 20) / 24)) * np.where(weekday >= 5, 1.1, 1.0)
    cdf = np.cumsum(weight)
    return cdf / cdf[-1]


def _day_prefixes(start_ms: int, days: int) -> np.ndarray:
    """``YYYY-MM-DDT`` as an 11-byte row for every UTC day the range touches, from its first day."""
    first_day = start_ms // _MS_PER_DAY
    last_day = (start_ms + days * _MS_PER_DAY - 1) // _MS_PER_DAY
    texts = "".join(format_timestamp(int(d) * _MS_PER_DAY)[:11] for d in range(first_day, last_day + 1))
    return np.frombuffer(texts.encode("ascii"), dtype=np.uint8).reshape(-1, 11)


def _sample(plan: _Plan, index: int) -> _Chunk:
    """Chunk ``index`` of the plan, from its own random stream so chunks need no shared state."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([plan.seed, 1, index])))
    u, minute_cdf, start_ms, rows = plan.universe, plan.minute_cdf, plan.start_ms, plan.rows
    first = index * plan.chunk_rows
    n = min(plan.chunk_rows, rows - first)
    # Sorted uniforms over this chunk's slice [first/rows, (first+n)/rows) of the traffic distribution,
    # as normalised cumulative exponentials (uniform order statistics): sorted without a sort.
    gaps = np.cumsum(rng.standard_exponential(n + 1))
    q = (first + n * (gaps[:n] / gaps[n])) / rows
    minute = np.minimum(np.searchsorted(minute_cdf, q, side="right"), minute_cdf.size - 1)
    below = np.where(minute > 0, minute_cdf[minute - 1], 0.0)
    within = np.clip((q - below) / (minute_cdf[minute] - below), 0.0, 0.999999)
    arrival = start_ms + minute * _MS_PER_MINUTE + (within * _MS_PER_MINUTE).astype(np.int64)
    delay = rng.exponential(1_500.0, n) + np.where(rng.random(n) < 0.01, rng.random(n) * 300_000.0, 0.0)
    # An event whose delay would put it before the range keeps its arrival time (no pile-up at start).
    event = arrival - delay.astype(np.int64)
    ts = np.where(event >= start_ms, event, arrival)

    pin = _pick_sorted(rng, u.pin_cdf, n)
    adv = u.pin_advertiser[pin]
    country = _pick(rng, n, [c[1] for c in _COUNTRIES])
    device = _pick(rng, n, [d[1] for d in _DEVICES])
    placement = _pick(rng, n, [p[1] for p in _PLACEMENTS])
    # Power-law activity inside each country with the singularity at the most active user cut off, so
    # the heaviest user stays ~50x the mean however large the population grows.
    floor = _USER_SKEW_CUTOFF**_USER_SKEW
    x = (((1 - _USER_SKEW_CUTOFF) * rng.random(n) + _USER_SKEW_CUTOFF) ** _USER_SKEW - floor) / (1 - floor)
    size = u.user_block_size[country]
    user = u.user_block_start[country] + np.minimum((size * x).astype(np.int64), size - 1)

    impressions = rng.geometric(_SINGLE_IMPRESSION_SHARE, n).astype(np.int64)
    ctr = (
        np.array([p[2] for p in _PLACEMENTS])[placement]
        * np.array([d[2] for d in _DEVICES])[device]
        * u.pin_quality[pin]
    )
    clicks = rng.binomial(impressions, np.minimum(ctr, 0.5)).astype(np.int64)
    micros_per_impression = (
        np.array([c[2] for c in _COUNTRIES])[country]
        * 1_000.0  # a CPM of $1 is 1,000 micro-dollars per impression
        * np.array([p[3] for p in _PLACEMENTS])[placement]
        * np.array([d[3] for d in _DEVICES])[device]
        * u.advertiser_bid[adv]
        * rng.lognormal(-0.06125, 0.35, n)  # auction noise with mean 1
    )
    spend = np.rint(impressions * micros_per_impression).astype(np.int64)

    columns = [
        _iso_millis(ts, start_ms, plan.day_prefixes),
        pc.take(u.advertiser_ids, pa.array(adv)),
        pc.take(u.campaign_ids, pa.array(u.pin_campaign[pin])),
        pc.take(u.ad_group_ids, pa.array(u.pin_ad_group[pin])),
        pc.take(u.pin_ids, pa.array(pin)),
        pc.take(_names(_COUNTRIES), pa.array(country)),
        pc.take(_names(_DEVICES), pa.array(device)),
        pc.take(_names(_PLACEMENTS), pa.array(placement)),
        pc.take(u.user_ids, pa.array(user)),
        pa.array(impressions),
        pa.array(clicks),
        pa.array(spend),
    ]
    return _Chunk(pa.Table.from_arrays(columns, schema=ADS_SCHEMA), pin, user)


def _pick_sorted(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    """``n`` i.i.d. draws from a large cumulative distribution.

    Searching sorted uniforms walks ``cdf`` in order instead of missing the cache on every draw; sorted
    uniforms placed at randomly permuted rows are again i.i.d. uniforms, so nothing is lost.
    """
    gaps = np.cumsum(rng.standard_exponential(n + 1))
    found = np.minimum(np.searchsorted(cdf, gaps[:n] / gaps[n], side="right"), cdf.size - 1)
    out = np.empty(n, dtype=np.int64)
    out[rng.permutation(n)] = found
    return out


def _pick(rng: np.random.Generator, n: int, weights: list[float]) -> np.ndarray:
    cdf = np.cumsum(_shares(weights))
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(weights) - 1)


def _names(table: tuple[tuple[Any, ...], ...]) -> pa.Array:
    return pa.array([row[0] for row in table], type=pa.string())


def _iso_millis(ts: np.ndarray, start_ms: int, day_prefixes: np.ndarray) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` for each instant, assembled digit by digit in a byte matrix."""
    out = np.empty((ts.size, 24), dtype=np.uint8)
    out[:, :11] = day_prefixes[ts // _MS_PER_DAY - start_ms // _MS_PER_DAY]
    ms = ts % _MS_PER_DAY
    for col, value in ((11, ms // 3_600_000), (14, ms // 60_000 % 60), (17, ms // 1_000 % 60)):
        out[:, col] = value // 10 + _ZERO
        out[:, col + 1] = value % 10 + _ZERO
    out[:, [13, 16]] = ord(":")
    out[:, 19] = ord(".")
    millis = ms % 1_000
    out[:, 20] = millis // 100 + _ZERO
    out[:, 21] = millis // 10 % 10 + _ZERO
    out[:, 22] = millis % 10 + _ZERO
    out[:, 23] = ord("Z")
    return _fixed_width_strings(out)


# --------------------------------------------------------------------------------------------------------
# Writers.


def _format_of(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return _SUFFIXES[suffix]
    raise InvalidInput(f"Unsupported sample data file [{path}]: use .json, .json.gz or .parquet", "path")


def _in_order(pool: Executor, fn: Callable[[T], R], items: Iterable[T], window: int) -> Iterator[R]:
    """``fn(item)`` for each item, run on ``pool``, yielded in input order with at most ``window`` pending.

    Items are produced on the calling thread while the pool works on earlier ones: numpy, arrow, zlib and
    file writes release the GIL for bulk work, so production and ``fn`` overlap on two cores.
    """
    pending: deque[Future[R]] = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) > window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _write_parquet(path: Path, chunks: Iterator[_Chunk]) -> None:
    with (
        pq.ParquetWriter(path, ADS_SCHEMA, compression="zstd") as writer,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="grove-sample") as pool,
    ):

        def write(table: pa.Table) -> None:
            writer.write_table(table, row_group_size=_PARQUET_ROW_GROUP)

        for _ in _in_order(pool, write, (chunk.table for chunk in chunks), window=1):
            pass


def _write_json(path: Path, chunks: Iterator[_Chunk], *, gzipped: bool) -> None:
    batches = (b for chunk in chunks for b in chunk.table.to_batches(max_chunksize=_JSON_BATCH_ROWS))
    with (
        open(path, "wb") as raw,
        ThreadPoolExecutor(max_workers=2, thread_name_prefix="grove-sample-encode") as encoders,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="grove-sample-write") as writer,
    ):
        # mtime=0 and no file name in the header keep gzipped output byte-identical across runs;
        # level 1 because level 6 takes nearly three times as long for files only ~20% smaller.
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) if gzipped else None
        write = gz.write if gz is not None else raw.write
        try:
            # Three stages: this thread generates, two threads encode, one writes (writes of gigabytes
            # stall on the page cache; generation goes on meanwhile).
            encoded = _in_order(encoders, _json_lines, batches, window=3)
            for _ in _in_order(writer, write, encoded, window=2):
                pass
        finally:
            if gz is not None:
                gz.close()


def _json_lines(batch: pa.RecordBatch) -> memoryview:
    """Newline-terminated JSON objects, one per row, keys in schema order.

    Built by element-wise string concatenation in arrow. Values are written unescaped, which is correct
    because every generated string is ASCII letters, digits, ``_``, ``-``, ``:`` and ``.``.
    """
    pieces: list[Any] = []
    literal = "{"
    for i, field in enumerate(batch.schema):
        quoted = pa.types.is_string(field.type)
        literal += ("," if i else "") + f'"{field.name}":' + ('"' if quoted else "")
        column = batch.column(i)
        pieces += [pa.scalar(literal), column if quoted else pc.cast(column, pa.string())]
        literal = '"' if quoted else ""
    pieces += [pa.scalar(literal + "}\n"), ""]  # the last argument is the (empty) separator
    lines = pc.binary_join_element_wise(*pieces)
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]


def ads_ingestion_spec(
    base_dir: str, file_filter: str = "ads-*.json", *, input_format: str = "json"
) -> dict[str, Any]:
    """Druid's native batch spec for the sample ad events under ``base_dir`` (``examples/ads-index.json``).

    Datasource ``ads``: day segments, hourly rollup over the seven ad dimensions, count, sums of
    impressions, clicks and spend, and an HLL reach sketch over ``user_id``.
    """
    fmt: dict[str, Any] = {"type": input_format}
    if input_format == "parquet":
        fmt["binaryAsString"] = False
    return {
        "type": "index_parallel",
        "spec": {
            "dataSchema": {
                "dataSource": "ads",
                "timestampSpec": {"column": "timestamp", "format": "iso"},
                "dimensionsSpec": {
                    "dimensions": [
                        "advertiser_id",
                        "campaign_id",
                        "ad_group_id",
                        "pin_id",
                        "country",
                        "device",
                        "placement",
                    ]
                },
                "metricsSpec": [
                    {"type": "count", "name": "count"},
                    {"type": "longSum", "name": "impressions", "fieldName": "impressions"},
                    {"type": "longSum", "name": "clicks", "fieldName": "clicks"},
                    {"type": "longSum", "name": "spend_micros", "fieldName": "spend_micros"},
                    {"type": "HLLSketchBuild", "name": "reach", "fieldName": "user_id"},
                ],
                "granularitySpec": {
                    "type": "uniform",
                    "segmentGranularity": "day",
                    "queryGranularity": "hour",
                    "rollup": True,
                },
            },
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "local", "baseDir": base_dir, "filter": file_filter},
                "inputFormat": fmt,
                "appendToExisting": False,
            },
            "tuningConfig": {
                "type": "index_parallel",
                "partitionsSpec": {"type": "dynamic", "maxRowsPerSegment": 5000000},
                "maxRowsInMemory": 1000000,
            },
        },
    }
