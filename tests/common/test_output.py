"""JSON output and the collector pause around result building."""

from __future__ import annotations

import gc
import threading

import numpy as np
import orjson
import pytest

from grove.common.gcpause import gc_paused
from grove.common.jsonout import dumps


def test_dumps_writes_numpy_values_as_numbers() -> None:
    value = {"a": np.int64(3), "b": np.float64(1.5), "c": np.array([1, 2], dtype=np.int32)}
    assert orjson.loads(dumps(value)) == {"a": 3, "b": 1.5, "c": [1, 2]}


def test_dumps_writes_keys_that_are_not_strings_as_strings() -> None:
    assert dumps({1: "x", "y": {2.5: None}}) == b'{"1":"x","y":{"2.5":null}}'


def test_dumps_takes_more_options() -> None:
    assert dumps({"a": [1]}, orjson.OPT_INDENT_2) == b'{\n  "a": [\n    1\n  ]\n}'


def test_dumps_still_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError):
        dumps({"a": object()})


def test_gc_paused_resumes_the_collector_when_the_last_holder_leaves() -> None:
    assert gc.isenabled()
    inside = threading.Event()
    leave = threading.Event()

    def hold() -> None:
        with gc_paused():
            inside.set()
            leave.wait(10)

    worker = threading.Thread(target=hold)
    worker.start()
    assert inside.wait(10)
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread is still inside
    leave.set()
    worker.join(10)
    assert gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_gc_paused_resumes_after_an_error() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
