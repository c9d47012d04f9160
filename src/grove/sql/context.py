"""What planning a statement depends on besides its text: :class:`PlannerContext`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from grove.sql.text import IN_LIST_PREFIX, LiteralList


@dataclass
class PlannerContext:
    """The request's context, the IN lists lifted from the text, the statement's CURRENT_TIMESTAMP and
    time zone (``sqlTimeZone``), and the context native queries get (``sqlQueryId``...)."""

    context: Mapping[str, Any] = field(default_factory=dict)
    in_lists: list[LiteralList] = field(default_factory=list)
    now: int = 0
    tz: str = "UTC"
    native_context: dict[str, Any] = field(default_factory=dict)

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
