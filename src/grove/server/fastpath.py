"""The server's fast path for native queries: ``POST /druid/v2/`` answered below FastAPI.

Reports send native queries back to back, and each pays whatever the server does around the query.
Most of that is FastAPI's routing, request and response objects, and it costs the most right after a
query, when the query's scan has left the processor's caches cold. This ASGI middleware answers the
plain ``POST /druid/v2/`` (and without the slash) from the raw request: the same checks, the same
runner (:func:`~grove.server.routes.native.answer_native`), the same error bodies and metrics, in a
fraction of the code. A query string (``?pretty``) or any other request goes on to FastAPI, whose
route for the same path also serves the OpenAPI docs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from grove.errors import GroveError
from grove.server.body import BodyCollector, check_declared_length, check_json_type, parse_json
from grove.server.errors import grove_error_json, unexpected_error_json
from grove.server.routes.native import answer_native
from grove.server.state import ServerState

log = logging.getLogger("grove.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PATHS = frozenset(("/druid/v2/", "/druid/v2"))
_JSON = (b"content-type", b"application/json")


class NativeFastPath:
    """ASGI middleware: answers plain native queries itself, passes everything else to ``app``."""

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] not in _PATHS
            or scope.get("query_string")
        ):
            await self.app(scope, receive, send)
            return
        state = self.state
        query_id: str | None = None
        try:
            headers = dict(scope["headers"])  # ASGI servers give header names in lower case
            check_json_type(headers.get(b"content-type", b"").decode("latin-1"))
            declared = headers.get(b"content-length")
            check_declared_length(
                None if declared is None else declared.decode("latin-1"), state.max_request_bytes
            )
            collector = BodyCollector(state.max_request_bytes)
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client went away before sending its query: nothing to answer
                collector.add(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            answer, query_id = await answer_native(state, parse_json(collector.body()))
        except GroveError as e:
            await self._respond(send, e.status, grove_error_json(e, state.host), None)
            return
        except Exception as e:
            log.exception("Unexpected error serving POST %s", scope["path"])
            await self._respond(send, 500, unexpected_error_json(e, state.host), None)
            return
        await self._respond(send, 200, answer, query_id)

    async def _respond(self, send: Send, status: int, body: bytes | memoryview, query_id: str | None) -> None:
        headers = [_JSON, (b"content-length", str(len(body)).encode())]
        if query_id:
            headers.append((b"x-druid-query-id", query_id.encode()))
        if status != 200:
            self.state.metrics.errors.labels(str(status)).inc()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
