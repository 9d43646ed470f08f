"""From agreement tables to response shapes."""

from __future__ import annotations

import uuid

from app.clock import clock
from app.models import Agreement, AgreementSignature, ConsentWithdrawal, LegalBasis
from app.schemas.agreements import (
    AgreementOut,
    AgreementSummary,
    ChecklistItemOut,
    ChecklistOut,
    LegalBasisOut,
    SharingBasisOut,
    SignatureOut,
    WithdrawalOut,
)
from app.services.agreements.lifecycle import effective_scope, effective_status, legal_basis_in_force
from app.services.agreements.templates import CLIENT
from app.services.cases.checklist import Checklist


def _ordered_parties(agreement: Agreement) -> dict[str, dict]:
    keys = sorted(agreement.parties, key=lambda k: (k != CLIENT, k))
    return {k: {kk: vv for kk, vv in agreement.parties[k].items()} for k in keys}


def agreement_summary(
    agreement: Agreement, signatures: list[AgreementSignature], withdrawals: list[ConsentWithdrawal]
) -> AgreementSummary:
    signed = sorted({s.party for s in signatures if s.agreement_id == agreement.id})
    return AgreementSummary(
        id=agreement.id,
        case_id=agreement.case_id,
        template_id=agreement.template_id,
        template_version=agreement.template_version,
        title=agreement.title,
        status=effective_status(agreement),
        parties=_ordered_parties(agreement),
        starts_on=agreement.starts_on,
        ends_on=agreement.ends_on,
        text_hash=agreement.text_hash,
        scope={k: list(v) for k, v in agreement.scope.items()},
        effective_scope=effective_scope(agreement, withdrawals, clock.now()),
        signed_parties=signed,
        missing_parties=sorted(set(agreement.parties) - set(signed)),
        replaces_id=agreement.replaces_id,
        version=agreement.version,
    )


def signature_out(s: AgreementSignature, names: dict[uuid.UUID, str]) -> SignatureOut:
    return SignatureOut(
        party=s.party,
        organisation_id=s.organisation_id,
        signer_id=s.signer_id,
        signer_name=names.get(s.signer_id) if s.signer_id else None,
        attested_by_id=s.attested_by_id,
        attested_by_name=names.get(s.attested_by_id) if s.attested_by_id else None,
        signed_in_person=s.signed_in_person,
        signed_on=s.signed_on,
        representative_id=s.representative_id,
        text_hash=s.text_hash,
        scan_content_type=s.scan_content_type,
        scan_size=s.scan_size,
        scan_sha256=s.scan_sha256,
    )


def agreement_out(
    agreement: Agreement,
    signatures: list[AgreementSignature],
    withdrawals: list[ConsentWithdrawal],
    names: dict[uuid.UUID, str],
    *,
    with_text: bool,
) -> AgreementOut:
    mine = [s for s in signatures if s.agreement_id == agreement.id]
    summary = agreement_summary(agreement, mine, withdrawals)
    return AgreementOut(
        **summary.model_dump(),
        text_hidden=not with_text,
        rendered_text=agreement.rendered_text if with_text else None,
        commitments=dict(agreement.commitments) if with_text else None,
        options=list(agreement.options),
        template_sha256=agreement.template_sha256,
        relapse_wishes=agreement.relapse_wishes if with_text else None,
        relapse_told=agreement.relapse_told if with_text else None,
        evaluation_on=agreement.evaluation_on,
        signatures=[signature_out(s, names) for s in mine],
        withdrawals=[
            WithdrawalOut(id=w.id, whole=w.whole, label=w.label, organisation_kinds=list(w.organisation_kinds),
                          recorded_by_id=w.recorded_by_id, effective_at=w.effective_at)
            for w in withdrawals if w.agreement_id == agreement.id
        ],
        created_at=agreement.created_at,
        signed_at=agreement.signed_at,
    )


def legal_basis_out(b: LegalBasis) -> LegalBasisOut:
    return LegalBasisOut(id=b.id, case_id=b.case_id, article=b.article, justification=b.justification,
                         scope={k: list(v) for k, v in b.scope.items()}, starts_on=b.starts_on, ends_on=b.ends_on,
                         recorded_by_id=b.recorded_by_id, in_force=legal_basis_in_force(b), ended_at=b.ended_at)


def consent_basis_out(agreement: Agreement, scope: dict[str, list[str]]) -> SharingBasisOut:
    return SharingBasisOut(basis=f"agreement:{agreement.id}", kind="agreement", reference=agreement.id,
                           scope=scope, ends_on=agreement.ends_on, title=agreement.title)


def legal_sharing_out(b: LegalBasis) -> SharingBasisOut:
    return SharingBasisOut(basis=f"legal_basis:{b.id}", kind="legal_basis", reference=b.id,
                           scope={k: list(v) for k, v in b.scope.items()}, ends_on=b.ends_on, title=b.article,
                           justification=b.justification)


def checklist_out(c: Checklist) -> ChecklistOut:
    return ChecklistOut(
        case_id=c.case.id,
        client_number=c.client_number,
        complete=c.complete,
        done=c.done,
        total=len(c.items),
        items=[
            ChecklistItemOut(key=i.spec.key, title=i.spec.title, automatic=i.spec.automatic, done=i.done,
                             ticked_by_id=i.ticked_by_id, ticked_at=i.ticked_at, due_on=i.due_on, overdue=i.overdue)
            for i in c.items
        ],
    )
