from __future__ import annotations

import json
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response, status
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect

from app.audit import Access
from app.auth.policy import Op
from app.deps import GuardDep, SettingsDep
from app.errors import AppError, BadRequest, PayloadTooLarge, UnprocessableEntity
from app.events.cloudevents import CE_PREFIX, binary_event, is_json_media
from app.http.paging import PagingDep
from app.schemas.common import PageOut
from app.schemas.events import (
    EventBatchReceipt,
    EventReceipt,
    FlagOut,
    RelapseHistory,
    SnoozeCreate,
    SnoozeOut,
    TimelineItem,
)
from app.services.cases import lifecycle as case_service
from app.services.cases import reads as case_reads
from app.services.events import intake as service
from app.services.events import reads as event_reads
from app.services.events import snoozes as snooze_service

router = APIRouter(tags=["partner events"])

SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


class UnsupportedMediaType(AppError):
    status = 415
    title = "Unsupported media type"
    type_slug = "unsupported-media-type"


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # built in C; a repeated key leaves fewer entries than pairs
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON (or repeats a key).") from None


def _read_events(raw: bytes, headers: Headers) -> tuple[list[Any], bool, bool]:
    """(events, batch, binary) by the CloudEvents HTTP binding: a cloudevents media type is
    structured mode (ce-* headers ignored); otherwise ce-* headers mean binary mode, and plain
    application/json without them is one structured event or a batch."""
    content_type = headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    binary = media not in (SINGLE, BATCH) and any(k.lower().startswith(CE_PREFIX) for k in headers)
    if binary:
        data = _json(raw) if is_json_media(content_type) else None
        event = binary_event(headers.items(), content_type, data)
        if isinstance(event, list):
            raise UnprocessableEntity(
                "The event failed validation; nothing was stored.", errors=[e.as_dict() for e in event]
            )
        return [event], False, True
    if media not in (SINGLE, BATCH, "application/json"):
        raise UnsupportedMediaType(
            f"Send {SINGLE}, {BATCH} or application/json (structured mode), or ce-* headers with a "
            "JSON body (binary mode)."
        )
    body = _json(raw)
    if media == SINGLE and not isinstance(body, dict):
        raise BadRequest(f"{SINGLE} carries one event object; send a batch as {BATCH}.")
    if media == BATCH and not isinstance(body, list):
        raise BadRequest(f"{BATCH} carries a JSON array of events.")
    if isinstance(body, list):
        return body, True, False
    if isinstance(body, dict):
        return [body], False, False
    raise BadRequest("Send one event object or an array of events.")


_EXAMPLE = {
    "specversion": "1.0",
    "id": "a1b2c3",
    "source": "urn:zorg:epd",
    "type": "nl.casusoverleg.event.relapse",
    "subject": "ZRG-000123",
    "time": "2026-11-20T21:15:00Z",
    "datacontenttype": "application/json",
    "data": {"substances": ["ghb"], "reported_by": "professional"},
}


@router.post(
    "/events",
    summary="Push partner events (CloudEvents 1.0: structured, binary, or a batch)",
    description=(
        "Structured mode: `application/cloudevents+json` (one event) or "
        "`application/cloudevents-batch+json` (an array). Binary mode: the attributes as `ce-*` "
        "headers (`ce-specversion`, `ce-id`, `ce-source`, `ce-type`, `ce-subject`, `ce-time`, "
        "extensions), the data as the body with any JSON `Content-Type`. Problems name each "
        "failing event (`index`) and field (`pointer`: `#/...` in the body, `#header:ce-...`)."
    ),
    responses={
        200: {"model": EventReceipt | EventBatchReceipt, "description": "Replay: the original receipt(s)."},
        201: {"model": EventReceipt | EventBatchReceipt, "description": "Stored (all or nothing)."},
        409: {"description": "An event id was reused with different content."},
        413: {"description": "Batch over the limit."},
        422: {"description": "Failing events, by index."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                SINGLE: {"schema": {"type": "object"}, "example": _EXAMPLE},
                BATCH: {"schema": {"type": "array", "items": {"type": "object"}, "minItems": 1},
                        "example": [_EXAMPLE]},
                "application/json": {"schema": {"oneOf": [{"type": "object"},
                                                          {"type": "array", "minItems": 1}]}},
            },
        }
    },
)
async def push_events(request: Request, guard: GuardDep, settings: SettingsDep) -> Response:
    # Run in a lane, without FastAPI's request handling (app/routers/__init__.py LANES).
    # A refused transfer from another system is logged (NEN 7513), like every refusal.
    await guard.require_system_scope("events:write", Access(action="create", resource_type="partner_event"))
    try:
        raw = await request.body()
    except ClientDisconnect:  # the sender gave up mid-request: nothing to answer, nothing stored
        raise BadRequest("The client disconnected before the body was received.") from None
    items, batch, binary = _read_events(raw, request.headers)
    if batch and not items:
        raise BadRequest("The batch is empty.")
    if len(items) > settings.events_max_batch:
        limit = settings.events_max_batch
        raise PayloadTooLarge(
            f"A batch holds at most {limit} events; nothing was stored.",
            limit=limit,
            errors=[
                {"index": limit, "pointer": f"#/{limit}", "detail": f"Beyond the limit of {limit} events."}
            ],
        )
    # UTF-8 JSON text holds a NUL character only as the escape \u0000 (the parser refuses a raw
    # control character); binary mode's headers are read apart from the body, so checked.
    may_hold_nul = binary or json.detect_encoding(raw) != "utf-8" or b"\\u0000" in raw
    # The session is opened only when an event takes the general way (not the single statement).
    result = await service.ingest(
        lambda: guard.session, guard.principal, guard.audit, items, batch=batch, binary=binary, settings=settings,
        may_hold_nul=may_hold_nul, db=guard.db,
    )
    body: Any = {"receipts": result.receipts} if batch else result.receipts[0]
    # The receipts are strings only: orjson writes JSONResponse's bytes, without its json.dumps.
    return Response(orjson.dumps(body), status_code=201 if result.stored else 200, media_type="application/json")


def _case_access(loaded: case_service.LoadedCase, part: str) -> Access:
    return case_reads.case_access(loaded, "read", part)


@router.get("/cases/{case_id}/events", response_model=PageOut[TimelineItem])
async def case_events(case_id: uuid.UUID, guard: GuardDep, page: PagingDep) -> PageOut[TimelineItem]:
    loaded = await case_service.load_case(guard.session, case_id)
    await guard.require(Op.event_read, loaded.target, _case_access(loaded, "events"))
    items, total = guard.deliver(await event_reads.timeline_read(
        guard.session, guard.principal, loaded, limit=page.limit, offset=page.offset))
    return PageOut(items=items, total=total, limit=page.limit, offset=page.offset, next=page.next_link(total))


@router.get("/cases/{case_id}/relapses", response_model=RelapseHistory)
async def case_relapses(case_id: uuid.UUID, guard: GuardDep) -> RelapseHistory:
    loaded = await case_service.load_case(guard.session, case_id)
    await guard.require(Op.relapse_read, loaded.target, _case_access(loaded, "relapses"))
    return guard.deliver(await event_reads.relapses_read(guard.session, guard.principal, loaded))


@router.get("/cases/{case_id}/flags", response_model=list[FlagOut])
async def case_flags(case_id: uuid.UUID, guard: GuardDep) -> list[FlagOut]:
    """Open agenda flags of the case. The reason of a flag raised by labelled information is
    shown only to those who may see that label."""
    loaded = await case_service.load_case(guard.session, case_id)
    await guard.require(Op.event_read, loaded.target, _case_access(loaded, "flags"))
    return guard.deliver(await event_reads.flags_read(guard.session, guard.principal, loaded))


def _snooze_access(loaded: case_service.LoadedCase, action: str) -> Access:
    return case_reads.case_access(loaded, action, "snoozes")


@router.get("/cases/{case_id}/snoozes", response_model=list[SnoozeOut])
async def case_snoozes(case_id: uuid.UUID, guard: GuardDep) -> list[SnoozeOut]:
    """The case's snoozes, newest first (active ones say so)."""
    loaded = await case_service.load_case(guard.session, case_id)
    await guard.require(Op.snooze_read, loaded.target, _snooze_access(loaded, "read"), hidden_as="case")
    rows = await snooze_service.list_snoozes(guard.session, case_id)
    guard.record(_snooze_access(loaded, "read"))
    return [snooze_service.snooze_out(s) for s in rows]


@router.post("/cases/{case_id}/snoozes", status_code=status.HTTP_201_CREATED, response_model=SnoozeOut)
async def snooze(case_id: uuid.UUID, body: SnoozeCreate, guard: GuardDep, settings: SettingsDep) -> SnoozeOut:
    """Hold back one kind of signal for the case until a date (the case director, or the chair):
    such events go on the timeline without a flag or a notification. An overdose is never held
    back and ends every snooze of the case."""
    loaded = await case_service.load_case(guard.session, case_id)
    await guard.require(Op.snooze_manage, loaded.target, _snooze_access(loaded, "create"), hidden_as="case")
    row = await snooze_service.create_snooze(guard.session, guard.principal, loaded, body, settings)
    guard.record(_snooze_access(loaded, "create"))
    return snooze_service.snooze_out(row)


@router.delete("/cases/{case_id}/snoozes/{snooze_id}", response_model=SnoozeOut)
async def lift_snooze(case_id: uuid.UUID, snooze_id: uuid.UUID, guard: GuardDep) -> SnoozeOut:
    loaded = await case_service.load_case(guard.session, case_id)
    await guard.require(Op.snooze_manage, loaded.target, _snooze_access(loaded, "update"), hidden_as="case")
    row = await snooze_service.lift_snooze(guard.session, case_id, snooze_id)
    guard.record(_snooze_access(loaded, "update"))
    return snooze_service.snooze_out(row)
