"""Two-way aftercare (issue 17): during an aftercare watch under a signed nazorg agreement, the
neighbourhood team reports worry, a missed contact or a suspected relapse to the addiction care
institution (through the web client or the API, or as a partner event: the CloudEvents types
aftercare_worry, aftercare_missed_contact, aftercare_suspected_relapse), and the institution
answers. Each report notifies the institution's people (and its systems: `aftercare.report`); each
answer notifies the reporter (or, for a system's report, the neighbourhood team; its systems:
`aftercare.reply`).

Labels: a suspected relapse is health, owned by the reporting organisation (so the team always
sees its own report); worry and a missed contact are general. The answer is health information
of the institution, which the nazorg agreement shares with the neighbourhood team."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access, Read
from app.auth.policy import NeedToKnow, Op, authorize
from app.auth.principal import Principal
from app.clock import clock
from app.errors import Conflict, NotFound, UnprocessableEntity
from app.events.outbox import enqueue, organisations_of_case
from app.models import AftercareReport, AftercareWatch, ConferenceOrganisation, Notification, Organisation
from app.models.enums import AftercareReportKind, Label, OrganisationKind
from app.schemas.aftercare import AftercareReportCreate, AftercareReportOut
from app.services.agreements import sharing
from app.services.cases.lifecycle import LoadedCase
from app.services.cases.reads import basis_rows
from app.services.need_to_know import need_to_know


def label_of(kind: AftercareReportKind) -> str:
    return Label.health if kind is AftercareReportKind.suspected_relapse else Label.general


def report_access(loaded: LoadedCase, action: str, report_id: uuid.UUID | None = None) -> Access:
    return Access(action=action, resource_type="aftercare_report",
                  resource_id=str(report_id) if report_id else None, case_id=loaded.case.id,
                  conference_id=loaded.case.conference_id, client_number=loaded.client.client_number,
                  part="aftercare")


async def active_watch(session: AsyncSession, case_id: uuid.UUID, at: datetime) -> AftercareWatch | None:
    """The aftercare watch that runs at `at`, while the nazorg consent is in force (checked where
    the information flows, like a relapse arriving)."""
    watch = (await session.execute(
        sa.select(AftercareWatch).where(col(AftercareWatch.case_id) == case_id,
                                        col(AftercareWatch.started_at) <= at, col(AftercareWatch.ends_at) >= at)
        .order_by(col(AftercareWatch.ends_at).desc()).limit(1)
    )).scalar_one_or_none()
    if watch is None or not await sharing.has_aftercare_consent(session, case_id):
        return None
    return watch


async def report(session: AsyncSession, principal: Principal, loaded: LoadedCase,
                 data: AftercareReportCreate) -> AftercareReport:
    """A report by a person of the neighbourhood team (the policy admitted one)."""
    observed = data.observed_on or clock.today()
    if observed > clock.today():
        raise UnprocessableEntity("What was seen cannot lie in the future.", pointer="/observed_on")
    watch = await active_watch(session, loaded.case.id, clock.now())
    if watch is None:
        raise Conflict("This case has no aftercare watch under a signed nazorg agreement at this moment.")
    membership = principal.membership_in(loaded.case.conference_id)
    assert membership is not None
    row = AftercareReport(case_id=loaded.case.id, conference_id=loaded.case.conference_id, watch_id=watch.id,
                          kind=data.kind, label=label_of(data.kind), organisation_id=principal.organisation_id,
                          reported_by_id=membership.id, observed_on=observed,
                          note=(data.note or "").strip() or None)
    session.add(row)
    await session.flush()
    await _tell_care(session, row)
    return row


async def report_from_event(session: AsyncSession, *, case_id: uuid.UUID, conference_id: uuid.UUID,
                            organisation_id: uuid.UUID, kind: AftercareReportKind, event_id: uuid.UUID,
                            occurred_at: datetime) -> bool:
    """A partner event of the neighbourhood team becomes a report when a watch runs at its time
    (and the consent is still in force); otherwise it stays on the timeline only."""
    watch = await active_watch(session, case_id, occurred_at)
    if watch is None:
        return False
    row = AftercareReport(case_id=case_id, conference_id=conference_id, watch_id=watch.id, kind=kind,
                          label=label_of(kind), organisation_id=organisation_id, partner_event_id=event_id,
                          observed_on=occurred_at.date())
    session.add(row)
    await session.flush()
    await _tell_care(session, row)
    return True


async def _organisations_of_kind(session: AsyncSession, conference_id: uuid.UUID, kind: str) -> list[uuid.UUID]:
    return list((await session.execute(
        sa.select(col(Organisation.id))
        .join(ConferenceOrganisation, col(ConferenceOrganisation.organisation_id) == col(Organisation.id))
        .where(col(ConferenceOrganisation.conference_id) == conference_id, col(Organisation.kind) == kind)
    )).scalars())


async def _tell_care(session: AsyncSession, row: AftercareReport) -> None:
    care = await _organisations_of_kind(session, row.conference_id, OrganisationKind.addiction_care.value)
    session.add_all([
        Notification(kind="aftercare_report", conference_id=row.conference_id, organisation_id=org,
                     ref_type="aftercare_report", ref_id=row.id, on_date=clock.today())
        for org in care
    ])
    await enqueue(session, "aftercare.report", {"case_id": str(row.case_id), "report": str(row.id)},
                  organisation_ids=await organisations_of_case(session, row.case_id),
                  organisation_kinds=[OrganisationKind.addiction_care.value])


async def reply(session: AsyncSession, principal: Principal, loaded: LoadedCase, report_id: uuid.UUID,
                text: str) -> AftercareReport:
    """The institution's answer (the policy admitted a person of addiction care): once per report."""
    if not text.strip():
        raise UnprocessableEntity("Write the answer to the neighbourhood team.", pointer="/text")
    row = (await session.execute(
        sa.select(AftercareReport).where(col(AftercareReport.id) == report_id,
                                         col(AftercareReport.case_id) == loaded.case.id).with_for_update()
    )).scalar_one_or_none()
    if row is None:
        raise NotFound("aftercare report")
    if row.replied_at is not None:
        raise Conflict("This report has been answered already.")
    membership = principal.membership_in(loaded.case.conference_id)
    assert membership is not None
    row.reply, row.reply_organisation_id = text.strip(), principal.organisation_id
    row.replied_by_id, row.replied_at = membership.id, clock.now()
    addressee = ({"membership_id": row.reported_by_id} if row.reported_by_id is not None
                 else {"organisation_id": row.organisation_id})
    session.add(Notification(kind="aftercare_reply", conference_id=row.conference_id, ref_type="aftercare_report",
                             ref_id=row.id, on_date=clock.today(), **addressee))
    await enqueue(session, "aftercare.reply", {"case_id": str(row.case_id), "report": str(row.id)},
                  organisation_ids=[row.organisation_id])
    await session.flush()
    return row


def present(row: AftercareReport, ntk: NeedToKnow) -> AftercareReportOut:
    visible, basis = ntk.sees(row.label, row.organisation_id)
    answered = row.replied_at is not None
    reply_visible, reply_basis = (ntk.sees(Label.health, row.reply_organisation_id) if answered
                                  else (True, None))
    return AftercareReportOut(
        id=row.id, case_id=row.case_id, kind=row.kind if visible else None, label=row.label,
        organisation_id=row.organisation_id, observed_on=row.observed_on, created_at=row.created_at,
        note=row.note if visible else None, hidden=not visible, basis=basis if visible else None,
        via_partner_event=row.partner_event_id is not None, answered=answered,
        reply=row.reply if answered and reply_visible else None, reply_hidden=answered and not reply_visible,
        reply_basis=reply_basis if answered and reply_visible else None,
        reply_organisation_id=row.reply_organisation_id, replied_at=row.replied_at,
    )


async def reports_read(session: AsyncSession, principal: Principal,
                       loaded: LoadedCase) -> Read[list[AftercareReportOut]]:
    ntk = await need_to_know(session, principal, loaded.case)
    rows = (await session.execute(
        sa.select(AftercareReport).where(col(AftercareReport.case_id) == loaded.case.id)
        .order_by(col(AftercareReport.created_at).desc())
    )).scalars().all()
    shaped = [present(r, ntk) for r in rows]
    bases: set[str | None] = {r.basis for r in shaped if not r.hidden} | {r.reply_basis for r in shaped if r.reply}
    return Read(shaped, basis_rows(report_access(loaded, "list"), bases or {None}))


async def report_read(session: AsyncSession, principal: Principal, loaded: LoadedCase, row: AftercareReport,
                      action: str) -> Read[AftercareReportOut]:
    """The answer to a report or a reply, shaped like a read."""
    shaped = present(row, await need_to_know(session, principal, loaded.case))
    return Read(shaped, (report_access(loaded, action, row.id),))


@dataclass(frozen=True)
class AftercarePage:
    reports: list[AftercareReportOut]
    may_report: bool  # a person of the neighbourhood team, while a watch runs
    may_reply: bool  # a person of addiction care


async def aftercare_page(session: AsyncSession, principal: Principal,
                         loaded: LoadedCase) -> Read[AftercarePage | None]:
    """The case page's aftercare section, for those who may read it (not guests): the reports
    shaped like the API's, and which forms this person gets. None for the others."""
    target = loaded.target
    if not authorize(principal, Op.aftercare_read, target).allowed:
        return Read(None, ())
    read = await reports_read(session, principal, loaded)
    may_report = (authorize(principal, Op.aftercare_report, target).allowed
                  and await active_watch(session, loaded.case.id, clock.now()) is not None)
    if not read.data and not may_report:
        return Read(AftercarePage([], False, False), ())  # nothing shown, nothing read
    may_reply = authorize(principal, Op.aftercare_reply, target).allowed
    return Read(AftercarePage(read.data, may_report, may_reply), read.access)
