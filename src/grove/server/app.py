"""The HTTP app of the all-in-one node: Druid's API on FastAPI, errors rendered in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from grove import __version__
from grove.cluster.node import EmbeddedNode
from grove.server.errors import install_error_handlers
from grove.server.fastpath import NativeFastPath
from grove.server.metrics import NodeMetrics
from grove.server.routes import coordinator, indexer, lookups, native, sql, status
from grove.server.state import ServerState


def create_app(
    node: EmbeddedNode,
    host: str | None = None,
    *,
    on_ready: Callable[[EmbeddedNode], None] | None = None,
    grace_s: float = 30.0,
) -> FastAPI:
    """The FastAPI app serving ``node``; ``host`` is reported in error bodies (``host:port``).

    When the app shuts down it closes the node: running tasks are stopped (recorded FAILED) within
    ``grace_s``. ``on_ready`` runs once the app has started.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if on_ready is not None:
            on_ready(node)
        yield
        node.close(grace_s)
        state.threads.close()

    app = FastAPI(
        lifespan=lifespan,
        title="grove",
        version=__version__,
        description="grove's Druid-compatible HTTP API: native queries, SQL, tasks, coordinator and status.",
        docs_url="/docs",
        redoc_url=None,
    )
    name = host or f"{node.config.host}:{node.config.port}"
    metrics = NodeMetrics()
    app.state.grove = state = ServerState(node, metrics, name, node.config.max_request_bytes)
    node.db.ingest_listeners.append(lambda summary: metrics.rows_ingested.inc(summary.stats.processed))
    install_error_handlers(app, name, metrics)
    for module in (native, sql, status, indexer, coordinator, lookups):
        app.include_router(module.router)
    # Plain native queries skip FastAPI's routing and request objects (see grove.server.fastpath).
    app.add_middleware(NativeFastPath, state=state)
    return app
