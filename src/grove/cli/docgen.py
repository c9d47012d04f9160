"""Generated reference docs: settings (from the settings table) and CLI commands (from the parser).

``python -m grove.cli.docgen`` rewrites ``docs/configuration.md`` and ``docs/cli.md``; a test fails
when the committed files differ from what this generates, so the docs never drift from the code.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grove.cli.main import build_parser
from grove.common.config import SETTINGS


def configuration_md() -> str:
    lines = [
        "# Configuration",
        "",
        "Every setting can be given as a command-line flag, a `GROVE_*` environment variable, or a key in",
        "`grove.toml` (section `[grove]`) in the home folder. Precedence, lowest first: default, config file,",
        "environment, flag. `{home}` in a default stands for the home folder.",
        "",
        "| setting | flag | environment | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default != "" else "(empty)"
        lines.append(f"| `{s.name}` | `{s.flag}` | `{s.env}` | {default} | {s.help} |")
    lines += [
        "",
        "Example `var/grove.toml`:",
        "",
        "```toml",
        "[grove]",
        'metadata_url = "postgresql+psycopg://grove:secret@db.internal/grove"',
        'deep_storage = "s3://ads-segments/grove"',
        "ingest_workers = 8",
        "```",
        "",
    ]
    return "\n".join(lines)


def _commands(parser: argparse.ArgumentParser, prefix: str) -> list[tuple[str, argparse.ArgumentParser]]:
    out: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix} {name}"
                nested = _commands(sub, full)
                out.extend(nested if nested else [(full, sub)])
    return out


def cli_md() -> str:
    # argparse wraps help to the terminal width; fix it so the generated file is the same everywhere.
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return _cli_md()
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def _cli_md() -> str:
    parser = build_parser()
    lines = [
        "# The `grove` command",
        "",
        "Global options (before the command) come from the settings table; see "
        "[configuration.md](configuration.md). Every command exits 0 on success and 1 with a one-line "
        "`grove: error: ...` on standard error otherwise (2 for usage errors).",
        "",
    ]
    for full, sub in _commands(parser, "grove"):
        lines += [
            f"## `{full}`",
            "",
            (sub.description or "").rstrip(".") + ".",
            "",
            "```text",
            sub.format_help().strip(),
            "```",
            "",
        ]
    return "\n".join(lines)


GENERATED = {"configuration.md": configuration_md, "cli.md": cli_md}


def main(argv: list[str] | None = None) -> int:
    target = Path(argv[0]) if argv else Path("docs")
    target.mkdir(parents=True, exist_ok=True)
    for name, render in GENERATED.items():
        (target / name).write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
