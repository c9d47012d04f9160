"""What route handlers reach through ``request.app.state``: the node, its metrics and settings."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from grove.cluster.node import EmbeddedNode
from grove.server.metrics import NodeMetrics


@dataclass
class ServerState:
    node: EmbeddedNode
    metrics: NodeMetrics
    host: str
    max_request_bytes: int


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.grove
    return state
