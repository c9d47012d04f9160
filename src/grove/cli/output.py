"""How the CLI prints results: rich tables for people, JSON for programs."""

from __future__ import annotations

import sys
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grove.ingest.batch import IngestSummary
from grove.metadata.schema import SegmentRecord

console = Console()


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def segment_json(record: SegmentRecord) -> dict[str, Any]:
    d = record.descriptor
    return {
        "id": str(d.id),
        "dataSource": d.datasource,
        "namespace": d.namespace,
        "interval": str(d.interval),
        "version": d.version,
        "partition": d.partition,
        "used": record.used,
        "size": d.size,
        "numRows": d.num_rows,
    }


def print_segments(records: list[SegmentRecord], output: str) -> None:
    rows = [segment_json(r) for r in records]
    if output == "json":
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} segment(s)")
    for col in ("dataSource", "namespace", "interval", "version", "partition", "used", "numRows", "size"):
        table.add_column(col, justify="right" if col in ("partition", "numRows", "size") else "left")
    for r in rows:
        table.add_row(
            *(
                escape(str(r[c]))
                for c in (
                    "dataSource",
                    "namespace",
                    "interval",
                    "version",
                    "partition",
                    "used",
                    "numRows",
                    "size",
                )
            )
        )
    console.print(table)


def print_summary(summary: IngestSummary, output: str) -> None:
    if output == "json":
        print_json(summary.to_json())
        return
    stats = summary.stats
    # Names are printed in brackets, which rich would otherwise read as markup and drop.
    table = Table(title=escape(f"Published {len(summary.segments)} segment(s) of [{summary.datasource}]"))
    table.add_column("segment id", overflow="fold")
    table.add_column("rows", justify="right")
    for s in summary.segments:
        table.add_row(escape(str(s.id)), f"{s.num_rows:,}")
    console.print(table)
    console.print(
        f"rows read {stats.rows_read:,} · ingested {stats.processed:,} (after rollup {summary.rows_after_rollup:,}) · "
        f"unparseable {stats.unparseable:,} (malformed {stats.malformed:,}, bad timestamp {stats.bad_timestamp:,}) · "
        f"thrown away {stats.thrown_away:,} (filtered {stats.filtered:,}, outside intervals {stats.outside_intervals:,}) · "
        f"with errors {stats.processed_with_error:,}"
    )
    if summary.overshadowed:
        console.print(f"{len(summary.overshadowed)} older segment(s) are now overshadowed and unused.")
    for w in summary.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")
