"""The ``grove`` command.

Global options come from the settings table (:mod:`grove.common.config`): ``--home``,
``--metadata-url``, ``--deep-storage`` and the rest, each also settable as ``GROVE_*``. Commands exit
0 on success and 1 with a one-line ``grove: error: ...`` on stderr when anything goes wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from grove.cli.lookups import add_lookups_command
from grove.cli.output import console, print_json, print_segments, print_summary
from grove.cli.progress import IngestProgress
from grove.cli.query import add_query_command
from grove.cli.quickstart import prepare_sample, print_examples
from grove.cli.serve import add_serve_options, serve
from grove.cli.sql import add_sql_command
from grove.cluster.embedded import Database, open_database
from grove.common.config import SETTINGS, Config
from grove.errors import GroveError, InvalidInput
from grove.ingest.sample import write_ads

Handler = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {s.name: getattr(args, s.name, None) for s in SETTINGS}


def _open(args: argparse.Namespace) -> Database:
    settings = _settings(args)
    home = settings.pop("home")
    return open_database(home, **settings)


def cmd_ingest(args: argparse.Namespace) -> int:
    spec = _read_spec(args.spec)
    with _open(args) as db:
        show = args.output == "table" and sys.stderr.isatty() and not args.quiet
        if show:
            columns = (
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=True) as progress:
                summary = db.ingest(spec, progress=IngestProgress(progress))
        else:
            summary = db.ingest(spec)
    print_summary(summary, args.output)
    return 0


def _read_spec(path: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as e:
        raise InvalidInput(f"Cannot read spec file [{path}]: {e.strerror}") from None


def cmd_segments_list(args: argparse.Namespace) -> int:
    with _open(args) as db:
        records = db.segments(args.datasource, include_unused=args.all)
    print_segments(records, args.output)
    return 0


def cmd_segments_revert(args: argparse.Namespace) -> int:
    with _open(args) as db:
        result = db.revert(args.datasource, args.interval, args.to_version, args.namespace)
    if args.output == "json":
        print_json({"markedUsed": list(result.marked_used), "markedUnused": list(result.marked_unused)})
    else:
        console.print(
            escape(f"Reverted [{args.datasource}] {args.interval} to version {args.to_version}: ")
            + f"{len(result.marked_used)} segment(s) used again, {len(result.marked_unused)} newer segment(s) unused."
        )
    return 0


def cmd_datasources(args: argparse.Namespace) -> int:
    with _open(args) as db:
        names = db.datasources()
    if args.output == "json":
        print_json(names)
    else:
        for name in names:
            console.print(escape(name))
    return 0


def cmd_generate_ads(args: argparse.Namespace) -> int:
    summary = write_ads(Path(args.out), rows=args.rows, days=args.days, seed=args.seed, start=args.start)
    if args.output == "json":
        print_json(summary)  # nothing else on stdout, so that it parses
    else:
        console.print(escape(f"Wrote {args.rows:,} ad events to {args.out}"))
    return 0


def _config(args: argparse.Namespace) -> Config:
    settings = _settings(args)
    if getattr(args, "serve_host", None):
        settings["host"] = args.serve_host
    if getattr(args, "serve_port", None):
        settings["port"] = args.serve_port
    return Config.load(settings)


def cmd_serve(args: argparse.Namespace) -> int:
    return serve(_config(args))


def cmd_quickstart(args: argparse.Namespace) -> int:
    config = _config(args)
    with Database(config) as db:
        prepare_sample(db, args.rows)
    if args.no_serve:
        return 0
    return serve(config, on_ready=lambda node: print_examples(config.host, config.port))


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got [{text}]") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got [{text}]")
    return value


def _command(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    """A subcommand whose one-line help is also its description (shown by --help and in docs/cli.md)."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grove", description="grove: real-time analytics for ads reporting."
    )
    for s in SETTINGS:
        parser.add_argument(s.flag, dest=s.name, type=s.type, default=None, help=f"{s.help} (env {s.env})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def output_option(p: argparse.ArgumentParser, default: str = "table") -> None:
        p.add_argument("--output", choices=("table", "json"), default=default, help="output format")

    p = _command(sub, "ingest", "run a Druid native batch ingestion spec")
    p.add_argument("spec", help="the spec file (JSON), or - for standard input")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    output_option(p)
    p.set_defaults(handler=cmd_ingest)

    seg = _command(sub, "segments", "list segments or revert a datasource to an older version")
    seg_sub = seg.add_subparsers(dest="segments_command", required=True, metavar="SUBCOMMAND")
    p = _command(seg_sub, "list", "list segments (used ones unless --all)")
    p.add_argument("--datasource", help="only this datasource")
    p.add_argument("--all", action="store_true", help="include unused (overshadowed or reverted) segments")
    output_option(p)
    p.set_defaults(handler=cmd_segments_list)
    p = _command(seg_sub, "revert", "make an older version visible again in an interval")
    p.add_argument("--datasource", required=True)
    p.add_argument("--namespace", default="", help="the namespace to revert (default: the empty one)")
    p.add_argument("--interval", required=True, help="ISO-8601 interval, e.g. 2026-01-01/2026-01-02")
    p.add_argument("--to-version", required=True, help="the version to bring back")
    output_option(p)
    p.set_defaults(handler=cmd_segments_revert)

    p = _command(sub, "datasources", "list datasources with used segments")
    output_option(p)
    p.set_defaults(handler=cmd_datasources)

    add_query_command(sub, _open)
    add_sql_command(sub, _open)
    add_lookups_command(sub, _open)

    p = _command(sub, "serve", "run the all-in-one node: Druid's HTTP API on port 8888")
    add_serve_options(p)
    p.set_defaults(handler=cmd_serve)

    p = _command(sub, "quickstart", "generate sample ad events, ingest them, run a first query, then serve")
    add_serve_options(p)
    p.add_argument("--no-serve", action="store_true", help="stop after ingesting and querying (no server)")
    p.add_argument(
        "--rows", type=_positive, default=500_000, help="sample events to generate (first run only)"
    )
    p.set_defaults(handler=cmd_quickstart)

    gen = _command(sub, "generate", "generate sample data")
    gen_sub = gen.add_subparsers(dest="generate_command", required=True, metavar="KIND")
    p = _command(gen_sub, "ads", "realistic ad events (JSON lines, .json.gz or Parquet by suffix)")
    p.add_argument("--rows", type=_positive, default=1_000_000)
    p.add_argument("--days", type=_positive, default=7)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", default="2026-01-01", help="first day (ISO date)")
    p.add_argument("--out", required=True, help="output file: .json, .json.gz or .parquet")
    output_option(p)
    p.set_defaults(handler=cmd_generate_ads)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except GroveError as e:
        print(f"grove: error: {e.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("grove: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
