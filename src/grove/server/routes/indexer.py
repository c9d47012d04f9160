"""The overlord's task API (``/druid/indexer/v1/...``): submit, watch, list and shut down ingestion tasks.

Tasks run in the background on this node (their heavy work in worker processes); their state lives in
the metadata store, so tasks run by other processes (``grove ingest``) are listed and reported too, but
only this node's own tasks can be shut down here. Shapes follow Druid's Tasks API: a task's status is
Druid's ``TaskStatusPlus`` and its report Druid's ``ingestionStatsAndErrors``.
"""

from __future__ import annotations

import os
from typing import Any

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from grove.common.intervals import Interval
from grove.common.time import parse_timestamp
from grove.errors import Conflict, GroveError, InvalidInput, InvalidSpec, NotFound
from grove.metadata.schema import TaskRecord
from grove.metadata.store import ACTIVE_TASK_STATUSES
from grove.server.body import read_json
from grove.server.responses import json_response
from grove.server.state import ServerState, state_of

router = APIRouter(tags=["tasks"])

_COMPLETE = ("SUCCESS", "FAILED")
# Druid's ``state`` filter values and the stored statuses each one selects.
_STATES: dict[str, tuple[str, ...]] = {
    "running": ("RUNNING",),
    "pending": ("PENDING",),
    "waiting": ("WAITING",),
    "complete": _COMPLETE,
}
_ROW_STATS = ("processed", "processedBytes", "processedWithError", "thrownAway", "unparseable")


@router.post("/druid/indexer/v1/task", summary="Submit an ingestion task")
async def submit_task(request: Request) -> Response:
    """Submit a Druid native batch ingestion spec (``index_parallel`` or ``index``); returns
    ``{"task": id}`` at once while the task runs in the background.

    An invalid spec is refused with 400 naming the offending field (``spec.dataSchema...``) and nothing
    runs; a reused task ``id`` gets 409.
    """
    state = state_of(request)
    spec = await read_json(request, state.max_request_bytes)
    if not isinstance(spec, dict):
        # submit_ingest also takes JSON text: a body that is a JSON string must not be decoded twice.
        raise InvalidSpec("Invalid ingestion spec at the top level: expected a JSON object")
    task_id = await anyio.to_thread.run_sync(state.node.db.submit_ingest, spec)
    return json_response({"task": task_id})


@router.get("/druid/indexer/v1/task/{task_id}", summary="A task's payload (its spec)")
def task_payload(task_id: str, request: Request) -> Response:
    """``{"task": id, "payload": spec}``: the spec as submitted, with the task's ``id``, ``groupId`` and
    ``dataSource``. 404 for an unknown task."""
    task = _task(request, task_id)
    payload = {**task.payload, "id": task.id, "groupId": task.id, "dataSource": task.datasource}
    return json_response({"task": task.id, "payload": payload})


@router.get("/druid/indexer/v1/task/{task_id}/status", summary="A task's status")
def task_status(task_id: str, request: Request) -> Response:
    """``{"task": id, "status": {...}}`` with ``statusCode`` RUNNING, SUCCESS or FAILED (then ``errorMsg``
    says why), ``duration`` in ms (-1 while running) and ``location``. 404 for an unknown task."""
    state = state_of(request)
    task = _task(request, task_id)
    return json_response({"task": task.id, "status": _status(task, state)})


@router.get("/druid/indexer/v1/task/{task_id}/reports", summary="A task's completion report")
def task_reports(task_id: str, request: Request) -> Response:
    """Druid's ``ingestionStatsAndErrors`` report (row counts under ``rowStats.buildSegments``, samples
    of unparseable rows, ``errorMsg``), plus grove's own summary under ``groveIngestSummary`` (segments
    published, rows after rollup, why rows were dropped, timings) once the task succeeded."""
    return json_response(_reports(_task(request, task_id)))


@router.get("/druid/indexer/v1/tasks", summary="List tasks")
def list_tasks(
    request: Request,
    state: str | None = Query(None, description="running, complete, waiting or pending"),
    datasource: str | None = Query(None, description="only tasks of this datasource"),
    max_complete: int | None = Query(None, alias="max", ge=0, description="at most this many complete tasks"),
    type: str | None = Query(None, description="only tasks of this type (index_parallel, index)"),
    created_time_interval: str | None = Query(
        None, alias="createdTimeInterval", description="created within this interval, `_` for `/`"
    ),
) -> Response:
    """Tasks newest first, each in the shape of a task status. Without ``state``: every active task and
    the complete ones (at most ``max`` of those)."""
    if state is not None and state.lower() not in _STATES:
        raise InvalidInput(
            f"Invalid task state [{state}]: expected running, complete, waiting or pending", "state"
        )
    selected = _STATES[state.lower()] if state is not None else (*ACTIVE_TASK_STATUSES, *_COMPLETE)
    return _listing(request, selected, datasource, max_complete, type, created_time_interval)


@router.get("/druid/indexer/v1/runningTasks", summary="List running tasks")
def running_tasks(request: Request, datasource: str | None = None, type: str | None = None) -> Response:
    """Like ``/tasks?state=running``."""
    return _listing(request, _STATES["running"], datasource, None, type, None)


@router.get("/druid/indexer/v1/completeTasks", summary="List complete tasks")
def complete_tasks(
    request: Request,
    datasource: str | None = None,
    max_complete: int | None = Query(None, alias="max", ge=0),
    type: str | None = None,
) -> Response:
    """Like ``/tasks?state=complete``: SUCCESS and FAILED tasks, newest first."""
    return _listing(request, _COMPLETE, datasource, max_complete, type, None)


@router.get("/druid/indexer/v1/waitingTasks", summary="List waiting tasks")
def waiting_tasks(request: Request, datasource: str | None = None) -> Response:
    """Like ``/tasks?state=waiting`` (grove starts tasks at once, so normally empty)."""
    return _listing(request, _STATES["waiting"], datasource, None, None, None)


@router.get("/druid/indexer/v1/pendingTasks", summary="List pending tasks")
def pending_tasks(request: Request, datasource: str | None = None) -> Response:
    """Like ``/tasks?state=pending`` (grove starts tasks at once, so normally empty)."""
    return _listing(request, _STATES["pending"], datasource, None, None, None)


@router.post("/druid/indexer/v1/task/{task_id}/shutdown", summary="Shut down a running task")
def shutdown_task(task_id: str, request: Request) -> Response:
    """Ask a running task to stop; returns ``{"task": id}`` at once. The task then ends FAILED with
    nothing published. 404 when the task is unknown or no longer running; 409 when it runs in another
    process (a ``grove ingest`` command), which this node cannot stop."""
    db = state_of(request).node.db
    task = _task(request, task_id)
    if task.status not in ACTIVE_TASK_STATUSES:
        raise NotFound(f"Task [{task_id}] is not running: it ended {task.status}")
    if not db.shutdown_task(task_id):
        raise Conflict(f"Task [{task_id}] runs in another process and cannot be shut down from this node")
    return json_response({"task": task_id})


@router.post(
    "/druid/indexer/v1/datasources/{datasource}/shutdownAllTasks",
    summary="Shut down every running task of a datasource",
)
def shutdown_all_tasks(datasource: str, request: Request) -> Response:
    """Shut down this node's running tasks of ``datasource``; returns ``{"dataSource": name}``. 404 when
    none is running here."""
    db = state_of(request).node.db
    running = db.metadata.list_tasks(status="RUNNING", datasource=datasource)
    stopped = [t.id for t in running if db.shutdown_task(t.id)]
    if not stopped:
        raise NotFound(f"No running task of datasource [{datasource}] on this node")
    return json_response({"dataSource": datasource})


@router.get("/druid/indexer/v1/supervisor", summary="Streaming supervisors")
def supervisors() -> Response:
    """Streaming ingestion (supervisors) is not available yet, so there are none: ``[]``."""
    return json_response([])


# --- helpers --------------------------------------------------------------------------------------------


def _task(request: Request, task_id: str) -> TaskRecord:
    task = state_of(request).node.db.metadata.get_task(task_id)
    if task is None:
        raise NotFound(f"Unknown task [{task_id}]")
    return task


def _listing(
    request: Request,
    statuses: tuple[str, ...],
    datasource: str | None,
    max_complete: int | None,
    task_type: str | None,
    created: str | None,
) -> Response:
    state = state_of(request)
    window = _created_window(created) if created is not None else None
    filtered = task_type is not None or window is not None
    metadata = state.node.db.metadata
    tasks: list[TaskRecord] = []
    for status in statuses:
        # Push ``max`` down to the store unless later filters could drop tasks from the page.
        limit = max_complete if status in _COMPLETE and not filtered else None
        tasks += metadata.list_tasks(status=status, datasource=datasource, limit=limit)
    if task_type is not None:
        tasks = [t for t in tasks if t.type == task_type]
    if window is not None:
        tasks = [t for t in tasks if window.contains_instant(parse_timestamp(t.created_date))]
    tasks.sort(key=lambda t: (t.created_date, t.id), reverse=True)
    if max_complete is not None:
        complete = [t for t in tasks if t.status in _COMPLETE][:max_complete]
        keep = {t.id for t in complete}
        tasks = [t for t in tasks if t.status not in _COMPLETE or t.id in keep]
    return json_response([_status(t, state) for t in tasks])


def _created_window(text: str) -> Interval:
    try:
        return Interval.parse(text.replace("_", "/"))
    except GroveError as e:
        raise InvalidInput(f"Invalid createdTimeInterval: {e.message}", "createdTimeInterval") from None


def _status(task: TaskRecord, state: ServerState) -> dict[str, Any]:
    """Druid's TaskStatusPlus. Pending and waiting tasks are RUNNING with that runner status, as in Druid."""
    active = task.status in ACTIVE_TASK_STATUSES
    code = "RUNNING" if active else task.status
    return {
        "id": task.id,
        "groupId": task.id,
        "type": task.type,
        "createdTime": task.created_date,
        "queueInsertionTime": task.created_date,
        "statusCode": code,
        "status": code,
        "runnerStatusCode": task.status if active else "NONE",
        "duration": -1 if task.duration_ms is None else task.duration_ms,
        "location": _location(task, state),
        "dataSource": task.datasource,
        "errorMsg": task.error_msg,
    }


def _location(task: TaskRecord, state: ServerState) -> dict[str, Any]:
    """Where the task ran: this server's address for its own tasks, else the host that recorded it.

    The task record's location is ``hostname:pid`` of the process that ran it.
    """
    hostname, _, pid = (task.location or "").rpartition(":")
    if pid == str(os.getpid()):
        host, _, port = state.host.rpartition(":")
        if port.isdigit():
            return {"host": host, "port": int(port), "tlsPort": -1}
    return {"host": hostname or None, "port": -1, "tlsPort": -1}


def _reports(task: TaskRecord) -> dict[str, Any]:
    summary = task.report if isinstance(task.report, dict) else None
    row_stats = summary.get("rowStats") if summary is not None else None
    row_stats = row_stats if isinstance(row_stats, dict) else {}
    samples = row_stats.get("errorSamples") or []
    reports: dict[str, Any] = {
        "ingestionStatsAndErrors": {
            "type": "ingestionStatsAndErrors",
            "taskId": task.id,
            "payload": {
                "ingestionState": "BUILD_SEGMENTS" if task.status in ACTIVE_TASK_STATUSES else "COMPLETED",
                "unparseableEvents": {"buildSegments": list(samples)} if samples else {},
                "rowStats": {
                    "determinePartitions": dict.fromkeys(_ROW_STATS, 0),
                    "buildSegments": {k: int(row_stats.get(k) or 0) for k in _ROW_STATS},
                },
                "errorMsg": task.error_msg,
                "segmentAvailabilityConfirmed": False,
                "segmentAvailabilityWaitTimeMs": 0,
            },
        }
    }
    if summary is not None:
        reports["groveIngestSummary"] = {"type": "groveIngestSummary", "taskId": task.id, "payload": summary}
    return reports
