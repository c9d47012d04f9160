"""Shared setup of the segment tests.

The helpers that build blocks from Python rows live in ``blockgen.py`` beside this file. The suite runs
with ``--import-mode=importlib``, which puts no test folder on ``sys.path``, so this folder is added
here (conftest files load before the test modules) to make ``import blockgen`` work.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
