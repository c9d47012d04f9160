"""Shared setup of the query tests: every query test runs on each segment flavour.

Helpers live beside this file (``flavours.py`` builds the flavours, ``adsdata.py`` holds the ads rows
the unit tests query). The suite runs with ``--import-mode=importlib``, which puts no test folder on
``sys.path``, so this folder is added here to make ``import flavours`` work.

``run`` is parametrized over the flavours: a test taking it runs three times, once on incremental
(in-memory) segments, once on persisted (memory-mapped) segments and once on merged segments.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from adsdata import ADS, ADS_ROLLUP  # noqa: E402
from flavours import FLAVOURS, flavour_runners  # noqa: E402

from grove.query.runner import QueryRunner  # noqa: E402


@pytest.fixture(scope="session")
def ads_runners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, QueryRunner]]:
    runners = flavour_runners([ADS, ADS_ROLLUP], tmp_path_factory.mktemp)
    yield runners
    for r in runners.values():
        r.close()


@pytest.fixture(params=FLAVOURS)
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def runner(ads_runners: dict[str, QueryRunner], flavour: str) -> QueryRunner:
    return ads_runners[flavour]


@pytest.fixture
def run(runner: QueryRunner) -> Callable[[dict[str, Any]], list[Any]]:
    return runner.run
