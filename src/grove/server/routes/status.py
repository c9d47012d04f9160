"""Health and metrics: ``/status``, ``/status/health``, ``/metrics``."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from grove import __version__
from grove.server.responses import json_response
from grove.server.state import state_of

router = APIRouter(tags=["status"])


@router.get("/status", summary="Version and uptime")
async def status(request: Request) -> Response:
    node = state_of(request).node
    return json_response(
        {
            "version": __version__,
            "modules": [],
            "memory": {},
            "uptimeSeconds": int(time.time() - node.started),
        }
    )


@router.get("/status/health", summary="Liveness")
async def health() -> Response:
    return json_response(True)


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    state = state_of(request)
    timelines = state.node.db.segment_source.timelines()
    state.metrics.segments.set(sum(len(t.visible_segments()) for t in timelines.values()))
    state.metrics.running.set(state.node.admission.running)
    state.metrics.waiting.set(state.node.admission.waiting)
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")
