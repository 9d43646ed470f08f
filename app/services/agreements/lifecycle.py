"""Agreements: made from a template version, signed by every party, withdrawn, expired; and the
legal bases that the chair records instead of consent. Together they are the sharing bases that
the access policy asks for on every request (app/services/agreements/sharing.py)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import jinja2
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.clock import clock
from app.errors import (
    Conflict,
    Forbidden,
    GuardianSignatureMissing,
    NotFound,
    PayloadTooLarge,
    UnprocessableEntity,
)
from app.models import (
    Agreement,
    AgreementSignature,
    Case,
    Client,
    ClientRepresentative,
    ConferenceOrganisation,
    ConsentWithdrawal,
    LegalBasis,
    Mandate,
    Membership,
    Organisation,
)
from app.models.enums import GUARDIAN_KINDS, AgreementStatus, MandateScope, Phase, Role
from app.models.predicates import agreement_is_active
from app.schemas.agreements import AgreementCreate, LegalBasisCreate, WithdrawalCreate
from app.services.agreements.readability import AVOID_AT_B1, B1_MINIMUM, measure, words_to_avoid
from app.services.agreements.templates import CLIENT, AgreementDetails, TemplateRegistry
from app.services.common import named_member, record_change

log = logging.getLogger(__name__)

MAX_LEAD_DAYS = 366
MAX_DURATION_DAYS = 5 * 366
EVALUATION_AFTER_DAYS = 91  # the default evaluation: about three months after the start

# Magic bytes of the scan types we accept; the declared content type is not trusted.
SCAN_TYPES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def effective_status(agreement: Agreement, today: date | None = None) -> AgreementStatus:
    """Active and expired follow from the dates, so expiry takes effect on the next request."""
    today = today or clock.today()
    if agreement.status != AgreementStatus.signed:
        return agreement.status
    if today > agreement.ends_on:
        return AgreementStatus.expired
    if today < agreement.starts_on:
        return AgreementStatus.signed
    return AgreementStatus.active


def effective_scope(
    agreement: Agreement, withdrawals: list[ConsentWithdrawal], now: datetime | None = None
) -> dict[str, list[str]]:
    """What may be shared on this agreement at `now`: nothing unless active; minus withdrawals."""
    now = now or clock.now()
    if effective_status(agreement, now.date()) != AgreementStatus.active:
        return {}
    scope = {label: set(kinds) for label, kinds in agreement.scope.items()}
    for w in withdrawals:
        if w.agreement_id != agreement.id or w.effective_at > now:
            continue
        if w.whole:
            return {}
        if w.label in scope:
            scope[w.label] -= set(w.organisation_kinds)
    return {label: sorted(kinds) for label, kinds in scope.items() if kinds}


def legal_basis_in_force(basis: LegalBasis, today: date | None = None) -> bool:
    today = today or clock.today()
    return basis.ended_at is None and basis.starts_on <= today <= basis.ends_on


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedAgreement:
    agreement: Agreement
    case: Case
    client: Client


async def load_agreement(session: AsyncSession, agreement_id: uuid.UUID, *, for_update: bool = False) -> LoadedAgreement:
    query = (
        sa.select(Agreement, Case, Client)
        .join(Case, Case.id == Agreement.case_id)
        .join(Client, Client.id == Case.client_id)
        .where(Agreement.id == agreement_id)
    )
    if for_update:
        query = query.with_for_update(of=Agreement)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("agreement")
    return LoadedAgreement(row[0], row[1], row[2])


async def agreements_of_case(session: AsyncSession, case_id: uuid.UUID) -> list[Agreement]:
    return list(
        (
            await session.execute(
                sa.select(Agreement)
                .where(Agreement.case_id == case_id)
                .order_by(Agreement.created_at.desc(), Agreement.id)  # type: ignore[attr-defined]
            )
        ).scalars()
    )


async def signatures_of(session: AsyncSession, agreement_ids: list[uuid.UUID]) -> list[AgreementSignature]:
    if not agreement_ids:
        return []
    return list(
        (
            await session.execute(
                sa.select(AgreementSignature)
                .where(AgreementSignature.agreement_id.in_(agreement_ids))  # type: ignore[attr-defined]
                .order_by(AgreementSignature.created_at)
            )
        ).scalars()
    )


async def withdrawals_of(session: AsyncSession, agreement_ids: list[uuid.UUID]) -> list[ConsentWithdrawal]:
    if not agreement_ids:
        return []
    return list(
        (
            await session.execute(
                sa.select(ConsentWithdrawal)
                .where(ConsentWithdrawal.agreement_id.in_(agreement_ids))  # type: ignore[attr-defined]
                .order_by(ConsentWithdrawal.effective_at)
            )
        ).scalars()
    )


async def membership_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(Membership.id, Membership.display_name).where(Membership.id.in_(ids))  # type: ignore[attr-defined]
    )
    return {r[0]: r[1] for r in rows}


def may_read_text(principal: Principal, loaded: LoadedAgreement) -> bool:
    """The text and commitments are for the chair, the case director and the parties'
    organisations; other partners see that the agreement exists and what it shares."""
    conference_id = loaded.case.conference_id
    if Role.chair in principal.roles_in(conference_id):
        return True
    if loaded.case.case_director_id is not None and loaded.case.case_director_id in principal.membership_ids():
        return True
    return principal.organisation_id in party_organisations(loaded)


def party_organisations(loaded: LoadedAgreement) -> frozenset[uuid.UUID]:
    """The organisations that are party to the agreement (the client is not an organisation)."""
    found = set()
    for party in loaded.agreement.parties.values():
        org = party.get("organisation_id") if isinstance(party, dict) else None
        if org:
            found.add(uuid.UUID(str(org)))
    return frozenset(found)


# --- creating --------------------------------------------------------------------------------


async def create_agreement(
    session: AsyncSession,
    principal: Principal,
    *,
    case: Case,
    client: Client,
    templates: TemplateRegistry,
    data: AgreementCreate,
    created_by_id: uuid.UUID,
) -> Agreement:
    """Validate everything first, then write; any refusal leaves nothing behind."""
    if case.phase == Phase.closed:
        raise Conflict("No agreement can be made for a closed case.")
    template = templates.get(data.template_id, data.template_version)
    if template is None:
        raise UnprocessableEntity("There is no such agreement template (version).", pointer="#/template_id")
    header = template.header
    today = clock.today()

    given = {k.value for k in data.parties}
    missing = [k for k in header.organisation_kinds if k not in given]
    if missing:
        raise UnprocessableEntity(
            f"This agreement needs a party of each kind: {', '.join(header.organisation_kinds)}; "
            f"missing: {', '.join(missing)}.",
            pointer=f"#/parties/{missing[0]}",
        )
    extra = sorted(given - set(header.organisation_kinds))
    if extra:
        raise UnprocessableEntity(
            f"This template has no party of kind {', '.join(extra)}.", pointer=f"#/parties/{extra[0]}"
        )
    org_ids = list(data.parties.values())
    orgs = {
        o.id: o
        for o in (
            await session.execute(
                sa.select(Organisation)
                .join(ConferenceOrganisation, ConferenceOrganisation.organisation_id == Organisation.id)
                .where(
                    Organisation.id.in_(org_ids),  # type: ignore[attr-defined]
                    ConferenceOrganisation.conference_id == case.conference_id,
                )
            )
        ).scalars()
    }
    parties: dict[str, dict] = {CLIENT: {"client_id": str(client.id), "commitment_label": header.commitments[CLIENT]}}
    party_names: dict[str, str] = {}
    for kind, org_id in data.parties.items():
        org = orgs.get(org_id)
        if org is None or org.kind != kind.value:
            raise UnprocessableEntity(
                f"The {kind.value} party must be an organisation of that kind in this conference.",
                pointer=f"#/parties/{kind.value}",
            )
        parties[kind.value] = {"organisation_id": str(org.id), "name": org.name,
                               "commitment_label": header.commitments[kind.value]}
        party_names[kind.value] = org.name

    unknown = sorted(set(data.commitments) - set(header.parties))
    if unknown:
        raise UnprocessableEntity(f"No party {unknown[0]} in this template.", pointer=f"#/commitments/{unknown[0]}")
    for party in header.parties:
        if not (data.commitments.get(party) or "").strip():
            raise UnprocessableEntity(
                f"The commitment of {party} ({header.commitments[party]}) is missing.",
                pointer=f"#/commitments/{party}",
            )
    known_options = {o.key for o in header.options}
    for option in data.options:
        if option not in known_options:
            raise UnprocessableEntity(f"This template has no option {option}.", pointer="#/options")
    if not client.name:
        raise UnprocessableEntity("The agreement names the client, but this client has no name on record.",
                                  pointer="#/client_name")

    starts_on = data.starts_on or today
    if starts_on < today:
        raise UnprocessableEntity("Consent cannot start in the past.", pointer="#/starts_on")
    if starts_on > today + timedelta(days=MAX_LEAD_DAYS):
        raise UnprocessableEntity("An agreement starts within a year.", pointer="#/starts_on")
    ends_on = data.ends_on or starts_on + timedelta(days=header.default_duration_days)
    if ends_on <= starts_on:
        raise UnprocessableEntity("The end date must lie after the start date.", pointer="#/ends_on")
    if ends_on > starts_on + timedelta(days=MAX_DURATION_DAYS):
        raise UnprocessableEntity("Consent is given for five years at most.", pointer="#/ends_on")

    evaluation_on = data.evaluation_on or min(ends_on, starts_on + timedelta(days=EVALUATION_AFTER_DAYS))
    if not starts_on <= evaluation_on <= ends_on:
        raise UnprocessableEntity("The evaluation date lies within the agreement's period.", pointer="#/evaluation_on")
    relapse_wishes, relapse_told = data.relapse_wishes.strip(), data.relapse_told.strip()
    commitments = {party: data.commitments[party].strip() for party in header.parties}
    if client.plain_language:
        _require_plain(commitments, relapse_wishes, relapse_told)

    existing = await agreements_of_case(session, case.id)
    same = [a for a in existing if a.template_id == header.id]
    if any(a.status == AgreementStatus.draft for a in same):
        raise Conflict("There is already a draft of this agreement for this case; sign or withdraw it first.")
    running = [a for a in same if effective_status(a, today) in (AgreementStatus.signed, AgreementStatus.active)]
    if data.replaces_id is not None:
        replaced = next((a for a in running if a.id == data.replaces_id), None)
        if replaced is None:
            raise UnprocessableEntity(
                "replaces_id must name this case's signed, unexpired agreement of the same template.",
                pointer="#/replaces_id",
            )
    elif running:
        raise Conflict(
            "This case already has an active agreement of this template; a new one must name it in replaces_id.",
            active_agreement_id=str(running[0].id),
        )

    scope = template.scope(list(data.options))
    details = await _details(session, case, evaluation_on, relapse_wishes, relapse_told)
    try:
        text = template.render(client_name=client.name, parties=party_names, commitments=commitments,
                               starts_on=starts_on, ends_on=ends_on, scope=scope, details=details)
    except jinja2.UndefinedError as exc:
        raise UnprocessableEntity(f"A placeholder of the template has no value: {exc.message}") from None

    agreement = Agreement(
        case_id=case.id,
        conference_id=case.conference_id,
        template_id=header.id,
        template_version=header.version,
        template_sha256=template.source_sha256,
        title=header.title,
        status=AgreementStatus.draft,
        parties=parties,
        commitments=commitments,
        options=sorted(set(data.options)),
        scope=scope,
        starts_on=starts_on,
        ends_on=ends_on,
        rendered_text=text,
        text_hash=text_hash(text),
        replaces_id=data.replaces_id,
        relapse_wishes=relapse_wishes,
        relapse_told=relapse_told,
        evaluation_on=evaluation_on,
        created_by_id=created_by_id,
    )
    session.add(agreement)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("There is already a draft of this agreement for this case.") from None
    record_change(session, principal, case_id=case.id, entity_type="agreement", entity_id=agreement.id,
                  version=1, operation="create",
                  changes={"template": {"from": None, "to": f"{header.id}/v{header.version}"},
                           "status": {"from": None, "to": AgreementStatus.draft}})
    return agreement


def _require_plain(commitments: dict[str, str], relapse_wishes: str, relapse_told: str) -> None:
    """For a client who needs plain language, the texts filled in must be B1 as the templates are
    (app/services/agreements/readability.py): none of the formal words to avoid in any of them, and
    together (a score needs more than one short sentence to mean anything) Flesch-Douma >= 60."""
    texts = [(f"#/commitments/{party}", text) for party, text in commitments.items() if text]
    texts += [(pointer, text) for pointer, text in (("#/relapse_wishes", relapse_wishes),
                                                    ("#/relapse_told", relapse_told)) if text]
    for pointer, text in texts:
        avoided = words_to_avoid(text)
        if avoided:
            raise UnprocessableEntity(
                "This client needs plain language; this text uses words to avoid at B1 level: "
                f"{', '.join(avoided)}. Use everyday words (for example: {', '.join(AVOID_AT_B1[w] for w in avoided)}).",
                pointer=pointer,
            )
    if not texts:
        return
    together = measure(" ".join(t if t.rstrip().endswith((".", "!", "?")) else f"{t}." for _, t in texts))
    if together.score < B1_MINIMUM:
        pointer, _ = min(texts, key=lambda item: measure(item[1]).score)
        raise UnprocessableEntity(
            "This client needs plain language; the texts filled in are not at B1 level "
            f"(Flesch-Douma {together.score}, minimum {B1_MINIMUM}). Use short sentences and short, everyday words.",
            pointer=pointer,
        )


async def _details(
    session: AsyncSession, case: Case, evaluation_on: date, relapse_wishes: str, relapse_told: str
) -> AgreementDetails:
    """The values of the templates' version 3 sections: the case director as the named contact
    person, and the conference's privacy officers (name, organisation, e-mail)."""
    contact_name = contact_organisation = contact_email = ""
    if case.case_director_id is not None:
        row = (
            await session.execute(
                sa.select(Membership.display_name, Membership.email, Organisation.name)
                .join(Organisation, Organisation.id == Membership.organisation_id)
                .where(Membership.id == case.case_director_id)
            )
        ).first()
        if row is not None:
            contact_name, contact_email, contact_organisation = row[0], row[1] or "", row[2]
    officers = (
        await session.execute(
            sa.select(Membership.display_name, Membership.email, Organisation.name)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(
                Membership.conference_id == case.conference_id,
                Membership.role == Role.privacy_officer.value,
                Membership.active.is_(True),  # type: ignore[attr-defined]
            )
            .order_by(Membership.display_name)
        )
    ).all()
    return AgreementDetails(
        evaluation_on=evaluation_on,
        relapse_wishes=relapse_wishes,
        relapse_told=relapse_told,
        contact_name=contact_name,
        contact_organisation=contact_organisation,
        contact_email=contact_email,
        privacy_officers=tuple(f"{n} ({org})" + (f", {mail}" if mail else "") for n, mail, org in officers),
    )


# --- signing ---------------------------------------------------------------------------------


def _require_draft(agreement: Agreement) -> None:
    if agreement.status != AgreementStatus.draft:
        raise Conflict(f"This agreement is {effective_status(agreement)}; signatures are only added to a draft.")


async def _signed_parties(session: AsyncSession, agreement_id: uuid.UUID) -> set[str]:
    rows = await session.execute(
        sa.select(AgreementSignature.party).where(AgreementSignature.agreement_id == agreement_id)
    )
    return {r[0] for r in rows}


async def sign_as_organisation(
    session: AsyncSession, principal: Principal, *, agreement: Agreement, party: str
) -> AgreementSignature:
    """An organisation signs through the caller, who needs a sign_agreements mandate valid today."""
    _require_draft(agreement)
    if party == CLIENT or party not in agreement.parties:
        raise UnprocessableEntity(f"{party} is not an organisation party of this agreement.", pointer="#/party")
    if party in await _signed_parties(session, agreement.id):
        raise Conflict(f"The {party} party has already signed.")
    org_id = uuid.UUID(agreement.parties[party]["organisation_id"])
    if principal.organisation_id != org_id:
        raise Forbidden(f"Only a member of the organisation that is the {party} party can sign for it.")
    memberships = [
        m.id for m in principal.memberships
        if m.conference_id == agreement.conference_id and m.role in (Role.chair, Role.member)
    ]
    today = clock.today()
    mandate = (
        await session.execute(
            sa.select(Mandate)
            .where(
                Mandate.membership_id.in_(memberships),  # type: ignore[attr-defined]
                Mandate.scope == MandateScope.sign_agreements.value,
                Mandate.valid_from <= today,
                sa.or_(Mandate.valid_to.is_(None), Mandate.valid_to >= today),  # type: ignore[union-attr,operator]
            )
            .order_by(Mandate.valid_from)
            .limit(1)
        )
    ).scalar_one_or_none() if memberships else None
    if mandate is None:
        raise Forbidden("Signing for your organisation needs a mandate to sign agreements that is valid today.")
    signature = AgreementSignature(
        agreement_id=agreement.id, party=party, organisation_id=org_id, signer_id=mandate.membership_id,
        mandate_id=mandate.id, signed_in_person=True, signed_on=today, text_hash=agreement.text_hash,
        recorded_by_id=mandate.membership_id,
    )
    await _add_signature(session, principal, agreement, signature)
    return signature


def detect_scan_type(content: bytes) -> str | None:
    for magic, content_type in SCAN_TYPES:
        if content.startswith(magic):
            return content_type
    return None


async def sign_for_client(
    session: AsyncSession,
    principal: Principal,
    *,
    agreement: Agreement,
    recorded_by_id: uuid.UUID,
    attested_by_id: uuid.UUID,
    signed_on: date | None,
    signed_in_person: bool,
    scan: bytes | None,
    scan_max_bytes: int,
    representative_id: uuid.UUID | None = None,
    beside_client: bool = False,
) -> AgreementSignature:
    """The client signs on paper or in person; a named member of the conference attests it. A
    legal representative of the client may sign instead of the client (party "client") or beside
    them (party "representative"), with the representation's basis on record."""
    _require_draft(agreement)
    party = REPRESENTATIVE if beside_client else CLIENT
    if party in await _signed_parties(session, agreement.id):
        raise Conflict("The client has already signed." if party == CLIENT else "A representative has already signed.")
    representative = await _representative(session, agreement, representative_id) if representative_id else None
    if beside_client and representative is None:
        raise UnprocessableEntity("Name the representative who signs beside the client.", pointer="#/representative_id")
    attester = await named_member(
        session, attested_by_id, agreement.conference_id, Role.chair, Role.member, Role.liaison,
        pointer="#/attested_by_id", detail="The attesting person must be an active member of this conference.",
    )
    today = clock.today()
    signed_on = signed_on or today
    if signed_on > today or signed_on < agreement.created_at.date():
        raise UnprocessableEntity("The signing date lies between the making of the agreement and today.",
                                  pointer="#/signed_on")
    if not signed_in_person and scan is None:
        raise UnprocessableEntity("A signature not given in person needs the scan of the signed paper.",
                                  pointer="#/scan")
    content_type = None
    if scan is not None:
        if len(scan) > scan_max_bytes:
            raise PayloadTooLarge(f"The scan is larger than {scan_max_bytes} bytes.")
        if not scan:
            raise UnprocessableEntity("The scan is empty.", pointer="#/scan")
        content_type = detect_scan_type(scan)
        if content_type is None:
            raise UnprocessableEntity("The scan must be a PDF, PNG or JPEG file.", pointer="#/scan")
    signature = AgreementSignature(
        agreement_id=agreement.id, party=party, attested_by_id=attester.id, signed_in_person=signed_in_person,
        representative_id=representative.id if representative else None,
        signed_on=signed_on, text_hash=agreement.text_hash, recorded_by_id=recorded_by_id,
        scan=scan, scan_content_type=content_type, scan_size=len(scan) if scan is not None else None,
        scan_sha256=hashlib.sha256(scan).hexdigest() if scan is not None else None,
    )
    await _add_signature(session, principal, agreement, signature)
    return signature


async def _add_signature(
    session: AsyncSession, principal: Principal, agreement: Agreement, signature: AgreementSignature
) -> None:
    session.add(signature)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"The {signature.party} party has already signed.") from None
    signed = await _signed_parties(session, agreement.id)
    changes: dict = {"signed": {"from": None, "to": signature.party}}
    if signed >= set(agreement.parties):
        await _require_guardian(session, agreement)
        await _activate(session, agreement)
        changes["status"] = {"from": AgreementStatus.draft, "to": AgreementStatus.signed}
    await _bump(session, principal, agreement, changes)


REPRESENTATIVE = "representative"  # the party of a representative's signature beside the client's
ADULT_AGE = 18


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


async def _representative(session: AsyncSession, agreement: Agreement,
                          representative_id: uuid.UUID) -> ClientRepresentative:
    """A representative of this agreement's client, in force today."""
    client_id = uuid.UUID(agreement.parties[CLIENT]["client_id"])
    found = await session.get(ClientRepresentative, representative_id)
    today = clock.today()
    if (found is None or found.client_id != client_id or found.ended_at is not None
            or (found.valid_until is not None and found.valid_until < today)):
        raise UnprocessableEntity("The representative must be a legal representative of this client, recorded "
                                  "with its basis and in force today.", pointer="#/representative_id")
    return found


async def _require_guardian(session: AsyncSession, agreement: Agreement) -> None:
    """A minor's agreement (the client under 18 on the day it becomes signed) needs the signature
    of a parent or guardian, instead of or beside the client's, before it can become signed."""
    client = await session.get(Client, uuid.UUID(agreement.parties[CLIENT]["client_id"]))
    if client is None or client.date_of_birth is None or _age_on(client.date_of_birth, clock.today()) >= ADULT_AGE:
        return
    guardian = (await session.execute(
        sa.select(sa.func.count()).select_from(AgreementSignature)
        .join(ClientRepresentative, ClientRepresentative.id == AgreementSignature.representative_id)
        .where(AgreementSignature.agreement_id == agreement.id,
               ClientRepresentative.kind.in_([k.value for k in GUARDIAN_KINDS]))  # type: ignore[attr-defined]
    )).scalar_one()
    if not guardian:
        raise GuardianSignatureMissing(
            "The client is a minor: a parent's or guardian's signature (a recorded representative) is needed "
            "before this agreement can become signed. Record it first.", pointer="#/representative_id")


async def _activate(session: AsyncSession, agreement: Agreement) -> None:
    """Every party signed: the agreement holds from its start date, and replaces its predecessor."""
    now = clock.now()
    others = [
        a for a in await agreements_of_case(session, agreement.case_id)
        if a.template_id == agreement.template_id and a.id != agreement.id
        and effective_status(a, now.date()) in (AgreementStatus.signed, AgreementStatus.active)
    ]
    for other in others:
        if other.id != agreement.replaces_id:
            raise Conflict("This case already has another active agreement of this template.")
        other.status = AgreementStatus.superseded
        other.superseded_at = now
        other.updated_at = now
        other.version += 1
    await session.flush()  # superseded first: two signed ones never overlap (ex_agreement_one_active)
    agreement.status = AgreementStatus.signed
    agreement.signed_at = now


async def _bump(session: AsyncSession, principal: Principal, agreement: Agreement, changes: dict) -> None:
    agreement.version += 1
    agreement.updated_at = clock.now()
    record_change(session, principal, case_id=agreement.case_id, entity_type="agreement", entity_id=agreement.id,
                  version=agreement.version, operation="update", changes=changes)
    await session.flush()


# --- withdrawing -----------------------------------------------------------------------------


async def withdraw(
    session: AsyncSession,
    principal: Principal,
    *,
    agreement: Agreement,
    data: WithdrawalCreate,
    recorded_by_id: uuid.UUID,
) -> ConsentWithdrawal:
    """The client withdraws consent, recorded by a member; it takes effect at once."""
    now = clock.now()
    status = effective_status(agreement, now.date())
    if status not in (AgreementStatus.draft, AgreementStatus.signed, AgreementStatus.active):
        raise Conflict(f"This agreement is {status}; there is no consent left to withdraw.")
    if data.whole:
        if data.label is not None or data.organisation_kinds:
            raise UnprocessableEntity("A whole withdrawal names no label or organisation kinds.", pointer="#/label")
        withdrawal = ConsentWithdrawal(agreement_id=agreement.id, whole=True, recorded_by_id=recorded_by_id,
                                       effective_at=now)
        before = agreement.status
        agreement.status = AgreementStatus.withdrawn
        agreement.withdrawn_at = now
        changes: dict[str, dict[str, str | None]] = {"status": {"from": before, "to": AgreementStatus.withdrawn}}
    else:
        if data.label is None or not data.organisation_kinds:
            raise UnprocessableEntity("A partial withdrawal names a label and the organisation kinds.",
                                      pointer="#/label" if data.label is None else "#/organisation_kinds")
        kinds = sorted({k.value for k in data.organisation_kinds})
        current = set(agreement.scope.get(data.label, []))
        for w in await withdrawals_of(session, [agreement.id]):
            if w.label == data.label:
                current -= set(w.organisation_kinds)
        if not current & set(kinds):
            raise UnprocessableEntity(f"This agreement does not share {data.label} information with "
                                      f"{', '.join(kinds)}; there is nothing to withdraw.",
                                      pointer="#/organisation_kinds")
        withdrawal = ConsentWithdrawal(agreement_id=agreement.id, whole=False, label=data.label,
                                       organisation_kinds=kinds, recorded_by_id=recorded_by_id, effective_at=now)
        changes = {"withdrawn": {"from": None, "to": f"{data.label} -> {', '.join(kinds)}"}}
    session.add(withdrawal)
    await _bump(session, principal, agreement, changes)
    return withdrawal


# --- legal bases -----------------------------------------------------------------------------


async def record_legal_basis(
    session: AsyncSession, principal: Principal, *, case: Case, data: LegalBasisCreate, recorded_by_id: uuid.UUID
) -> LegalBasis:
    today = clock.today()
    starts_on = data.starts_on or today
    if starts_on < today:
        raise UnprocessableEntity("A legal basis cannot start in the past.", pointer="#/starts_on")
    if starts_on > today + timedelta(days=MAX_LEAD_DAYS):
        raise UnprocessableEntity("A legal basis starts within a year.", pointer="#/starts_on")
    if data.ends_on < starts_on:
        raise UnprocessableEntity("The end date lies before the start date.", pointer="#/ends_on")
    if data.ends_on > starts_on + timedelta(days=366 * 2):
        raise UnprocessableEntity("A legal basis is recorded for two years at most.", pointer="#/ends_on")
    scope = {label: sorted({k.value for k in kinds}) for label, kinds in data.scope.items() if kinds}
    if not scope:
        raise UnprocessableEntity("Name at least one label and organisation kind.", pointer="#/scope")
    basis = LegalBasis(case_id=case.id, conference_id=case.conference_id, article=data.article,
                       justification=data.justification, scope=scope, starts_on=starts_on, ends_on=data.ends_on,
                       recorded_by_id=recorded_by_id)
    session.add(basis)
    await session.flush()
    record_change(session, principal, case_id=case.id, entity_type="legal_basis", entity_id=basis.id, version=1,
                  operation="create", changes={"scope": {"from": None, "to": scope},
                                               "ends_on": {"from": None, "to": data.ends_on.isoformat()}})
    return basis


async def end_legal_basis(session: AsyncSession, principal: Principal, *, basis: LegalBasis) -> LegalBasis:
    if basis.ended_at is not None:
        raise Conflict("This legal basis has already been ended.")
    basis.ended_at = clock.now()
    record_change(session, principal, case_id=basis.case_id, entity_type="legal_basis", entity_id=basis.id,
                  version=2, operation="update", changes={"ended": {"from": None, "to": True}})
    await session.flush()
    return basis


async def legal_bases_of(session: AsyncSession, case_id: uuid.UUID) -> list[LegalBasis]:
    return list(
        (
            await session.execute(
                sa.select(LegalBasis).where(LegalBasis.case_id == case_id).order_by(LegalBasis.created_at)
            )
        ).scalars()
    )


# --- in force now ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BasesInForce:
    agreements: list[tuple[Agreement, dict[str, list[str]]]]
    legal_bases: list[LegalBasis]


async def bases_in_force(session: AsyncSession, case_id: uuid.UUID) -> BasesInForce:
    """Evaluated at clock.now() on every call: withdrawal and expiry count from the next request."""
    return (await bases_in_force_for(session, [case_id]))[case_id]


async def bases_in_force_for(session: AsyncSession, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, BasesInForce]:
    """The bases in force of several cases in two queries (lists read many cases at once)."""
    now = clock.now()
    today = now.date()
    found: dict[uuid.UUID, BasesInForce] = {c: BasesInForce([], []) for c in case_ids}
    if not case_ids:
        return found
    agreements = list(
        (
            await session.execute(
                sa.select(Agreement).where(
                    Agreement.case_id.in_(case_ids),  # type: ignore[attr-defined]
                    agreement_is_active(today),
                )
            )
        ).scalars()
    )
    withdrawals = await withdrawals_of(session, [a.id for a in agreements])
    for a in agreements:
        scope = effective_scope(a, withdrawals, now)
        if scope:
            found[a.case_id].agreements.append((a, scope))
    legal = (
        await session.execute(
            sa.select(LegalBasis).where(
                LegalBasis.case_id.in_(case_ids),  # type: ignore[attr-defined]
                LegalBasis.ended_at.is_(None),  # type: ignore[union-attr]
                LegalBasis.starts_on <= today,
                LegalBasis.ends_on >= today,
            )
        )
    ).scalars()
    for basis in legal:
        found[basis.case_id].legal_bases.append(basis)
    return found


# --- retention -------------------------------------------------------------------------------

REMOVED_TEXT = "[verwijderd na de bewaartermijn]"


async def anonymise_case_agreements(session: AsyncSession, case_id: uuid.UUID) -> int:
    """For the retention purge: remove the client's name, the commitments, the relapse plan and the signature scans
    of a case's agreements, and the justification of its legal bases. The text hash, the scope,
    the dates and who signed stay: the record that consent existed, without its content."""
    ids = sa.select(Agreement.id).where(Agreement.case_id == case_id).scalar_subquery()
    result = await session.execute(
        sa.update(Agreement).where(Agreement.case_id == case_id).values(
            rendered_text=REMOVED_TEXT, commitments={}, relapse_wishes="", relapse_told=""
        )
    )
    await session.execute(
        sa.update(AgreementSignature)
        .where(AgreementSignature.agreement_id.in_(ids))  # type: ignore[attr-defined]
        .values(scan=None)
    )
    await session.execute(
        sa.update(LegalBasis).where(LegalBasis.case_id == case_id).values(justification=REMOVED_TEXT)
    )
    return int(getattr(result, "rowcount", 0) or 0)
