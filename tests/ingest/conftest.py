"""Makes ``import ingest_helpers`` work for the ingestion tests.

The suite runs with ``--import-mode=importlib``, which puts no test folder on ``sys.path``; the shared
builders live in ``ingest_helpers.py`` beside this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
