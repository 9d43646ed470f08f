"""The access log's sealing writes each row's canonical text without a dict per row (app/audit.py
`Rows`, `seal_rows`, `AuditTrail.rows_of`, `EachOf`): the texts and hashes must be byte for byte
those of the reference (`canonical_bytes`, `row_hash`, which verification recomputes), and the rows
those of `entry_values`, for every kind of value a row holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from asyncpg.pgproto.pgproto import UUID as DriverUUID

from app.audit import (
    CHAINED_COLUMNS,
    GENESIS,
    Access,
    AuditTrail,
    EachOf,
    Rows,
    canonical_bytes,
    entry_values,
    row_hash,
    row_key,
    seal,
    seal_rows,
)
from app.auth.principal import MembershipRef, Principal
from app.clock import clock

KEY = row_key("a test key for the access log's chain, long enough")
CONFERENCE, OTHER = uuid.uuid4(), uuid.uuid4()


def _principal(**changes: Any) -> Principal:
    organisation = DriverUUID(str(uuid.uuid4()))  # as a principal read from the database holds it
    values: dict[str, Any] = dict(
        kind="person", issuer="https://idp.example/realms/\u00e9\u00e9n", subject=str(uuid.uuid4()),
        display_name='Anna "de" Vries \\ \u2603 \t\n', organisation_id=organisation, organisation_kind="care",
        memberships=(MembershipRef(id=uuid.uuid4(), conference_id=CONFERENCE, organisation_id=organisation,
                                   role="member"),
                     MembershipRef(id=uuid.uuid4(), conference_id=CONFERENCE, organisation_id=organisation,
                                   role="chair")),
        request_id=uuid.uuid4().hex, source_address="2001:db8::7",
    )
    values.update(changes)
    return Principal(**values)


def _accesses() -> list[Access]:
    case = uuid.uuid4()
    return [
        Access(action="read", resource_type="case", resource_id=str(case), case_id=case, conference_id=CONFERENCE,
               client_number="C-000001"),
        Access(action="read", resource_type="action", resource_id="x", case_id=case, conference_id=CONFERENCE,
               client_number="C-000001", part="actions", basis="agreement:1"),
        Access(action="read", resource_type="assessment", case_id=case, conference_id=CONFERENCE,
               client_number="C-000001", role="case_director"),
        Access(action="list", resource_type="case", resource_id=str(case), case_id=case, conference_id=OTHER,
               client_number="C-\u00ebn\"\\"),
        Access(action="search", resource_type="client", part="name"),
        Access(action="read", resource_type="case", resource_id=str(case), case_id=DriverUUID(str(case)),
               conference_id=DriverUUID(str(CONFERENCE)), client_number=None),
    ]


def _reference(rows: list[dict[str, Any]], chain: int, prev: str) -> tuple[str, list[bytes], list[str]]:
    """What verification recomputes: canonical_bytes and row_hash over the full row, linked."""
    texts, hashes = [], []
    for values in rows:
        linked = {**values, "chain": chain, "prev_hash": prev}
        texts.append(canonical_bytes(linked))
        prev = row_hash(linked, KEY)
        hashes.append(prev)
    return prev, texts, hashes


def _values(rows: Rows) -> list[dict[str, Any]]:
    """Rows as entry_values' dicts (columns of CHAINED_COLUMNS but chain and prev_hash)."""
    columns = CHAINED_COLUMNS[1:-1]
    return [dict(zip(columns, (*rows.shared, *varying, *rows.tail), strict=True)) for varying in rows.varying]


@pytest.fixture
def frozen():
    clock.freeze(datetime(2026, 12, 1, 7, 30, 0, 123456, tzinfo=UTC))
    yield clock.now()
    clock.reset()


@pytest.mark.parametrize("now", [
    datetime(2026, 12, 1, 7, 30, 0, 123456, tzinfo=UTC),
    datetime(2026, 12, 1, 7, 30, tzinfo=UTC),  # no microseconds
    datetime(2026, 12, 1, 8, 30, 0, 5, tzinfo=timezone(timedelta(hours=1))),  # another zone: written in UTC
])
def test_sealed_texts_and_hashes_are_the_references(now: datetime) -> None:
    principal = _principal()
    trail = AuditTrail(lambda: None, principal, None)  # type: ignore[arg-type]
    clock.freeze(now)
    try:
        batch = trail.rows_of(*_accesses())
    finally:
        clock.reset()
    one = Rows.of(entry_values(_principal(kind="system", display_name="", request_id=None, source_address=None),
                               Access(action="create", resource_type="partner_event", role="system"),
                               outcome="denied", now=now))
    for chain, prev in ((0, GENESIS), (63, "f" * 64)):
        head, texts, hashes = seal_rows([batch, one], chain, prev, KEY)
        assert (head, texts, hashes) == _reference(_values(batch) + _values(one), chain, prev)
        assert seal(_values(batch) + _values(one), chain, prev, KEY) == (head, texts, hashes)


def test_rows_are_those_of_entry_values(frozen: datetime) -> None:
    principal = _principal()
    trail = AuditTrail(lambda: None, principal, None)  # type: ignore[arg-type]
    accesses = _accesses()
    trail.note_granted_role(OTHER, "case_director")
    trail.note_granted_basis(accesses[0].case_id, "invitation:7")  # type: ignore[arg-type]
    expected = [entry_values(principal, a, outcome="allowed", now=frozen,
                             role="case_director" if a.conference_id == OTHER else None,
                             basis="invitation:7" if a.case_id == accesses[0].case_id else None)
                for a in accesses]
    assert _values(trail.rows_of(*accesses)) == expected
    assert expected[0]["role"] == "chair" and expected[3]["role"] == "case_director"
    assert expected[0]["basis"] == "invitation:7" and expected[1]["basis"] == "agreement:1"


def test_each_of_writes_the_rows_of_single_accesses(frozen: datetime) -> None:
    principal = _principal()
    cases = [(uuid.uuid4(), conference, f"C-{n:06d}") for n, conference in enumerate((CONFERENCE, CONFERENCE, OTHER))]
    single = [Access(action="list", resource_type="case", resource_id=str(case), case_id=case,
                     conference_id=conference, client_number=number) for case, conference, number in cases]
    each = EachOf(action="list", resource_type="case",
                  objects=tuple((str(case), str(case), conference, number) for case, conference, number in cases))
    searched = Access(action="search", resource_type="client", conference_id=CONFERENCE, part="name")
    for granted in (False, True):
        trail = AuditTrail(lambda: None, principal, None)  # type: ignore[arg-type]
        if granted:
            trail.note_granted_role(OTHER, "case_director")
            trail.note_granted_basis(cases[1][0], "invitation:7")
        expected = seal_rows([trail.rows_of(searched, *single)], 5, GENESIS, KEY)
        assert seal_rows([trail.rows_of(searched, each)], 5, GENESIS, KEY) == expected
    assert each.each() == single
    assert len(trail.rows_of(EachOf(action="list", resource_type="case"))) == 0
