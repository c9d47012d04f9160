"""``grove quickstart``: sample ad events, ingested, queried — the shortest path to a working grove."""

from __future__ import annotations

import json
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


def prepare_sample(db: Database, rows: int = SAMPLE_ROWS) -> None:
    """Generate the sample events (once) and ingest them (when ``ads`` is not there yet); show a query."""
    home = Path(db.config.home)
    sample_dir = home / "sample"
    data = sample_dir / "ads-0.json"
    if not data.exists():
        console.print(f"Generating {rows:,} sample ad events over {SAMPLE_DAYS} days into {data} …")
        write_ads(data, rows=rows, days=SAMPLE_DAYS, seed=1)
    if "ads" in db.datasources():
        console.print("Datasource [bold]ads[/bold] is already ingested; skipping ingestion.")
        _show_top(db)
        return
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
    _show_top(db)


def _show_top(db: Database) -> None:
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


def print_examples(host: str, port: int) -> None:
    """Ready-to-paste ways to query the running server."""
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    query = json.dumps(
        {
            "queryType": "timeseries",
            "dataSource": "ads",
            "intervals": ["2026-01-01/2026-01-08"],
            "granularity": "day",
            "aggregations": [
                {"type": "longSum", "name": "impressions", "fieldName": "impressions"},
                {"type": "longSum", "name": "clicks", "fieldName": "clicks"},
            ],
        }
    )
    console.print(f"\n[bold]grove is serving Druid's API on {url}[/bold] (Ctrl-C to stop). Try:\n")
    console.print(
        f"curl -s -X POST -H 'Content-Type: application/json' '{url}/druid/v2/?pretty' -d '{query}'",
        markup=False,
        soft_wrap=True,
    )
    sql = json.dumps(
        {
            "query": "SELECT country, SUM(clicks) AS clicks, APPROX_COUNT_DISTINCT_DS_HLL(reach) AS reach "
            "FROM ads GROUP BY country ORDER BY clicks DESC LIMIT 5"
        }
    )
    console.print("\n# the same in Druid SQL:", markup=False)
    console.print(
        f"curl -s -X POST -H 'Content-Type: application/json' '{url}/druid/v2/sql/' -d '{sql}'",
        markup=False,
        soft_wrap=True,
    )
    console.print(
        f"""
# with pydruid (pip install pydruid pandas):
python - <<'PY'
from pydruid.client import PyDruid
from pydruid.utils.aggregators import longsum
client = PyDruid("{url}", "druid/v2")
ts = client.timeseries(datasource="ads", granularity="day", intervals="2026-01-01/2026-01-08",
                       aggregations={{"clicks": longsum("clicks")}})
print(ts.export_pandas())
PY""",
        markup=False,
        soft_wrap=True,
    )
    console.print(f"\nAPI docs: {url}/docs · metrics: {url}/metrics · README.md walks through more.\n")
