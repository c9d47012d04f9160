"""What planning a statement depends on besides its text: :class:`PlannerContext`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from grove.sql.catalog import Catalog
from grove.sql.text import IN_LIST_PREFIX, LiteralList


@dataclass
class PlannerContext:
    """The request's context, the IN lists lifted from the text, the statement's CURRENT_TIMESTAMP and
    time zone (``sqlTimeZone``), and the context native queries get (``sqlQueryId``...).

    ``read_now`` records whether planning asked for CURRENT_TIMESTAMP: a plan that did depends on the
    moment it was made, not only on the statement and its context, and is not reused.
    """

    context: Mapping[str, Any] = field(default_factory=dict)
    in_lists: list[LiteralList] = field(default_factory=list)
    current_timestamp: int = 0
    tz: str = "UTC"
    native_context: dict[str, Any] = field(default_factory=dict)
    #: the catalog, for functions that name catalog objects (``LOOKUP(expr, 'name')``)
    catalog: Catalog | None = None
    read_now: bool = field(default=False, init=False)

    @property
    def now(self) -> int:
        """The statement's CURRENT_TIMESTAMP (epoch ms)."""
        self.read_now = True
        return self.current_timestamp

    def flag(self, key: str, default: bool) -> bool:
        value = self.context.get(key, default)
        if isinstance(value, str):
            return value.strip().lower() == "true"
        return bool(value)

    def in_list(self, node: exp.Expression) -> list[Any] | None:
        """The lifted literal list an IN's marker stands for, or None when ``node`` is no marker."""
        if isinstance(node, exp.Column) and node.name.startswith(IN_LIST_PREFIX):
            return self.in_lists[int(node.name[len(IN_LIST_PREFIX) :])]
        return None
