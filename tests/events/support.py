"""Helpers for the partner-event and webhook tests: an app whose webhook settings allow loopback
receivers, linked client references, CloudEvent builders, and a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from cloudevents.core.bindings.http import HTTPMessage, to_binary, to_structured
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.clock import clock
from app.db import Database
from app.models import Case, ClientReference, PartnerSystem
from tests.factories import World, add_case
from tests.idp import free_port

NS = "nl.casusoverleg.event."
CE = {"content-type": "application/cloudevents+json"}
CE_BATCH = {"content-type": "application/cloudevents-batch+json"}

WEBHOOK_OVERRIDES: dict[str, object] = {
    "webhook_allow_private_targets": True,
    "webhook_backoff_base_seconds": 0.05,
    "webhook_backoff_max_seconds": 0.2,
    "webhook_timeout_seconds": 5.0,
    "webhook_max_attempts": 12,
}

_counter = itertools.count(1)


def event(
    type_: str = "relapse",
    subject: str = "ZRG-1",
    *,
    id: str | None = None,
    source: str = "urn:zorg:epd",
    time: datetime | str | None = None,
    data: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    when = time if isinstance(time, str) else (time or clock.now() - timedelta(hours=1)).isoformat()
    defaults: dict[str, dict[str, Any]] = {
        "relapse": {"substances": ["ghb"], "reported_by": "professional"},
        "lapse": {"substances": ["alcohol"]},
        "overdose": {"substances": ["ghb"], "hospitalised": True},
        "treatment_completed": {"programme": "klinische detox"},
        "police_contact": {"contact_kind": "arrest"},
        "detention": {"detention_kind": "police_custody"},
        "nuisance_report": {"category": "noise"},
        "missed_appointment": {"appointment_kind": "treatment"},
    }
    body = {
        "specversion": "1.0",
        "id": id or f"ev-{uuid.uuid4().hex[:12]}-{next(_counter)}",
        "source": source,
        "type": NS + type_,
        "subject": subject,
        "time": when,
        "datacontenttype": "application/json",
        "data": data if data is not None else defaults.get(type_, {}),
    }
    body.update(extra)
    return body


@dataclass
class Linked:
    case: Case
    zorg_ref: str = "ZRG-1"
    police_ref: str = "POL-1"


async def link_case(
    owner_db: Database,
    world: World,
    *,
    zorg_ref: str = "ZRG-1",
    police_ref: str = "POL-1",
    **case_kwargs: Any,
) -> Linked:
    """A case in conference A, with the care and police organisations' references linked, and
    partner systems for care (events + webhooks) and the neighbourhood team (webhooks)."""
    async with owner_db.sessions() as session:
        case = await add_case(session, world, **case_kwargs)
        session.add(
            ClientReference(
                client_id=case.client_id, organisation_id=world.orgs["zorg"].id, reference=zorg_ref
            )
        )
        session.add(
            ClientReference(
                client_id=case.client_id, organisation_id=world.orgs["politie"].id, reference=police_ref
            )
        )
        if "care_system" not in world.systems:
            for key, slug, scopes in (
                ("care_system", "zorg", ["events:write", "webhooks:manage"]),
                ("wijkteam_system", "wijkteam", ["webhooks:manage"]),
                ("gemeente_system", "gemeente", ["webhooks:manage", "events:write"]),
            ):
                system = PartnerSystem(
                    organisation_id=world.orgs[slug].id, name=key, subject=f"{key}-sub", scopes=scopes
                )
                session.add(system)
                world.systems[key] = system
        await session.commit()
    return Linked(case=case, zorg_ref=zorg_ref, police_ref=police_ref)


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver: a real HTTP server on loopback, started and stopped at will (to play
    a receiver that is down for a while). `respond` decides the answer per request."""

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    respond: Callable[[Received], Response] = lambda r: Response(status_code=204)
    delay: float = 0.0  # seconds to stall before answering
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def counts(self) -> Counter[str]:
        return Counter(r.webhook_id for r in self.received)

    def start(self) -> None:
        lock = threading.Lock()

        async def hook(request: Request) -> Response:
            item = Received(
                request.headers.get("webhook-id", ""), dict(request.headers), await request.body()
            )
            with lock:
                self.received.append(item)
            if self.delay:
                await asyncio.sleep(self.delay)
            return self.respond(item)

        app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("receiver did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._server = None


def sdk_event(type_: str = "relapse", subject: str = "ZRG-1", **attributes: Any) -> CloudEvent:
    """The same event as `event()`, built by the official CloudEvents SDK (2.x)."""
    body = event(type_, subject, **attributes)
    data = body.pop("data")
    body["time"] = datetime.fromisoformat(body["time"])
    return CloudEvent(attributes=body, data=data)


def structured(ce: CloudEvent) -> HTTPMessage:
    return to_structured(ce, JSONFormat())


def binary(ce: CloudEvent) -> HTTPMessage:
    return to_binary(ce, JSONFormat())


def batch(*events: CloudEvent) -> HTTPMessage:
    """A CloudEvents JSON batch: the structured form of each event, in an array."""
    fmt = JSONFormat()
    body = b"[" + b",".join(fmt.write(e) for e in events) + b"]"
    return HTTPMessage(headers={"content-type": "application/cloudevents-batch+json"}, body=body)
