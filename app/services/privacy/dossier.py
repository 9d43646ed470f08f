# SQLModel fields are typed as their Python values, which SQLAlchemy 2.1's select()/where() stubs refuse.
# mypy: disable-error-code="call-overload,arg-type,union-attr,attr-defined,operator"
"""Everything the service holds about one client (AVG art. 15 and 20), for the subject-access
report and the export: every kind of client data, each item with the organisations it was shown
to and the basis it was shown on (from the access log).

Which tables hold client data follows from the schema: `client` and every table that refers to it
through a foreign key, directly or through another such table, plus the access log (which names
the client by number). Each of them is either exported (a Dutch name in KINDS_NL) or named in
NOT_CLIENT_DATA_TABLES with the reason; tests/test_subject_access_complete.py fails for a table
that is neither, so a new kind of client data cannot be left out of the answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from app.models import AccessLogEntry, Client, Organisation
from app.schemas.audit import HeldItem, SharedWith

CLIENT_TABLE = "client"
ACCESS_LOG_TABLE = "access_log"

# Every kind of client data, in the order of the answer, with its Dutch name.
KINDS_NL: dict[str, str] = {
    "client": "Persoonsgegevens",
    "client_reference": "Nummers van partnerorganisaties",
    "client_representative": "Uw wettelijk vertegenwoordiger",
    "household_member": "Uw huishouden",
    "referral": "Aanmeldingen",
    "consultation": "Vragen aan het spreekuur die tot uw aanmelding leidden",
    "case": "Casussen",
    "plan": "Plan van aanpak",
    "goal": "Doelen in het plan",
    "assessment": "ZRM-metingen (zelfredzaamheid)",
    "action": "Acties en afspraken",
    "case_note": "Notities",
    "change_record": "Wijzigingen",
    "partner_event": "Meldingen van partners",
    "case_flag": "Signalen",
    "signal_snooze": "Uitgestelde signalen",
    "aftercare_watch": "Nazorg",
    "aftercare_report": "Meldingen in de nazorg",
    "agreement": "Overeenkomsten",
    "agreement_signature": "Handtekeningen",
    "consent_withdrawal": "Ingetrokken toestemming",
    "legal_basis": "Wettelijke grondslagen",
    "checklist_tick": "Afvinklijst",
    "agenda_item": "Agendapunten",
    "decision": "Besluiten",
    "discussion_request": "Verzoeken om bespreking",
    "break_glass": "Noodtoegang (doorbraak)",
    "guest_invitation": "Gasten bij uw casus",
    "known_elsewhere_answer": "Vragen van andere casusoverleggen of u bekend bent",
    "client_request": "Uw verzoeken (AVG)",
    "client_correction": "Correcties",
    "access_log": "Wie uw gegevens zag (inzageoverzicht)",
}

# Tables that refer to a client or case but hold nothing about the person, each with the reason.
NOT_CLIENT_DATA_TABLES: dict[str, str] = {
    "anonymised_case": "only that a case was anonymised, and when: the data itself is gone",
}

# Columns never put in an answer: the keyed BSN hash and ciphertext (the BSN itself is given in
# clear), and binary scans (their hash and type are given).
_HIDDEN_COLUMNS = frozenset({"bsn_hash", "bsn_ciphertext", "scan", "prev_hash", "row_hash", "chain"})

# How the access log names what was shown: resource types and parts per kind. An item was
# shared with an organisation when a row names the item itself, or its kind within its case.
_SEEN_AS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "client": (frozenset({"client", "case"}), frozenset()),
    "client_reference": (frozenset({"client_reference"}), frozenset()),
    "referral": (frozenset({"referral"}), frozenset()),
    "case": (frozenset({"case"}), frozenset()),
    "plan": (frozenset({"plan"}), frozenset({"plan"})),
    "goal": (frozenset({"plan"}), frozenset({"plan"})),
    "assessment": (frozenset({"assessment"}), frozenset({"assessments"})),
    "action": (frozenset({"action"}), frozenset({"actions"})),
    "case_note": (frozenset({"note"}), frozenset({"notes"})),
    "change_record": (frozenset(), frozenset({"history"})),
    "partner_event": (frozenset({"partner_event"}), frozenset({"events", "relapses"})),
    "case_flag": (frozenset(), frozenset({"flags"})),
    "aftercare_report": (frozenset({"aftercare_report"}), frozenset({"aftercare"})),
    "agreement": (frozenset({"agreement", "sharing"}), frozenset()),
    "agreement_signature": (frozenset({"agreement"}), frozenset()),
    "consent_withdrawal": (frozenset({"agreement", "sharing"}), frozenset()),
    "legal_basis": (frozenset({"legal_basis", "sharing"}), frozenset()),
    "checklist_tick": (frozenset({"checklist"}), frozenset()),
    "agenda_item": (frozenset({"agenda"}), frozenset()),
    "decision": (frozenset({"decision"}), frozenset()),
    "discussion_request": (frozenset({"discussion_request"}), frozenset()),
}
_SEEN = ("read", "list", "export", "print", "search")


def client_data_tables() -> set[str]:
    """`client`, every table that refers to it by foreign key (directly or through another such
    table), and the tables that name a client by number (the access log)."""
    tables = SQLModel.metadata.tables
    found = {CLIENT_TABLE}
    changed = True
    while changed:
        changed = False
        for name, table in tables.items():
            if name not in found and any(fk.column.table.name in found for fk in table.foreign_keys):
                found.add(name)
                changed = True
    found |= {name for name, table in tables.items() if "client_number" in table.c}
    return found


@dataclass
class Dossier:
    client: Client
    rows: dict[str, list[dict[str, Any]]]  # kind -> rows (plain values)
    held: list[HeldItem]


def _plain(row: Any, table: sa.Table) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in table.c if c.name not in _HIDDEN_COLUMNS}


async def collect(session: AsyncSession, client: Client) -> dict[str, list[dict[str, Any]]]:
    """Every row of every exported kind that belongs to the client, following the foreign keys
    from the client outwards (in the schema's dependency order)."""
    tables = SQLModel.metadata.tables
    ids: dict[str, set[Any]] = {CLIENT_TABLE: {client.id}}
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in SQLModel.metadata.sorted_tables:
        name = table.name
        if name not in KINDS_NL or name in (CLIENT_TABLE, ACCESS_LOG_TABLE):
            continue
        links = [
            fk.parent.in_(sorted(ids[fk.column.table.name], key=str))
            for fk in table.foreign_keys
            if ids.get(fk.column.table.name)
        ]
        if not links:
            rows[name] = []
            continue
        order = [c for c in ("created_at", "opened_at", "assessed_on", "changed_at", "id") if c in table.c]
        found = (await session.execute(sa.select(table).where(sa.or_(*links)).order_by(*(table.c[c] for c in order)))).all()
        rows[name] = [_plain(r, table) for r in found]
        ids[name] = {r.id for r in found}
    client_table = tables[CLIENT_TABLE]
    rows[CLIENT_TABLE] = [{**_plain(client, client_table), "bsn_recorded": client.bsn_ciphertext is not None}]
    log = tables[ACCESS_LOG_TABLE]
    found = (await session.execute(
        sa.select(log).where(log.c.client_number == client.client_number, log.c.conference_id == client.conference_id)
        .order_by(log.c.occurred_at, log.c.seq)
    )).all()
    rows[ACCESS_LOG_TABLE] = [_plain(r, log) for r in found]
    return {kind: rows.get(kind, []) for kind in KINDS_NL}


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d-%m-%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    if isinstance(value, uuid.UUID):
        return str(value)[:8]
    if isinstance(value, dict | list):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else ", ".join(map(str, value))
    return str(value)


_SKIP_IN_SUMMARY = frozenset({"id", "conference_id", "client_id", "case_id", "version", "updated_at", "template_sha256",
                              "text_hash", "scan_sha256", "rendered_text", "actor_issuer", "actor_subject",
                              "request_id", "source_address", "seq"})


_IDENTITY_NL = {"name": "naam", "date_of_birth": "geboortedatum", "bsn": "BSN"}


def summary(kind: str, row: dict[str, Any]) -> str:
    """The item in one line: its fields with a value, ids shortened (the agreement's full text is
    in the export, not repeated here). The person's identity is named, not repeated: the report
    carries the client number only (the export holds the values)."""
    if kind == CLIENT_TABLE:
        held = [nl for key, nl in _IDENTITY_NL.items() if row.get(key)]
        if row.get("bsn_recorded"):
            held.append("BSN (versleuteld)")
        extra = "; heeft eenvoudige taal nodig" if row.get("plain_language") else ""
        return (f"cliëntnummer {row.get('client_number')}; vastgelegd: {', '.join(held) or 'geen persoonsgegevens'}"
                + extra)
    parts = [f"{k}: {_text(v)}" for k, v in row.items()
             if k not in _SKIP_IN_SUMMARY and v not in (None, "", [], {})]
    text = "; ".join(parts)
    return text if len(text) <= 600 else text[:597] + "..."


def _shared(kind: str, row: dict[str, Any], log: list[Any], names: dict[uuid.UUID, str]) -> list[SharedWith]:
    types, parts = _SEEN_AS.get(kind, (frozenset(), frozenset()))
    item_id = str(row.get("id"))
    case_id = row.get("case_id") if kind != "case" else row.get("id")
    found: dict[tuple[uuid.UUID, str | None], list[datetime]] = {}
    for entry in log:
        if entry.resource_id == item_id or (
            (entry.resource_type in types or (entry.part or "") in parts)
            and (case_id is None or entry.case_id in (None, case_id))
        ):
            found.setdefault((entry.organisation_id, entry.basis), []).append(entry.occurred_at)
    return [
        SharedWith(organisation_id=org, organisation_name=names.get(org, "onbekend"), basis=basis,
                   first_at=min(times), last_at=max(times))
        for (org, basis), times in sorted(found.items(), key=lambda kv: (names.get(kv[0][0], ""), kv[0][1] or ""))
    ]


async def dossier(session: AsyncSession, client: Client) -> Dossier:
    rows = await collect(session, client)
    table = AccessLogEntry.__table__
    query: Any = sa.select(
        table.c.resource_type, table.c.resource_id, table.c.part, table.c.case_id, table.c.organisation_id,
        table.c.basis, table.c.occurred_at,
    ).where(
        table.c.client_number == client.client_number, table.c.conference_id == client.conference_id,
        table.c.outcome == "allowed", table.c.action.in_(_SEEN), table.c.organisation_id.is_not(None),
    )
    log: list[Any] = list((await session.execute(query)).all())
    names: dict[uuid.UUID, str] = {}
    if log:
        found = await session.execute(
            sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_({r.organisation_id for r in log}))
        )
        names = {org_id: name for org_id, name in found.all()}
    held = []
    for kind, items in rows.items():
        for row in items:
            held.append(HeldItem(
                kind=kind, kind_nl=KINDS_NL[kind], id=str(row.get("id") or row.get("seq")),
                case_id=row.get("case_id") if kind != "case" else row.get("id"),
                summary=summary(kind, row),
                shared_with=[] if kind == ACCESS_LOG_TABLE else _shared(kind, row, log, names),
            ))
    return Dossier(client, rows, held)
