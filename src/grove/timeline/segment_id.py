"""Segment ids: datasource, interval, version, partition number and namespace.

String form (the one Druid's APIs and tools show):

* empty namespace: Druid's ``{dataSource}_{start}_{end}_{version}`` with ``_{partition}`` appended when
  the partition is not 0. grove also appends ``_0`` when the version itself ends in ``_<digits>``, so
  that every id parses back to exactly the id it came from.
* with a namespace: ``{dataSource}_{start}_{end}_{version}_{partition}@{namespace}``; the partition is
  always written. Namespaces start with a letter or digit and hold letters, digits, ``_``, ``-`` and
  ``.`` only (so ``_`` is free to name the empty namespace in storage paths), and versions may not
  hold ``@``, so the last ``@`` is unambiguous: the timestamps of a plain id always contain ``:``.

Start and end are ISO-8601 UTC with milliseconds; the leftmost ``_<start>_<end>_`` pair splits the id,
so datasources and versions may contain ``_``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grove.common.intervals import Interval
from grove.common.time import format_timestamp, parse_timestamp
from grove.errors import InvalidInput

NAMESPACE_RE = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9_.\-]*)?$")
_TS = r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
_SPLIT_RE = re.compile(rf"_({_TS})_({_TS})_")
_PARTITION_RE = re.compile(r"^(.*)_(\d+)$", re.S)


def validate_namespace(namespace: str, path: str = "namespace") -> str:
    if not isinstance(namespace, str) or not NAMESPACE_RE.fullmatch(namespace):
        raise InvalidInput(
            f"Invalid namespace [{namespace}] in {path}: start with a letter or digit; use letters, digits, "
            "'_', '-' and '.' only",
            path,
        )
    return namespace


def validate_version(version: str, path: str = "version") -> str:
    if not isinstance(version, str) or not version or "@" in version or "/" in version:
        raise InvalidInput(f"Invalid version [{version}] in {path}: non-empty, without '@' or '/'", path)
    return version


@dataclass(frozen=True, slots=True, order=True)
class SegmentId:
    datasource: str
    interval: Interval
    version: str
    partition: int = 0
    namespace: str = ""

    def __str__(self) -> str:
        head = f"{self.datasource}_{format_timestamp(self.interval.start)}_{format_timestamp(self.interval.end)}_{self.version}"
        if self.namespace:
            return f"{head}_{self.partition}@{self.namespace}"
        if self.partition or _PARTITION_RE.match(self.version):
            return f"{head}_{self.partition}"
        return head

    @staticmethod
    def parse(text: str) -> SegmentId:
        """Parse the string form back into a SegmentId; raises InvalidInput naming the id otherwise."""
        namespace = ""
        body = text
        at = text.rfind("@")
        if at >= 0 and NAMESPACE_RE.fullmatch(text[at + 1 :]) and text[at + 1 :]:
            body, namespace = text[:at], text[at + 1 :]
        m = _SPLIT_RE.search(body)
        if not m:
            raise InvalidInput(f"Invalid segment id [{text}]")
        datasource = body[: m.start()]
        rest = body[m.end() :]
        partition = 0
        pm = _PARTITION_RE.match(rest)
        if pm:
            rest, partition = pm.group(1), int(pm.group(2))
        elif namespace:
            raise InvalidInput(f"Invalid segment id [{text}]: a namespaced id carries its partition")
        if not datasource or not rest or "@" in rest:
            # A version never holds '@': text after the last '@' that is not a valid namespace
            # makes the whole id invalid rather than a version with '@' in it.
            raise InvalidInput(f"Invalid segment id [{text}]")
        interval = Interval(parse_timestamp(m.group(1)), parse_timestamp(m.group(2)))
        return SegmentId(datasource, interval, rest, partition, namespace)
