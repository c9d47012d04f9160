"""``grove quickstart``: sample ad events, ingested, queried — the shortest path to a working grove."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from grove.cli.output import console, print_summary
from grove.cli.progress import IngestProgress
from grove.cluster.embedded import Database
from grove.ingest.sample import ads_ingestion_spec, write_ads

SAMPLE_ROWS = 500_000
SAMPLE_DAYS = 7

TOP_ADVERTISERS: dict[str, Any] = {
    "queryType": "topN",
    "dataSource": "ads",
    "intervals": ["2026-01-01/2026-01-08"],
    "granularity": "all",
    "dimension": "advertiser_id",
    "metric": "spend_micros",
    "threshold": 5,
    "aggregations": [
        {"type": "longSum", "name": "impressions", "fieldName": "impressions"},
        {"type": "longSum", "name": "clicks", "fieldName": "clicks"},
        {"type": "longSum", "name": "spend_micros", "fieldName": "spend_micros"},
        {"type": "HLLSketchMerge", "name": "reach", "fieldName": "reach", "round": True},
    ],
    "postAggregations": [
        {
            "type": "arithmetic",
            "name": "ctr",
            "fn": "/",
            "fields": [
                {"type": "fieldAccess", "fieldName": "clicks"},
                {"type": "fieldAccess", "fieldName": "impressions"},
            ],
        },
    ],
}


def run_quickstart(db: Database, args: argparse.Namespace) -> int:
    home = Path(db.config.home)
    sample_dir = home / "sample"
    data = sample_dir / "ads-0.json"
    if not data.exists():
        console.print(f"Generating {SAMPLE_ROWS:,} sample ad events over {SAMPLE_DAYS} days into {data} …")
        write_ads(data, rows=SAMPLE_ROWS, days=SAMPLE_DAYS, seed=1)
    spec = ads_ingestion_spec(str(sample_dir.absolute()))
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        summary = db.ingest(spec, progress=IngestProgress(progress))
    print_summary(summary, "table")
    result = db.query(TOP_ADVERTISERS)
    table = Table(title="Top 5 advertisers by spend (a Druid topN query)")
    for col in ("advertiser_id", "impressions", "clicks", "spend_micros", "reach", "ctr"):
        table.add_column(col, justify="left" if col == "advertiser_id" else "right")
    for row in result[0]["result"] if result else []:
        table.add_row(
            row["advertiser_id"],
            f"{row['impressions']:,}",
            f"{row['clicks']:,}",
            f"{row['spend_micros']:,}",
            f"{row['reach']:,}",
            f"{row['ctr']:.4f}",
        )
    console.print(table)
    console.print(
        "Next: query it yourself — `grove query my-query.json` with any Druid native query on datasource "
        "[bold]ads[/bold], or ingest your own file with `grove ingest my-spec.json` (see README.md)."
    )
    return 0
