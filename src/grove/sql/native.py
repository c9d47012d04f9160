"""Planning a SELECT on a datasource as the cheapest native query that answers it: :func:`plan_native`.

The rules (``docs/querying/sql-translation.md``, "Query types"):

* **timeBoundary** — only ``MIN(__time)`` and/or ``MAX(__time)``, no GROUP BY (``bound`` when one of
  them); ``context.enableTimeBoundaryPlanning: false`` turns it off.
* **timeseries** — grouping on nothing or on one floor of ``__time`` (its period becomes the
  granularity), no HAVING or OFFSET, ORDER BY only that time key; ``skipEmptyBuckets`` is set, as
  Druid's SQL layer does, so that no row appears for a bucket without data.
* **topN** — one grouping key, ORDER BY one aggregate (or the key) with a LIMIT, no HAVING or
  OFFSET, unless ``context.useApproximateTopN`` is false (grove's topN is exact anyway).
* **groupBy** — any other aggregation: HAVING as a ``filter`` having spec, ORDER BY/LIMIT/OFFSET as
  the ``limitSpec``, expressions as virtual columns; a floor of ``__time`` among other keys becomes
  the granularity when the ordering allows it (``sortByDimsFirst`` orders by the other columns first).
* **scan** — no aggregation; ORDER BY ``__time`` only (Druid's rule), LIMIT and OFFSET pushed down.

Conditions on ``__time`` in WHERE become the query's intervals. What a native query cannot compute
(outputs over grouping keys, an ORDER BY over such expressions) is finished in memory
(:func:`grove.sql.post.finish`) on the native result.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from grove.common.time import parse_timestamp
from grove.query.runner import ParsedQuery, QueryRunner
from grove.sql import operand as T
from grove.sql import post
from grove.sql.aggregates import native_aggregation
from grove.sql.analysis import OrderItem, SelectAnalysis, time_floor_of
from grove.sql.catalog import ColumnInfo
from grove.sql.context import PlannerContext
from grove.sql.errors import SqlError, SqlUnsupported
from grove.sql.expressions import time_constant
from grove.sql.filters import FilterBuilder
from grove.sql.operand import Operand, expression_type
from grove.sql.post import Relation
from grove.sql.time import TIME, granularity_of, parse_sql_timestamp, split_time_conditions
from grove.sql.values import EXACT_TYPES, RowRelation

MAX_TOPN_LIMIT = 100_000  # Druid's default maxTopNLimit
_ALL = {"type": "all"}

Reader = Callable[[list[Any]], list[list[Any]]]


class _KeptParse:
    """The runner's parse of a plan's native query, shared by the plan and every copy bound from it."""

    __slots__ = ("parsed", "runner")

    def __init__(self) -> None:
        self.runner: QueryRunner | None = None
        self.parsed: ParsedQuery | None = None


@dataclass
class NativePlan:
    """A native query, how to read its result into raw columns, and what is left to do in memory."""

    query: dict[str, Any]
    columns: list[ColumnInfo]
    read: Reader
    outputs: list[tuple[str, Operand]]
    order: list[OrderItem] = field(default_factory=list)
    offset: int = 0
    limit: int | None = None
    exact: frozenset[str] = frozenset()  # raw columns the engine returns already typed (see Relation)
    # The raw column of each element of a result row, when the result is a list of row lists
    # (groupBy with ``resultAsArray``): rows the statement can return as they are.
    row_layout: list[str] | None = None
    # A timeseries: its rows' time column (the bucket's timestamp), when the statement selects one.
    series: bool = False
    series_time: str | None = None
    _kept: _KeptParse = field(default_factory=_KeptParse, compare=False, repr=False)

    @cached_property
    def output_columns(self) -> list[ColumnInfo]:
        return [
            ColumnInfo(name, op.type, T.native_type(op.type), op.multi_value) for name, op in self.outputs
        ]

    @cached_property
    def _direct(self) -> tuple[list[int], frozenset[str], bool] | None:
        """How :meth:`finish` takes the statement's columns straight from the raw ones, worked out
        once per plan (a bound plan keeps it): the raw column of each output, the outputs the engine
        returns already typed, and whether the engine's rows are the statement's rows. None when
        the plan orders, offsets or limits in memory or computes an output."""
        index = {c.name: i for i, c in enumerate(self.columns)}
        if self.order or self.offset or self.limit is not None:
            return None
        if not all(op.column in index for _, op in self.outputs):
            return None
        picks = [index[op.column] for _, op in self.outputs if op.column is not None]
        exact = frozenset(
            name
            for name, op in self.outputs
            if op.column in self.exact and self.columns[index[op.column]].sql_type == op.type
        )
        rows = self.row_layout is not None and [op.column for _, op in self.outputs] == self.row_layout
        return picks, exact, rows

    def run(self, runner: QueryRunner) -> list[Any]:
        """The native query's result. The query is parsed on its first run and the parse kept with the
        plan: a cached plan, bound to each statement's query id, runs without parsing it again."""
        kept = self._kept
        parsed = kept.parsed
        if parsed is None or kept.runner is not runner:
            parsed = runner.keep(self.query)
            kept.runner, kept.parsed = runner, parsed
        return runner.run_kept(parsed, self.query.get("context", {}))

    @cached_property
    def _straight(self) -> list[tuple[bool, str]] | None:
        """How :meth:`json_rows` writes a timeseries' rows straight from its result: for each output,
        whether it is the bucket's timestamp, and its raw column. None unless nothing is left to do in
        memory and every output already is in its JSON form in the result (the timestamp is, in UTC:
        the engine writes it as SQL does)."""
        direct = self._direct
        if not self.series or direct is None:
            return None
        granularity = self.query.get("granularity")
        if isinstance(granularity, dict) and granularity.get("timeZone", "UTC") != "UTC":
            return None  # buckets of another zone: the engine writes their offset, SQL writes UTC
        exact = direct[1]
        spec = []
        for name, op in self.outputs:
            if op.column is None:
                return None
            is_time = op.column == self.series_time
            if is_time and op.type != T.TIMESTAMP:
                return None
            if not is_time and not (name in exact and op.type in EXACT_TYPES and not op.multi_value):
                return None
            spec.append((is_time, op.column))
        return spec

    def json_rows(self, result: list[Any], tz: str) -> list[list[Any]] | None:
        """The statement's rows in JSON form straight from a timeseries result, in UTC, when
        :attr:`_straight` allows (a daily report's handful of rows, without reading them into
        columns and back); None otherwise."""
        spec = self._straight
        if spec is None or tz != "UTC":
            return None
        return [[r["timestamp"] if is_time else r["result"].get(c) for is_time, c in spec] for r in result]

    def finish(self, result: list[Any]) -> Relation:
        """The statement's rows from the native result."""
        data = self.read(result)
        direct = self._direct
        if direct is None:
            raw = Relation(self.columns, data)
            return post.finish(raw, self.outputs, None, self.order, self.offset, self.limit)
        picks, exact, rows = direct
        picked = [data[i] for i in picks]
        if rows:
            return RowRelation(self.output_columns, picked, exact, rows=result)
        return Relation(self.output_columns, picked, exact)

    def bind(self, query_id: str) -> NativePlan:
        """This plan with the native query's ``sqlQueryId`` and ``queryId`` set to ``query_id`` (a
        shallow copy: what the plan worked out once, such as its output columns, comes along)."""
        context = {**self.query.get("context", {}), "sqlQueryId": query_id, "queryId": query_id}
        # Worked out here, on the plan that is kept, so that every copy bound from it carries them.
        self.output_columns  # noqa: B018
        self._direct  # noqa: B018
        bound = copy.copy(self)
        bound.query = {**self.query, "context": context}
        return bound

    def explain(self) -> dict[str, Any]:
        """This query's entry in EXPLAIN's PLAN: the query, its signature and column mappings."""
        return {
            "query": self.query,
            "signature": [{"name": c.name, "type": c.druid_type} for c in self.columns],
            "columnMappings": [
                {"queryColumn": op.column, "outputColumn": name}
                for name, op in self.outputs
                if op.column is not None
            ],
        }


class VirtualColumns:
    """Expression virtual columns ``v0``, ``v1``... of one query, one per distinct expression."""

    def __init__(self) -> None:
        self.specs: list[dict[str, Any]] = []
        self._by_expr: dict[str, str] = {}

    def add(self, op: Operand) -> str:
        name = self._by_expr.get(op.expr)
        if name is None:
            name = f"v{len(self.specs)}"
            self.specs.append(
                {
                    "type": "expression",
                    "name": name,
                    "expression": op.expr,
                    "outputType": expression_type(op.type),
                }
            )
            self._by_expr[op.expr] = name
        return name


class _Builder:
    """Builds one native query; also the NativeAggContext aggregators are built with."""

    def __init__(self, analysis: SelectAnalysis, datasource: str, ctx: PlannerContext) -> None:
        self.a = analysis
        self.datasource = datasource
        self.ctx = ctx
        self.vcs = VirtualColumns()
        self.approximate_distinct = ctx.flag("useApproximateCountDistinct", True)
        self.boundary_names: dict[str, str] = {}

    def column_of(self, op: Operand) -> str:
        if op.column is not None:
            return op.column
        if op.type == T.OTHER:
            raise SqlError("Expressions over sketch columns are not supported")
        return self.vcs.add(op)

    # --- shared parts ------------------------------------------------------------------------------

    def base(self, query_type: str) -> dict[str, Any]:
        """queryType, dataSource, intervals and filter (the virtual columns are added last)."""
        tr = self.a.input_tr

        def time_value(node: Any) -> int | None:
            try:
                op = tr.translate(node)
                if op.type == T.VARCHAR and op.is_constant:  # compared with __time: read as a TIMESTAMP
                    text = op.constant()
                    return parse_sql_timestamp(text, self.ctx.tz) if isinstance(text, str) else None
                return time_constant(op)
            except SqlError:
                return None

        def time_key(node: Any) -> Any:
            try:
                op = tr.translate(node)
            except SqlError:
                return None
            if op.column == TIME:
                return True
            floor = time_floor_of(op)
            return granularity_of(floor) if floor is not None else None

        intervals, rest = split_time_conditions(self.a.where, time_value, time_key)
        query: dict[str, Any] = {
            "queryType": query_type,
            "dataSource": {"type": "table", "name": self.datasource},
            "intervals": {"type": "intervals", "intervals": intervals.to_json()},
        }
        if rest is not None:
            f = FilterBuilder(tr, self.column_of).build(rest)
            if f["type"] != "true":
                query["filter"] = f
        return query

    def done(self, query: dict[str, Any], extra_context: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.vcs.specs:
            query["virtualColumns"] = self.vcs.specs
        query["context"] = {**self.ctx.native_context, **(extra_context or {})}
        return query

    # --- scan ----------------------------------------------------------------------------------------

    def scan(self) -> NativePlan:
        a = self.a
        order = "none"
        if a.order:
            item = a.order[0]
            if len(a.order) > 1 or item.operand.column != TIME:
                names = [o.operand.column or o.operand.expr for o in a.order]
                raise SqlUnsupported(
                    f"SQL query requires ordering a table by non-time column [[{', '.join(names)}]], which is not supported."
                )
            order = "descending" if item.descending else "ascending"
        query = self.base("scan")
        columns: list[ColumnInfo] = []
        outputs: list[tuple[str, Operand]] = []
        for out in a.outputs:
            op = out.operand
            if op.type == T.OTHER:
                raise SqlUnsupported(
                    f"Selecting the sketch column [{op.column}] is not supported; aggregate it instead"
                )
            name = self.column_of(op)
            if name not in [c.name for c in columns]:
                columns.append(ColumnInfo(name, op.type, T.native_type(op.type), op.multi_value))
            outputs.append(
                (out.name, Operand(op.expr, op.type, frozenset((name,)), name, op.native, op.multi_value))
            )
        if order != "none" and TIME not in [c.name for c in columns]:
            columns.append(ColumnInfo(TIME, T.TIMESTAMP, "LONG"))
        query["resultFormat"] = "compactedList"
        query["columns"] = [c.name for c in columns]
        if a.limit == 0:
            query["intervals"] = {"type": "intervals", "intervals": [_EMPTY]}  # LIMIT 0 reads nothing
        elif a.limit is not None:
            query["limit"] = a.limit
        if a.offset:
            query["offset"] = a.offset
        if order != "none":
            query["order"] = order
        query["legacy"] = False
        query["granularity"] = _ALL
        exact = frozenset(c.name for c in columns)  # typed by their column or virtual column
        return NativePlan(self.done(query), columns, _read_scan(len(columns)), outputs, exact=exact)

    # --- aggregations --------------------------------------------------------------------------------

    def aggregate(self) -> NativePlan:
        a = self.a
        aggregators: list[dict[str, Any]] = []
        post_aggs: list[dict[str, Any]] = []
        for call in a.aggs:
            condition = (
                FilterBuilder(a.input_tr, self.column_of).build(call.filter)
                if call.filter is not None
                else None
            )
            native = native_aggregation(call, self, condition)
            aggregators += native.aggregators
            post_aggs += native.post
        agg_names = a.agg_names
        raw: dict[str, ColumnInfo] = {}
        for k in a.keys:
            raw[k.name] = ColumnInfo(k.name, k.type, T.native_type(k.type), k.operand.multi_value)
        for call in a.aggs:
            raw[call.name] = ColumnInfo(call.name, call.type, T.native_type(call.type))
        post_by_expr: dict[str, str] = {}

        def native_name(op: Operand) -> str | None:
            """A raw column holding ``op``: itself, or a new expression post-aggregator over aggregates."""
            if op.column is not None and op.column in raw:
                return op.column
            if not op.refs or not op.refs <= agg_names or op.type == T.OTHER:
                return None
            name = post_by_expr.get(op.expr)
            if name is None:
                name = f"p{len(post_by_expr)}"
                post_by_expr[op.expr] = name
                post_aggs.append({"type": "expression", "name": name, "expression": op.expr})
                raw[name] = ColumnInfo(name, op.type, T.native_type(op.type))
            return name

        outputs: list[tuple[str, Operand]] = []
        for out in a.outputs:
            name = native_name(out.operand)
            op = out.operand if name is None else _ref(name, out.operand)
            outputs.append((out.name, op))
        order_names = [native_name(o.operand) for o in a.order]
        memory_order = any(n is None for n in order_names)
        order: list[tuple[str, bool, str]] = (
            []
            if memory_order
            else [(n, o.descending, o.operand.type) for n, o in zip(order_names, a.order, strict=True) if n]
        )
        having = None
        if a.having is not None and a.post_tr is not None:
            having = FilterBuilder(a.post_tr, None).build(a.having)

        time_key, sort_dims_first = self._granularity_key(order, memory_order)
        dims = [k for k in a.keys if k is not time_key]
        granularity = time_key.time_floor if time_key is not None else _ALL
        plan = self._choose(dims, time_key, granularity, aggregators, post_aggs, order, memory_order, having)
        query_type = plan["queryType"]
        columns = list(raw.values())
        row_layout: list[str] | None = None
        if query_type == "timeBoundary":
            read = _boundary_reader(columns, self.boundary_names)
        elif query_type == "timeseries":
            read = _read_timeseries(columns, time_key.name if time_key else None)
        elif query_type == "topN":
            read = _read_topn(columns)
        else:
            layout = ([time_key.name] if time_key is not None else []) + [d.name for d in dims]
            layout += [agg["name"] for agg in aggregators] + [p["name"] for p in post_aggs]
            read = _read_group_by(columns, layout)
            row_layout = layout
            if sort_dims_first and order:
                plan["context"]["sortByDimsFirst"] = True
        pushed = not memory_order and query_type != "timeBoundary" and a.limit != 0
        exact = {k.name for k in dims} | {agg["name"] for agg in aggregators if _typed(agg)}
        outputs_plan = NativePlan(plan, columns, read, outputs, exact=frozenset(exact), row_layout=row_layout)
        if query_type == "timeseries":
            outputs_plan.series = True
            outputs_plan.series_time = time_key.name if time_key else None
        if not pushed:
            outputs_plan.order = a.order if memory_order else []
            outputs_plan.offset = a.offset
            outputs_plan.limit = a.limit
        return outputs_plan

    def _granularity_key(self, order: list[tuple[str, bool, str]], memory_order: bool) -> tuple[Any, bool]:
        """The time-floor key that can be the query granularity, and whether to sort by dims first."""
        a = self.a
        time_keys = [k for k in a.keys if k.time_floor is not None]
        if not time_keys:
            return None, False
        key = time_keys[0]
        if a.having_operand is not None and key.name in a.having_operand.refs:
            return None, False
        if memory_order or not order:
            return key, False
        names = [name for name, _, _ in order]
        if key.name not in names:
            return key, True
        if names == [key.name] and len(a.keys) == 1 and a.having is None and not a.offset:
            return key, False  # a timeseries, ascending or descending
        if names[0] == key.name and not order[0][1] and key.name not in names[1:]:
            return key, False
        return None, False

    def _choose(
        self,
        dims: list[Any],
        time_key: Any,
        granularity: dict[str, Any],
        aggregators: list[dict[str, Any]],
        post_aggs: list[dict[str, Any]],
        order: list[tuple[str, bool, str]],
        memory_order: bool,
        having: dict[str, Any] | None,
    ) -> dict[str, Any]:
        a = self.a
        boundary = self._time_boundary(dims, time_key, aggregators, post_aggs, having)
        if boundary is not None:
            return boundary
        order_names = [n for n, _, _ in order]
        time_only_order = time_key is not None and order_names in ([], [time_key.name])
        if (
            not dims
            and having is None
            and a.offset == 0
            and not memory_order
            and (time_key is None or time_only_order)
            and (time_key is not None or not order)
        ):
            query = self.base("timeseries")
            query["granularity"] = granularity
            if order and order[0][1]:
                query["descending"] = True
            if a.limit and time_key is not None:
                query["limit"] = a.limit
            query["aggregations"] = aggregators
            if post_aggs:
                query["postAggregations"] = post_aggs
            extra = {"skipEmptyBuckets": True} if time_key is not None else {}
            return self.done(query, extra)
        if (
            len(dims) == 1
            and time_key is None
            and having is None
            and a.offset == 0
            and not memory_order
            and len(order) == 1
            and a.limit is not None
            and 0 < a.limit <= MAX_TOPN_LIMIT
            and self.ctx.flag("useApproximateTopN", True)
        ):
            name, descending, sort_type = order[0]
            dim = dims[0]
            if name == dim.name:
                metric: dict[str, Any] = {"type": "dimension", "ordering": _ordering(sort_type)}
                if descending:
                    metric = {"type": "inverted", "metric": metric}
            else:
                metric = {"type": "numeric", "metric": name}
                if not descending:
                    metric = {"type": "inverted", "metric": metric}
            query = self.base("topN")
            query["dimension"] = self._dimension(dim)
            query["metric"] = metric
            query["threshold"] = a.limit
            query["granularity"] = _ALL
            query["aggregations"] = aggregators
            if post_aggs:
                query["postAggregations"] = post_aggs
            return self.done(query)
        query = self.base("groupBy")
        query["granularity"] = granularity
        query["dimensions"] = [self._dimension(d) for d in dims]
        query["aggregations"] = aggregators
        if post_aggs:
            query["postAggregations"] = post_aggs
        if having is not None:
            query["having"] = {"type": "filter", "filter": having}
        if not memory_order and (order or a.limit is not None or a.offset):
            time_name = time_key.name if time_key is not None else None
            limit_spec: dict[str, Any] = {
                "type": "default",
                "columns": [
                    {
                        "dimension": n,
                        "direction": "descending" if d else "ascending",
                        "dimensionOrder": _ordering(t),
                    }
                    for n, d, t in order
                    if n != time_name
                ],
            }
            if a.limit:
                limit_spec["limit"] = a.limit
            if a.offset:
                limit_spec["offset"] = a.offset
            query["limitSpec"] = limit_spec
        return self.done(query, {"resultAsArray": True})

    def _time_boundary(
        self,
        dims: list[Any],
        time_key: Any,
        aggregators: list[dict[str, Any]],
        post_aggs: list[dict[str, Any]],
        having: Any,
    ) -> dict[str, Any] | None:
        a = self.a
        if dims or time_key is not None or having is not None or post_aggs or not aggregators:
            return None
        if (
            not self.ctx.flag("enableTimeBoundaryPlanning", True)
            or a.order
            or a.offset
            or a.limit is not None
        ):
            return None
        kinds = set()
        for agg in aggregators:
            if agg.get("fieldName") != TIME or agg["type"] not in ("longMin", "longMax"):
                return None
            kinds.add(agg["type"])
        if any(o.operand.column is None for o in a.outputs):
            return None
        query = self.base("timeBoundary")
        if kinds == {"longMin"}:
            query["bound"] = "minTime"
        elif kinds == {"longMax"}:
            query["bound"] = "maxTime"
        self.boundary_names = {
            agg["name"]: ("minTime" if agg["type"] == "longMin" else "maxTime") for agg in aggregators
        }
        return self.done(query)

    def _dimension(self, key: Any) -> dict[str, Any]:
        op: Operand = key.operand
        column = op.column if op.column is not None else self.column_of(op)
        return {
            "type": "default",
            "dimension": column,
            "outputName": key.name,
            "outputType": _output_type(op.type),
        }


_EMPTY = "1970-01-01T00:00:00.000Z/1970-01-01T00:00:00.000Z"


_TYPED = (
    "count",
    "longSum",
    "longMin",
    "longMax",
    "doubleSum",
    "doubleMin",
    "doubleMax",
    "floatSum",
    "floatMin",
    "floatMax",
)


def _typed(agg: dict[str, Any]) -> bool:
    """Whether an aggregator's results already are ints (BIGINT) or floats (DOUBLE/FLOAT)."""
    if agg["type"] == "filtered":
        return _typed(agg["aggregator"])
    kind = agg["type"]
    if kind in _TYPED or kind.startswith(("long", "double", "float", "string")):
        return True
    return kind in ("cardinality", "hyperUnique", "HLLSketchBuild", "HLLSketchMerge") and bool(
        agg.get("round")
    )


def _output_type(sql_type: str) -> str:
    native = T.native_type(sql_type)
    return native if native in ("STRING", "LONG", "DOUBLE", "FLOAT") else "STRING"


def _ordering(sql_type: str) -> str:
    return "lexicographic" if sql_type in (T.VARCHAR, T.NULL) else "numeric"


def _ref(name: str, op: Operand) -> Operand:
    return Operand(f'"{name}"', op.type, frozenset((name,)), name, T.native_type(op.type), op.multi_value)


# --- reading native results into raw columns ---------------------------------------------------------


class _Times:
    """ISO timestamps of a native result back to epoch ms, each distinct text parsed once."""

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}

    def __call__(self, text: str | None) -> int | None:
        if text is None:
            return None
        found = self._cache.get(text)
        if found is None:
            found = self._cache[text] = parse_timestamp(text)
        return found


_UTC_TEXT = np.dtype("<U24")  # 2015-09-12T00:00:00.000Z
_FEW_TEXTS = 16
_parse_remembered = lru_cache(maxsize=8192)(parse_timestamp)


def _epoch_ms(texts: list[Any]) -> list[Any]:
    """ISO timestamps of a native result back to epoch ms. The engine writes UTC instants as
    ``2015-09-12T00:00:00.000Z``: such a column is read at once by numpy (less its ``Z``); any other
    (nulls, offsets, the min/max instants) one distinct text at a time."""
    if len(texts) <= _FEW_TEXTS:
        # A daily report's handful of days, asked for again and again.
        return [None if t is None else _parse_remembered(t) for t in texts]
    if texts:
        column = np.asarray(texts)
        if column.dtype == _UTC_TEXT and bool(np.char.endswith(column, "Z").all()):
            try:
                ms = column.astype("<U23").astype("datetime64[ms]").astype(np.int64)
            except ValueError:
                pass
            else:
                return ms.tolist()
    times = _Times()
    return [times(t) for t in texts]


def _read_scan(width: int) -> Reader:
    def read(result: list[Any]) -> list[list[Any]]:
        rows: list[Any] = []
        for batch in result:
            rows.extend(batch["events"])
        if not rows:
            return [[] for _ in range(width)]
        return [list(c) for c in zip(*rows, strict=True)]

    return read


def _read_group_by(columns: list[ColumnInfo], layout: list[str]) -> Reader:
    position = {name: i for i, name in enumerate(layout)}
    picks = [position[c.name] for c in columns]

    def read(result: list[Any]) -> list[list[Any]]:
        if not result:
            return [[] for _ in columns]
        transposed = list(zip(*result, strict=True))
        return [list(transposed[i]) for i in picks]

    return read


def _read_timeseries(columns: list[ColumnInfo], time_name: str | None) -> Reader:
    def read(result: list[Any]) -> list[list[Any]]:
        out = []
        for c in columns:
            if c.name == time_name:
                out.append(_epoch_ms([r["timestamp"] for r in result]))
            else:
                out.append([r["result"].get(c.name) for r in result])
        return out

    return read


def _read_topn(columns: list[ColumnInfo]) -> Reader:
    def read(result: list[Any]) -> list[list[Any]]:
        rows = [row for bucket in result for row in bucket["result"]]
        return [[r.get(c.name) for r in rows] for c in columns]

    return read


def plan_native(analysis: SelectAnalysis, datasource: str, ctx: PlannerContext) -> NativePlan:
    """The native plan of ``analysis`` over ``datasource`` (see the module docstring)."""
    builder = _Builder(analysis, datasource, ctx)
    return builder.aggregate() if analysis.aggregate else builder.scan()


def _boundary_reader(columns: list[ColumnInfo], names: dict[str, str]) -> Reader:
    def read(result: list[Any]) -> list[list[Any]]:
        times = _Times()
        found = result[0]["result"] if result else {}
        return [[times(found.get(names[c.name])) if c.name in names else None] for c in columns]

    return read


def scan_columns(columns: list[ColumnInfo]) -> list[ColumnInfo]:
    """The columns ``SELECT *`` returns from a datasource: all but sketch columns (grove's scan
    cannot return sketches in Druid's wire form)."""
    return [c for c in columns if c.sql_type != T.OTHER]
