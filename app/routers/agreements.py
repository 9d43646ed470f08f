"""Agreements (templates, making, signing, withdrawing, printing), legal bases, and the sharing
bases of a case shown side by side."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile, status
from fastapi.responses import HTMLResponse

from app.audit import Access
from app.auth.policy import Op, Target
from app.deps import GuardDep, SettingsDep
from app.errors import Forbidden, GuardianSignatureMissing, NotFound
from app.models.enums import Role
from app.schemas.agreements import (
    AgreementCreate,
    AgreementOut,
    AgreementSummary,
    CaseSharingOut,
    LegalBasisCreate,
    LegalBasisOut,
    OrganisationSign,
    TemplateOut,
    WithdrawalCreate,
)
from app.schemas.common import IsoDate
from app.services.agreements import lifecycle as service
from app.services.agreements import render
from app.services.agreements.present import (
    agreement_out,
    agreement_summary,
    consent_basis_out,
    legal_basis_out,
    legal_sharing_out,
)
from app.services.agreements.templates import TemplateRegistry, describe
from app.services.cases import lifecycle as case_service

router = APIRouter(tags=["agreements"])


async def get_templates(request: Request) -> TemplateRegistry:
    registry: TemplateRegistry = request.app.state.agreement_templates
    return registry


TemplatesDep = Annotated[TemplateRegistry, Depends(get_templates)]


def _target(case: object) -> Target:
    return Target(conference_id=case.conference_id, case_director_id=case.case_director_id)  # type: ignore[attr-defined]


def _access(loaded: service.LoadedAgreement | case_service.LoadedCase, action: str, *, part: str | None = None,
            resource_type: str = "agreement", resource_id: str | None = None) -> Access:
    return Access(action=action, resource_type=resource_type, resource_id=resource_id, case_id=loaded.case.id,
                  conference_id=loaded.case.conference_id, client_number=loaded.client.client_number, part=part)


def _own_membership(guard: GuardDep, conference_id: uuid.UUID) -> uuid.UUID:
    membership = guard.principal.membership_in(conference_id, Role.chair, Role.member) or guard.principal.membership_in(
        conference_id
    )
    if membership is None:
        raise Forbidden("Only a member of this conference can do this.")
    return membership.id


async def _full(guard: GuardDep, loaded: service.LoadedAgreement) -> AgreementOut:
    a = loaded.agreement
    signatures = await service.signatures_of(guard.session, [a.id])
    withdrawals = await service.withdrawals_of(guard.session, [a.id])
    ids = {i for s in signatures for i in (s.signer_id, s.attested_by_id) if i is not None}
    names = await service.membership_names(guard.session, ids)
    return agreement_out(a, signatures, withdrawals, names, with_text=service.may_read_text(guard.principal, loaded))


@router.get("/agreement-templates", response_model=list[TemplateOut])
async def list_templates(guard: GuardDep, templates: TemplatesDep) -> list[TemplateOut]:
    await guard.require_member_somewhere(Access(action="list", resource_type="agreement_template"))
    return [TemplateOut(**describe(t)) for t in templates.all()]


@router.get("/cases/{case_id}/agreements", response_model=list[AgreementSummary])
async def list_agreements(case_id: uuid.UUID, guard: GuardDep) -> list[AgreementSummary]:
    loaded = await case_service.load_case(guard.session, case_id)
    access = _access(loaded, "list")
    await guard.require(Op.agreement_read, _target(loaded.case), access, hidden_as="case", record=True)
    agreements = await service.agreements_of_case(guard.session, case_id)
    ids = [a.id for a in agreements]
    signatures = await service.signatures_of(guard.session, ids)
    withdrawals = await service.withdrawals_of(guard.session, ids)
    return [
        agreement_summary(a, [s for s in signatures if s.agreement_id == a.id],
                          [w for w in withdrawals if w.agreement_id == a.id])
        for a in agreements
    ]


@router.post("/cases/{case_id}/agreements", status_code=status.HTTP_201_CREATED, response_model=AgreementOut)
async def create_agreement(
    case_id: uuid.UUID, body: AgreementCreate, guard: GuardDep, templates: TemplatesDep
) -> AgreementOut:
    loaded = await case_service.load_case(guard.session, case_id, for_update=True)
    access = _access(loaded, "create")
    await guard.require(Op.agreement_create, _target(loaded.case), access, hidden_as="case")
    agreement = await service.create_agreement(
        guard.session, guard.principal, case=loaded.case, client=loaded.client, templates=templates, data=body,
        created_by_id=_own_membership(guard, loaded.case.conference_id),
    )
    guard.record(Access(**{**access.__dict__, "resource_id": str(agreement.id)}))
    return await _full(guard, service.LoadedAgreement(agreement, loaded.case, loaded.client))


async def _load(guard: GuardDep, agreement_id: uuid.UUID, op: Op, action: str, *, part: str | None = None,
                for_update: bool = False) -> service.LoadedAgreement:
    loaded = await service.load_agreement(guard.session, agreement_id, for_update=for_update)
    access = _access(loaded, action, part=part, resource_id=str(agreement_id))
    await guard.require(op, replace(_target(loaded.case), party_organisation_ids=service.party_organisations(loaded)),
                        access, record=True)
    return loaded


@router.get("/agreements/{agreement_id}", response_model=AgreementOut)
async def get_agreement(agreement_id: uuid.UUID, guard: GuardDep) -> AgreementOut:
    loaded = await _load(guard, agreement_id, Op.agreement_read, "read")
    return await _full(guard, loaded)


async def _printable(guard: GuardDep, agreement_id: uuid.UUID, action: str) -> render.Printable:
    loaded = await _load(guard, agreement_id, Op.agreement_read, action, part="text")
    if not service.may_read_text(guard.principal, loaded):
        await guard.audit.denied(_access(loaded, action, part="text", resource_id=str(agreement_id)))
        raise Forbidden("The text of this agreement is for the chair, the case director and the parties.")
    signatures = await service.signatures_of(guard.session, [agreement_id])
    ids = {i for s in signatures for i in (s.signer_id, s.attested_by_id) if i is not None}
    names = await service.membership_names(guard.session, ids)
    return render.printable(loaded.agreement, client_name=loaded.client.name or "de cliënt",
                            signatures=signatures, names=names, plain_language=loaded.client.plain_language)


@router.get("/agreements/{agreement_id}/print", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}})
async def print_agreement(agreement_id: uuid.UUID, guard: GuardDep) -> HTMLResponse:
    return HTMLResponse(render.render_html(await _printable(guard, agreement_id, "print")))


@router.get("/agreements/{agreement_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def agreement_pdf(agreement_id: uuid.UUID, guard: GuardDep) -> Response:
    pdf = render.render_pdf(await _printable(guard, agreement_id, "export"))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="overeenkomst-{agreement_id}.pdf"'})


@router.post("/agreements/{agreement_id}/signatures", response_model=AgreementOut)
async def sign_as_organisation(agreement_id: uuid.UUID, body: OrganisationSign, guard: GuardDep) -> AgreementOut:
    loaded = await _load(guard, agreement_id, Op.agreement_sign, "update", part="signature", for_update=True)
    try:
        await service.sign_as_organisation(guard.session, guard.principal, agreement=loaded.agreement,
                                           party=body.party.value)
    except (Forbidden, GuardianSignatureMissing):
        # A refused signature (no mandate, another organisation, a minor's agreement without a
        # guardian's signature) is a refused attempt: logged.
        await guard.audit.denied(_access(loaded, "update", part="signature", resource_id=str(agreement_id)))
        raise
    return await _full(guard, loaded)


@router.post("/agreements/{agreement_id}/client-signature", response_model=AgreementOut)
async def sign_for_client(
    agreement_id: uuid.UUID,
    guard: GuardDep,
    settings: SettingsDep,
    attested_by_id: Annotated[uuid.UUID | None, Form(description="Default: you.")] = None,
    signed_on: Annotated[IsoDate | None, Form(description="Default: today.")] = None,
    signed_in_person: Annotated[bool, Form()] = True,
    scan: Annotated[UploadFile | None, File(description="PDF, PNG or JPEG of the signed paper.")] = None,
    representative_id: Annotated[uuid.UUID | None, Form(
        description="A legal representative of the client (GET /cases/{id}/representatives) who signs.")] = None,
    beside_client: Annotated[bool, Form(
        description="The representative signs beside the client (party 'representative'), not instead.")] = False,
) -> AgreementOut:
    loaded = await _load(guard, agreement_id, Op.agreement_sign, "update", part="signature", for_update=True)
    if not service.may_read_text(guard.principal, loaded):
        await guard.audit.denied(_access(loaded, "update", part="signature", resource_id=str(agreement_id)))
        raise Forbidden("The client's signature is recorded by the chair, the case director or a party.")
    me = _own_membership(guard, loaded.case.conference_id)
    content = await scan.read(settings.agreement_scan_max_bytes + 1) if scan is not None else None
    try:
        await service.sign_for_client(
            guard.session, guard.principal, agreement=loaded.agreement, recorded_by_id=me,
            attested_by_id=attested_by_id or me, signed_on=signed_on, signed_in_person=signed_in_person,
            scan=content, scan_max_bytes=settings.agreement_scan_max_bytes,
            representative_id=representative_id, beside_client=beside_client,
        )
    except GuardianSignatureMissing:
        await guard.audit.denied(_access(loaded, "update", part="signature", resource_id=str(agreement_id)))
        raise
    return await _full(guard, loaded)


@router.get("/agreements/{agreement_id}/client-signature/scan", response_class=Response,
            responses={200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}}})
async def client_signature_scan(agreement_id: uuid.UUID, guard: GuardDep) -> Response:
    loaded = await _load(guard, agreement_id, Op.agreement_read, "read", part="signature_scan")
    if not service.may_read_text(guard.principal, loaded):
        await guard.audit.denied(_access(loaded, "read", part="signature_scan", resource_id=str(agreement_id)))
        raise Forbidden("The signed paper is for the chair, the case director and the parties.")
    signature = next((s for s in await service.signatures_of(guard.session, [agreement_id])
                      if s.party == "client" and s.scan is not None), None)
    if signature is None or signature.scan is None:
        raise NotFound("scan of the client's signature")
    return Response(signature.scan, media_type=signature.scan_content_type or "application/octet-stream")


@router.post("/agreements/{agreement_id}/withdrawals", status_code=status.HTTP_201_CREATED,
             response_model=AgreementOut)
async def withdraw(agreement_id: uuid.UUID, body: WithdrawalCreate, guard: GuardDep) -> AgreementOut:
    loaded = await _load(guard, agreement_id, Op.agreement_withdraw, "update", part="consent", for_update=True)
    await service.withdraw(guard.session, guard.principal, agreement=loaded.agreement, data=body,
                           recorded_by_id=_own_membership(guard, loaded.case.conference_id))
    return await _full(guard, loaded)


# --- legal bases and the sharing overview ----------------------------------------------------


@router.get("/cases/{case_id}/legal-bases", response_model=list[LegalBasisOut])
async def list_legal_bases(case_id: uuid.UUID, guard: GuardDep) -> list[LegalBasisOut]:
    loaded = await case_service.load_case(guard.session, case_id)
    access = _access(loaded, "list", resource_type="legal_basis")
    await guard.require(Op.legal_basis_read, _target(loaded.case), access, hidden_as="case", record=True)
    return [legal_basis_out(b) for b in await service.legal_bases_of(guard.session, case_id)]


@router.post("/cases/{case_id}/legal-bases", status_code=status.HTTP_201_CREATED, response_model=LegalBasisOut)
async def record_legal_basis(case_id: uuid.UUID, body: LegalBasisCreate, guard: GuardDep) -> LegalBasisOut:
    loaded = await case_service.load_case(guard.session, case_id, for_update=True)
    access = _access(loaded, "create", resource_type="legal_basis")
    await guard.require(Op.legal_basis_record, _target(loaded.case), access, hidden_as="case", record=True)
    chair = guard.principal.membership_in(loaded.case.conference_id, Role.chair)
    assert chair is not None  # the policy admitted a chair only
    basis = await service.record_legal_basis(guard.session, guard.principal, case=loaded.case, data=body,
                                             recorded_by_id=chair.id)
    return legal_basis_out(basis)


@router.post("/cases/{case_id}/legal-bases/{basis_id}/end", response_model=LegalBasisOut)
async def end_legal_basis(case_id: uuid.UUID, basis_id: uuid.UUID, guard: GuardDep) -> LegalBasisOut:
    loaded = await case_service.load_case(guard.session, case_id, for_update=True)
    access = _access(loaded, "update", resource_type="legal_basis", resource_id=str(basis_id))
    await guard.require(Op.legal_basis_record, _target(loaded.case), access, hidden_as="case", record=True)
    basis = next((b for b in await service.legal_bases_of(guard.session, case_id) if b.id == basis_id), None)
    if basis is None:
        raise NotFound("legal basis for this case")
    basis = await service.end_legal_basis(guard.session, guard.principal, basis=basis)
    return legal_basis_out(basis)


@router.get("/cases/{case_id}/sharing", response_model=CaseSharingOut)
async def case_sharing(case_id: uuid.UUID, guard: GuardDep) -> CaseSharingOut:
    """Consent and legal bases in force now, side by side: the bases named in `basis` fields."""
    loaded = await case_service.load_case(guard.session, case_id)
    access = _access(loaded, "read", resource_type="sharing")
    await guard.require(Op.legal_basis_read, _target(loaded.case), access, hidden_as="case", record=True)
    found = await service.bases_in_force(guard.session, case_id)
    return CaseSharingOut(
        case_id=case_id,
        consent=[consent_basis_out(a, scope) for a, scope in found.agreements],
        legal_bases=[legal_sharing_out(b) for b in found.legal_bases],
    )
