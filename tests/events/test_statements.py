"""Partner events on a warm path, counted at the driver (issue 14/16: set-based effects): a single
event about a known client costs one statement (app/services/events/single.py), a first one about
a client two, and a batch of a hundred events likewise one statement whatever its size
(app/services/events/batch.py), two when it names clients the process has not seen lately."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from app.clock import clock
from app.db import Database
from tests.driver_statements import driver_statements
from tests.events.support import CE, CE_BATCH, event, link_case
from tests.factories import World


async def test_a_batch_costs_the_statements_of_one_event(api: httpx.AsyncClient, world: World,
                                                         owner_db: Database) -> None:
    cases = [(await link_case(owner_db, world, zorg_ref=f"ZRG-{i}", police_ref=f"POL-{i}")).case
             for i in range(1, 4)]
    headers = world.headers("care_system")
    warm = await api.post("/api/v1/events", content=json.dumps(event("missed_appointment", "ZRG-3")),
                          headers={**headers, **CE})
    assert warm.status_code == 201, warm.text  # fills the token cache

    with driver_statements() as first:
        response = await api.post("/api/v1/events", content=json.dumps(event("relapse", "ZRG-1")),
                                  headers={**headers, **CE})
    assert response.status_code == 201, response.text
    with driver_statements() as single:
        response = await api.post("/api/v1/events", content=json.dumps(event("overdose", "ZRG-1")),
                                  headers={**headers, **CE})
    assert response.status_code == 201, response.text
    # One statement, in PostgreSQL's implicit transaction: the subject resolved and checked against
    # what the service expected, the event, its flag, the director's notification, the outbox rows
    # and the access-log row. A first event about a client asks for the resolution once more.
    assert len(single) == 1 and "access_log_append_strict" in single[0] and "INSERT INTO case_flag" in single[0], single
    assert len(first) == 2 and first[0] == first[1] == single[0], first
    flag = await api.get(f"/api/v1/cases/{cases[0].id}/flags", headers=world.headers("chair"))
    assert len(flag.json()) == 2, flag.text  # relapse and overdose (health: their kind hidden from the chair)

    kinds = ("relapse", "lapse", "missed_appointment", "overdose")
    many = [event(kinds[i % len(kinds)], f"ZRG-{1 + i % 3}") for i in range(100)]
    with driver_statements() as batch:
        response = await api.post("/api/v1/events", content=json.dumps(many), headers={**headers, **CE_BATCH})
    assert response.status_code == 201, response.text
    assert len(response.json()["receipts"]) == 100

    # One statement, in PostgreSQL's implicit transaction, as for a single event: the references
    # resolved and checked against what the service expected, the events, the flags opened or
    # counted up, the notifications and outbox rows, the access-log rows. A batch naming clients
    # this process has not seen lately asks for their resolution first (the same statement).
    assert len(batch) == 2 and batch[0] == batch[1], batch
    assert "access_log_append_strict" in batch[0] and "INSERT INTO case_flag" in batch[0], batch
    assert "INSERT INTO notification" in batch[0] and "INSERT INTO outbox_message" in batch[0], batch
    assert not [s for s in batch + single if "FROM organisation" in s or "FROM membership" in s]
    again = [event(kinds[i % len(kinds)], f"ZRG-{1 + i % 3}") for i in range(100)]
    with driver_statements() as warm_batch:
        response = await api.post("/api/v1/events", content=json.dumps(again), headers={**headers, **CE_BATCH})
    assert response.status_code == 201, response.text
    assert warm_batch == batch[:1], warm_batch
    batch += warm_batch

    # A case with a snooze in force: its snoozes are read, in a statement of their own.
    snooze = {"kind": "missed_appointment", "until": (clock.today() + timedelta(days=14)).isoformat(),
              "reason": "In de kliniek opgenomen tot half december."}
    created = await api.post(f"/api/v1/cases/{cases[1].id}/snoozes", json=snooze, headers=world.headers("chair"))
    assert created.status_code == 201, created.text
    with driver_statements() as snoozed:
        response = await api.post("/api/v1/events", content=json.dumps(event("relapse", "ZRG-2")),
                                  headers={**headers, **CE})
    assert response.status_code == 201, response.text
    reads_snoozes = [s for s in snoozed if "FROM signal_snooze" in s and "EXISTS" not in s]
    assert len(reads_snoozes) == 1, snoozed
    assert not [s for s in single + batch if "FROM signal_snooze" in s and "EXISTS" not in s]
