"""``grove serve``: the all-in-one node on port 8888 (``--host``/``--port`` to change).

SIGTERM or Ctrl-C shuts down gracefully: the server stops accepting connections, in-flight queries
finish, running tasks are stopped and recorded as failed, and the metadata store is closed.
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
from collections.abc import Callable

import uvicorn

from grove.cli.output import console
from grove.cluster.node import EmbeddedNode
from grove.common.config import Config
from grove.common.memory import keep_freed_memory
from grove.server.app import create_app

_GRACE_S = 30


def serve(config: Config, on_ready: Callable[[EmbeddedNode], None] | None = None) -> int:
    node = EmbeddedNode(config)

    def ready(node: EmbeddedNode) -> None:
        # Everything loaded so far (modules, the timeline, the app) lives as long as the server: move
        # it out of the collector's reach, so that a full collection walks only what queries create
        # (it would otherwise walk ~200,000 objects, tens of milliseconds, every few big answers).
        gc.collect()
        gc.freeze()
        keep_freed_memory()
        if on_ready is not None:
            on_ready(node)

    app = create_app(node, on_ready=ready, grace_s=_GRACE_S)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=_GRACE_S,
            limit_concurrency=None,
        )
    )
    console.print(
        f"grove is serving [bold]{config.home}[/bold] on http://{config.host}:{config.port} (Ctrl-C to stop)"
    )
    # uvicorn stops gracefully on SIGTERM and then re-raises the signal; a graceful stop exits 0.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", dest="serve_host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", dest="serve_port", type=int, help="port to listen on (default 8888)")
