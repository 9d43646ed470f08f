"""The read paths of agreements and legal bases for the web client: each loads, shapes through the
agreement's own text rule (`may_read_text`: the chair, the case director and the parties'
organisations) and returns the data with its access-log rows.

What every case worker sees of an agreement: that it exists, its status, the parties, what it
lets be shared (scope, withdrawals) and who signed. The text and the commitments (which may hold
health details) only the text readers see, exactly as the API's agreement read does. The
justification of a legal basis is free text too: on these pages only the chair and the case
director read it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import Access, Read
from app.auth.principal import Principal
from app.models import Agreement, Case, Client
from app.models.enums import Role
from app.schemas.agreements import AgreementOut, LegalBasisOut
from app.services.agreements import lifecycle, render
from app.services.agreements.present import agreement_out, legal_basis_out
from app.services.agreements.templates import CLIENT


@dataclass(frozen=True)
class CaseConsent:
    """The consent and legal bases of one case, as the case page shows them."""

    agreements: list[AgreementOut]
    legal_bases: list[LegalBasisOut]
    justification_hidden: bool


def _access(case: Case, client: Client, action: str, resource_type: str, *, resource_id: str | None = None,
            part: str | None = None) -> Access:
    return Access(action=action, resource_type=resource_type, resource_id=resource_id, case_id=case.id,
                  conference_id=case.conference_id, client_number=client.client_number, part=part)


def _reads_justification(principal: Principal, case: Case) -> bool:
    if Role.chair in principal.roles_in(case.conference_id):
        return True
    return case.case_director_id is not None and case.case_director_id in principal.membership_ids()


async def _shaped(session: AsyncSession, agreements: list[Agreement], with_text: dict[uuid.UUID, bool]
                  ) -> list[AgreementOut]:
    ids = [a.id for a in agreements]
    signatures = await lifecycle.signatures_of(session, ids)
    withdrawals = await lifecycle.withdrawals_of(session, ids)
    people = {i for s in signatures for i in (s.signer_id, s.attested_by_id) if i is not None}
    names = await lifecycle.membership_names(session, people)
    return [agreement_out(a, signatures, withdrawals, names, with_text=with_text[a.id]) for a in agreements]


async def case_consent(session: AsyncSession, principal: Principal, case: Case, client: Client) -> Read[CaseConsent]:
    """Every agreement of the case (without its text) and every legal basis recorded for it."""
    agreements = await lifecycle.agreements_of_case(session, case.id)
    shaped = await _shaped(session, agreements, {a.id: False for a in agreements})
    bases = await lifecycle.legal_bases_of(session, case.id)
    reads_justification = _reads_justification(principal, case)
    legal = [
        b if reads_justification else b.model_copy(update={"justification": ""})
        for b in (legal_basis_out(basis) for basis in bases)
    ]
    rows = tuple(_access(case, client, "list", "agreement", resource_id=str(a.id)) for a in agreements)
    if bases:
        rows += (_access(case, client, "list", "legal_basis",
                         part="justification" if reads_justification else None),)
    return Read(CaseConsent(shaped, legal, justification_hidden=bool(bases) and not reads_justification), rows)


async def agreement_read(session: AsyncSession, principal: Principal, loaded: lifecycle.LoadedAgreement,
                         verb: str = "read") -> Read[AgreementOut]:
    """One agreement with its signatures and withdrawals; the text for its text readers only."""
    with_text = lifecycle.may_read_text(principal, loaded)
    [shaped] = await _shaped(session, [loaded.agreement], {loaded.agreement.id: with_text})
    row = _access(loaded.case, loaded.client, verb, "agreement", resource_id=str(loaded.agreement.id),
                  part="text" if with_text else None)
    return Read(shaped, (row,))



async def agreement_printable(session: AsyncSession, loaded: lifecycle.LoadedAgreement,
                              verb: str) -> Read[render.Printable]:
    """The print view or the PDF of one agreement (the caller checked `may_read_text`): the stored
    text, every party and commitment, the signatures."""
    signatures = await lifecycle.signatures_of(session, [loaded.agreement.id])
    ids = {i for s in signatures for i in (s.signer_id, s.attested_by_id) if i is not None}
    names = await lifecycle.membership_names(session, ids)
    printable = render.printable(loaded.agreement, client_name=loaded.client.name or "de cliënt",
                                 signatures=signatures, names=names)
    row = _access(loaded.case, loaded.client, verb, "agreement", resource_id=str(loaded.agreement.id), part="text")
    return Read(printable, (row,))


async def client_scan(session: AsyncSession, loaded: lifecycle.LoadedAgreement) -> Read[tuple[bytes, str] | None]:
    """The scan of the client's signed paper and its type (the caller checked `may_read_text`)."""
    signature = next((s for s in await lifecycle.signatures_of(session, [loaded.agreement.id])
                      if s.party == CLIENT and s.scan is not None), None)
    if signature is None or signature.scan is None:
        return Read(None)
    row = _access(loaded.case, loaded.client, "read", "agreement", resource_id=str(loaded.agreement.id),
                  part="signature_scan")
    return Read((signature.scan, signature.scan_content_type or "application/octet-stream"), (row,))
