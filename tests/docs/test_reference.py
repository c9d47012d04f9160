"""The reference docs cover the code: a new endpoint, query type, spec type, spec field, expression
function, ingestion field or CLI command fails here until it is documented.

Every list is collected from the code itself — the HTTP app's routes, the query-type registry, the
tagged unions and models of the query specs, the expression function registry, the ingestion spec
models and the CLI parser — and looked up in the docs. A name counts as documented when it appears as
a word inside inline code or a code block (`` `lgK` ``, `` `timestampSpec.column` ``,
``{"type": "local", "baseDir"}``), so prose that merely mentions a word does not count. Settings are
checked by ``tests/cli/test_docgen.py``, which also keeps the generated ``configuration.md`` and
``cli.md`` current.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Literal, get_args, get_origin

import fastapi.routing
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from grove.cli.main import build_parser
from grove.cluster.node import EmbeddedNode
from grove.common.config import Config
from grove.common.models import TaggedUnion
from grove.ingest.spec import IngestionSpec
from grove.query.expression import FUNCTIONS
from grove.query.registry import query_types, toolchest_for
from grove.server.app import create_app
from grove.sql.aggregates import AGGREGATES as SQL_AGGREGATES
from grove.sql.functions import FUNCTIONS as SQL_FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# HTTP methods as api.md writes them: `GET /status`.
_ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")
_CODE = re.compile(r"```.*?```|`[^`]+`", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


@cache
def doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


@cache
def code_words(name: str) -> frozenset[str]:
    """Every word inside inline code and code blocks of ``docs/<name>``."""
    return frozenset(w for span in _CODE.findall(doc(name)) for w in _WORD.findall(span))


def undocumented(names: set[str], page: str) -> list[str]:
    words = code_words(page)
    return sorted(n for n in names if n not in words)


# --------------------------------------------------------------------------------------------------------
# Walking the code.


def submodules(package: str) -> Iterator[ModuleType]:
    root = importlib.import_module(package)
    for info in pkgutil.iter_modules(root.__path__):
        yield importlib.import_module(f"{package}.{info.name}")


def tagged_unions(*packages: str) -> list[tuple[Any, TaggedUnion]]:
    """Every module-level ``Annotated[Union, TaggedUnion(...)]`` in the packages' modules."""
    found: dict[int, tuple[Any, TaggedUnion]] = {}
    for package in packages:
        for module in submodules(package):
            for value in vars(module).values():
                if get_origin(value) is Annotated:
                    for meta in value.__metadata__:
                        if isinstance(meta, TaggedUnion):
                            found[id(meta)] = (get_args(value)[0], meta)
    return list(found.values())


def type_literals(union: Any) -> set[str]:
    """The ``type`` literals of a tagged union's member models."""
    members = get_args(union) or (union,)
    out: set[str] = set()
    for member in members:
        annotation = member.model_fields["type"].annotation
        assert get_origin(annotation) is Literal, f"{member.__name__}.type is not a Literal"
        out.update(get_args(annotation))
    return out


def models_reachable(root: Any, seen: set[type[BaseModel]] | None = None) -> set[type[BaseModel]]:
    """Every pydantic model reachable from ``root`` through field annotations (unions, tuples, ...)."""
    seen = set() if seen is None else seen
    if isinstance(root, type) and issubclass(root, BaseModel):
        if root not in seen:
            seen.add(root)
            for field in root.model_fields.values():
                models_reachable(field.annotation, seen)
        return seen
    for arg in get_args(root):
        models_reachable(arg, seen)
    return seen


def aliases(models: set[type[BaseModel]]) -> set[str]:
    """The wire names (camelCase aliases) of the models' fields."""
    return {field.alias or name for model in models for name, field in model.model_fields.items()}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route of ``app``, routers included; HEAD only where it is not implied by GET."""
    # FastAPI 0.165+ wraps included routers; iter_route_contexts flattens them. Older versions list
    # the routes themselves.
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(flatten(app.routes)) if flatten is not None else list(app.routes)
    out = set()
    for route in routes:
        path = getattr(route, "path", None)
        methods = set(getattr(route, "methods", None) or ())
        if path is None or not methods:
            continue
        if "GET" in methods:
            methods.discard("HEAD")
        out.update((method, path) for method in methods)
    return out


def cli_commands(parser: argparse.ArgumentParser, prefix: str = "grove") -> list[str]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = cli_commands(sub, f"{prefix} {name}")
                out.extend(nested or [f"{prefix} {name}"])
    return out


# --------------------------------------------------------------------------------------------------------
# docs/api.md


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """The routes of the real app, built over a node on an empty home (no server is started)."""
    home = tmp_path_factory.mktemp("reference") / "home"
    node = EmbeddedNode(Config.load({"home": str(home)}, environ={}))
    try:
        return app_routes(create_app(node))
    finally:
        node.close(0)


def test_every_endpoint_is_documented(routes: set[tuple[str, str]]) -> None:
    assert len(routes) > 40, "the app's routes were not found"
    text = doc("api.md")
    missing = sorted(f"{method} {path}" for method, path in routes if f"`{method} {path}`" not in text)
    assert not missing, f"endpoints missing from docs/api.md (write them as `METHOD /path`): {missing}"


def test_every_documented_endpoint_exists(routes: set[tuple[str, str]]) -> None:
    documented = set(_ENDPOINT.findall(doc("api.md")))
    stale = sorted(f"{method} {path}" for method, path in documented - routes)
    assert not stale, f"docs/api.md documents endpoints the app does not have: {stale}"


# --------------------------------------------------------------------------------------------------------
# docs/queries.md


def test_every_query_type_is_documented() -> None:
    types = set(query_types())
    assert "timeseries" in types
    assert not undocumented(types, "queries.md")
    headings = set(re.findall(r"^### (\w+)$", doc("queries.md"), re.MULTILINE))
    assert types <= headings, f"query types without a section: {sorted(types - headings)}"


def test_every_spec_type_is_documented() -> None:
    """Filters, aggregators, post-aggregators, extraction functions, dimension specs, virtual columns,
    having and limit specs, search specs, lookups and the query types' own tagged parts: every ``type``
    grove accepts, and every type it refuses by name."""
    unions = tagged_unions("grove.query.spec", "grove.query.types")
    kinds = {meta.kind for _, meta in unions}
    for kind in ("filter", "aggregator", "postAggregator", "extractionFn", "dimensionSpec", "virtualColumn"):
        assert kind in kinds, f"no tagged union of kind [{kind}] found"
    accepted = set().union(*(type_literals(union) for union, _ in unions))
    refused = set().union(*(set(meta.unsupported) for _, meta in unions))
    assert not undocumented(accepted, "queries.md"), "spec types missing from docs/queries.md"
    assert not undocumented(refused, "queries.md"), "refused spec types missing from docs/queries.md"


def test_every_query_field_is_documented() -> None:
    """Every field of every query type and of every spec model they reach, by its wire name."""
    models: set[type[BaseModel]] = set()
    for query_type in query_types():
        models_reachable(toolchest_for(query_type).model, models)
    assert len(models) > 50
    missing = undocumented(aliases(models), "queries.md")
    assert not missing, f"query fields missing from docs/queries.md: {missing}"


def test_every_expression_function_is_documented() -> None:
    text = doc("queries.md")
    names = FUNCTIONS.names()
    assert len(names) > 50
    missing = [n for n in names if f"`{n}`" not in text and f"`{n}(" not in text]
    assert not missing, f"expression functions missing from docs/queries.md: {missing}"


def test_every_sql_function_and_aggregate_is_documented() -> None:
    words = code_words("sql.md")
    names = set(SQL_FUNCTIONS) | set(SQL_AGGREGATES)
    assert len(names) > 60
    missing = sorted(n for n in names if n not in words)
    assert not missing, f"SQL functions missing from docs/sql.md: {missing}"


def test_every_sql_context_key_the_planner_reads_is_documented() -> None:
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "src/grove/sql").glob("*.py"))
    keys = set(re.findall(r"""(?:context\.get|\.flag)\(\s*["']([A-Za-z]+)["']""", sources))
    assert {"sqlTimeZone", "useApproximateCountDistinct"} <= keys
    missing = undocumented(keys, "sql.md")
    assert not missing, f"SQL context keys missing from docs/sql.md: {missing}"


# --------------------------------------------------------------------------------------------------------
# docs/ingestion.md, docs/cli.md and the README


def test_every_ingestion_field_is_documented() -> None:
    """Every field of the ingestion spec's own models; the filters and aggregators it reuses are the
    query specs' models, documented in queries.md (checked above)."""
    models = {m for m in models_reachable(IngestionSpec) if m.__module__.startswith("grove.ingest")}
    assert IngestionSpec in models and len(models) > 10
    missing = undocumented(aliases(models), "ingestion.md")
    assert not missing, f"ingestion spec fields missing from docs/ingestion.md: {missing}"


def test_every_cli_command_is_documented() -> None:
    commands = cli_commands(build_parser())
    assert "grove serve" in commands
    text = doc("cli.md")
    missing = [c for c in commands if f"## `{c}`" not in text]
    assert not missing, (
        f"commands missing from docs/cli.md: run `python -m grove.cli.docgen docs` ({missing})"
    )


def test_readme_links_every_reference_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    missing = [p for p in pages if f"(docs/{p})" not in readme]
    assert not missing, f"README.md does not link {missing}"
