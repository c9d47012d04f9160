"""``grove lookups list|set|delete``: Druid's registered lookups in the embedded database.

``set NAME FILE`` reads a JSON object of keys to values (or ``-`` for standard input) and registers it as
a ``map`` lookup of tier ``__default`` (``--tier`` for another); ``--version`` defaults to the current
time, and an explicit one must sort after the stored version (Druid's rule). ``list`` prints each
lookup's tier, name, version, size and last update; ``delete NAME`` removes one. Queries of a running
``grove serve`` over the same home see changes within its poll period.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from rich.markup import escape
from rich.table import Table

from grove.cli.output import console, print_json
from grove.cluster.embedded import Database
from grove.errors import InvalidInput
from grove.query.lookups import DEFAULT_LOOKUP_TIER

OpenDatabase = Callable[[argparse.Namespace], Database]


def add_lookups_command(sub: Any, open_database: OpenDatabase) -> None:
    """Register ``grove lookups`` on the ``grove`` sub-command parsers."""
    text = "list, set or delete registered lookups (Druid's map lookups)"
    group = sub.add_parser("lookups", help=text, description=text)
    commands = group.add_subparsers(dest="lookups_command", required=True, metavar="SUBCOMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text, description=help_text)
        return parser

    p = command("list", "list the registered lookups of every tier")
    p.add_argument("--tier", help="only this tier")
    p.add_argument("--output", choices=("table", "json"), default="table", help="output format")
    p.set_defaults(handler=lambda args: _list(args, open_database))

    p = command("set", "register or replace a map lookup from a JSON object of keys to values")
    p.add_argument("name", help="the lookup name, as queries write it: LOOKUP(col, 'name')")
    p.add_argument("map", help='a JSON file {"key": "value", ...}, or - for standard input')
    p.add_argument("--version", help="the lookup version (default: now, ISO-8601); must increase")
    p.add_argument("--tier", default=DEFAULT_LOOKUP_TIER, help="the lookup tier (default: __default)")
    p.add_argument("--injective", action="store_true", help="the map is one-to-one (isOneToOne)")
    p.set_defaults(handler=lambda args: _set(args, open_database))

    p = command("delete", "remove a registered lookup")
    p.add_argument("name", help="the lookup name")
    p.add_argument("--tier", default=DEFAULT_LOOKUP_TIER, help="the lookup tier (default: __default)")
    p.set_defaults(handler=lambda args: _delete(args, open_database))


def _list(args: argparse.Namespace, open_database: OpenDatabase) -> int:
    with open_database(args) as db:
        records = db.lookups(args.tier)
    if args.output == "json":
        out: dict[str, dict[str, Any]] = {}
        for r in records:
            out.setdefault(r.tier, {})[r.name] = r.to_json()
        print_json(out)
        return 0
    table = Table("tier", "name", "version", "keys", "updated")
    for r in records:
        size = r.factory.get("map")
        table.add_row(
            escape(r.tier),
            escape(r.name),
            escape(r.version),
            str(len(size)) if isinstance(size, dict) else "",
            escape(r.updated),
        )
    console.print(table)
    return 0


def _set(args: argparse.Namespace, open_database: OpenDatabase) -> int:
    mapping = _read_map(args.map)
    with open_database(args) as db:
        version = db.set_lookup(
            args.name, mapping, version=args.version, injective=args.injective, tier=args.tier
        )
    console.print(
        escape(f"Lookup [{args.name}] of tier [{args.tier}] is at version {version}: {len(mapping)} keys")
    )
    return 0


def _delete(args: argparse.Namespace, open_database: OpenDatabase) -> int:
    with open_database(args) as db:
        db.delete_lookup(args.name, args.tier)
    console.print(escape(f"Deleted lookup [{args.name}] of tier [{args.tier}]"))
    return 0


def _read_map(path: str) -> dict[str, str]:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as e:
        raise InvalidInput(f"Cannot read lookup map file [{path}]: {e.strerror}") from None
    try:
        mapping = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise InvalidInput(f"Lookup map file [{path}] is not JSON: {e}") from None
    if not isinstance(mapping, dict):
        raise InvalidInput(f"Lookup map file [{path}] must hold a JSON object of keys to values")
    return mapping
