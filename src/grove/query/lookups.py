"""Registered (cluster-wide) lookups as the query engine sees them: :class:`LookupRegistry`.

Druid's registered lookups map a string key to a string value and are referred to by name from native
queries (the ``registeredLookup`` extraction function, the ``lookup`` dimension spec with ``name``,
the expression function ``lookup(expr, 'name')``) and from SQL (``LOOKUP(expr, 'name')``). The query
layer does not know where lookups are stored: the cluster layer fills a :class:`LookupRegistry` from the
metadata store and replaces its contents when they change.

A running query reads the registry through :func:`active_lookup`: the runner makes its registry the
active one for the query's duration (a context variable, copied into the runner's worker threads), so
extraction functions and expressions deep inside the engine resolve names without every call site
passing the registry along. A name that is not registered fails the query with ``Lookup [x] not
found`` (400), as in Druid.

The wire models here are what the lookups config API stores: ``{"version", "lookupExtractorFactory"}``
with Druid's ``map`` factory (``{"type": "map", "map": {...}, "isOneToOne": false}``; ``injective`` is
accepted as a synonym of ``isOneToOne``, as Druid's other factories spell it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from grove.common.models import Bool, NonEmptyStr, StringValue, TaggedUnion, WireModel, parse_model
from grove.errors import InvalidInput

DEFAULT_LOOKUP_TIER = "__default"
"""Druid's default lookup tier (``druid.lookup.lookupTier``); the tier grove's nodes load."""

_STRING = pa.large_string()

_FACTORY_UNSUPPORTED = "only map lookups are supported (type [map])"


# --- wire models ----------------------------------------------------------------------------------------


class MapLookupExtractorFactory(WireModel):
    """Druid's ``map`` lookup factory: ``{"type": "map", "map": {key: value}, "isOneToOne": false}``."""

    type: Literal["map"] = "map"
    map: dict[str, StringValue]
    is_one_to_one: Bool = False
    injective: Bool | None = None

    @property
    def one_to_one(self) -> bool:
        return self.is_one_to_one or bool(self.injective)


LookupExtractorFactory = Annotated[
    MapLookupExtractorFactory,
    TaggedUnion(
        "lookupExtractorFactory",
        unsupported={
            "cachedNamespace": _FACTORY_UNSUPPORTED,
            "kafka": _FACTORY_UNSUPPORTED,
            "loadingLookup": _FACTORY_UNSUPPORTED,
            "pollingLookup": _FACTORY_UNSUPPORTED,
        },
    ),
]


class LookupSpec(WireModel):
    """One lookup of the config API: ``{"version": "v1", "lookupExtractorFactory": {...}}``."""

    version: NonEmptyStr
    lookup_extractor_factory: LookupExtractorFactory


def parse_lookup_spec(data: Any, path: str = "") -> LookupSpec:
    """The typed form of a lookup spec; InvalidInput naming the field (``<path>.version``) when it is
    malformed, Unsupported for a factory type other than ``map``."""
    return parse_model(LookupSpec, data, path)


# --- the registry -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookupMap:
    """A registered lookup: its name, version, key → value map and whether it is one-to-one."""

    name: str
    version: str
    map: Mapping[str, str]
    injective: bool = False

    @classmethod
    def from_spec(cls, name: str, spec: LookupSpec) -> LookupMap:
        factory = spec.lookup_extractor_factory
        return cls(name, spec.version, dict(factory.map), factory.one_to_one)

    def apply(
        self, values: pa.Array, *, retain_missing: bool = False, replace_missing: str | None = None
    ) -> pa.Array:
        """Map ``values`` (strings) through the lookup, once per distinct value.

        A value without a key (null included) becomes itself when ``retain_missing``, else
        ``replace_missing`` (null by default). A key mapped to ``""`` stays ``""`` (Druid's
        SQL-compatible null handling).
        """
        return map_values(self.map, values, retain_missing=retain_missing, replace_missing=replace_missing)


def map_values(
    table: Mapping[str, str],
    values: pa.Array,
    *,
    retain_missing: bool = False,
    replace_missing: str | None = None,
) -> pa.Array:
    """Map string ``values`` through ``table``, one dictionary lookup per distinct value."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, _STRING)
    encoded = pc.dictionary_encode(values.cast(_STRING), null_encoding="encode")
    mapped: list[str | None] = []
    for v in encoded.dictionary.to_pylist():
        if v is not None and v in table:
            mapped.append(table[v])
        elif retain_missing:
            mapped.append(v)
        else:
            mapped.append(replace_missing)
    return pa.array(mapped, _STRING).take(encoded.indices)


class LookupRegistry:
    """The lookups a node serves, by name; thread-safe, replaced wholesale when the cluster's change.

    ``version`` grows with every change of the contents, so anything derived from lookups (a cached
    result, a plan) can tell whether it is stale.
    """

    def __init__(self, lookups: Mapping[str, LookupMap] | None = None) -> None:
        self._lock = threading.Lock()
        self._lookups: dict[str, LookupMap] = dict(lookups or {})
        self._version = 0

    @property
    def version(self) -> int:
        return self._version

    def get(self, name: str) -> LookupMap | None:
        """The lookup registered as ``name``, or None."""
        return self._lookups.get(name)

    def names(self) -> list[str]:
        """Names of the registered lookups, sorted."""
        return sorted(self._lookups)

    def snapshot(self) -> Mapping[str, LookupMap]:
        """The current lookups; later changes replace the registry's mapping, never alter this one."""
        return self._lookups

    def replace(self, lookups: Mapping[str, LookupMap]) -> bool:
        """Make ``lookups`` the registered ones; returns whether anything changed."""
        with self._lock:
            current = {n: lk.version for n, lk in self._lookups.items()}
            if current == {n: lk.version for n, lk in lookups.items()} and all(
                self._lookups[n].map == lk.map for n, lk in lookups.items()
            ):
                return False
            self._lookups = dict(lookups)
            self._version += 1
            return True


# --- the active registry of a running query -------------------------------------------------------------

_ACTIVE: ContextVar[Mapping[str, LookupMap] | None] = ContextVar("grove_lookups", default=None)


@contextmanager
def using_lookups(registry: LookupRegistry | None) -> Iterator[None]:
    """Make the current contents of ``registry`` what :func:`active_lookup` reads until the block ends
    (one snapshot: a query sees one version of every lookup however long it runs)."""
    token = _ACTIVE.set(registry.snapshot() if registry is not None else None)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def active_lookup(name: str, path: str | None = None) -> LookupMap:
    """The lookup ``name`` of the running query's registry; InvalidInput ``Lookup [name] not found``
    (400) when no lookup of that name is registered (or no registry is active)."""
    lookups = _ACTIVE.get()
    found = lookups.get(name) if lookups is not None else None
    if found is None:
        raise InvalidInput(f"Lookup [{name}] not found", path)
    return found
