"""The demo's agreements, so that the case pages show consent status: a three-party agreement
signed by every party a month ago (Fatima Bouzid: the municipality and addiction care), and a
draft that nobody has signed yet (Jeroen Bos). Made from the current template version, like the
service makes them (app/services/agreements/lifecycle.py); everything here is invented. The
caller (app/demo/seed.py) flushes and never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import clock
from app.config import Settings
from app.models import Agreement, AgreementSignature, Case, Client, Mandate, Membership, Organisation
from app.models.enums import AgreementStatus
from app.services.agreements.lifecycle import text_hash
from app.services.agreements.templates import CLIENT, load_templates

TEMPLATE = "driepartijen"
PARTIES = {"municipality": "gemeente", "addiction_care": "verslavingszorg"}  # kind -> demo organisation


@dataclass(frozen=True)
class DemoAgreement:
    client: str  # the demo case's client name
    commitments: dict[str, str]
    signed_days_ago: int | None  # None: a draft, nobody signed yet
    options: tuple[str, ...] = ()


DEMO_AGREEMENTS = (
    DemoAgreement(
        client="Fatima Bouzid",
        commitments={
            CLIENT: "Ik kom elke week naar mijn afspraak bij de verslavingszorg. Als het slecht gaat, bel ik "
                    "mijn casusregisseur.",
            "municipality": "De gemeente regelt kinderopvang zolang de behandeling duurt.",
            "addiction_care": "De verslavingszorg maakt met Fatima een plan om terugval te voorkomen en "
                              "verwijst haar naar de GGZ voor de angstklachten.",
        },
        signed_days_ago=30,
    ),
    DemoAgreement(
        client="Jeroen Bos",
        commitments={
            CLIENT: "Ik ga naar de behandelafspraken voor cocaïne en werk mee aan het bewind.",
            "municipality": "De gemeente vraagt beschermingsbewind aan en zoekt een proefplaats als stukadoor.",
            "addiction_care": "De verslavingszorg biedt wekelijkse behandelafspraken.",
        },
        signed_days_ago=None,
        options=("health_to_police",),
    ),
)


async def add_demo_agreements(
    session: AsyncSession,
    *,
    settings: Settings,
    cases: dict[str, tuple[Case, Client]],
    organisations: dict[str, Organisation],
    memberships: dict[str, Membership],
    mandates: dict[tuple[str, str], Mandate],
) -> int:
    """Add the demo agreements; returns how many."""
    template = load_templates(settings.agreements_dir).get(TEMPLATE)
    assert template is not None, "the demo agreements need the driepartijen template"
    header = template.header
    today = clock.today()
    chair, care = memberships["voorzitter"], memberships["zorg-lid"]
    for spec in DEMO_AGREEMENTS:
        case, client = cases[spec.client]
        made_on = today - timedelta(days=spec.signed_days_ago or 2)
        made_at = datetime.combine(made_on, time(10, 0), tzinfo=UTC)
        starts_on = made_on
        ends_on = starts_on + timedelta(days=header.default_duration_days)
        parties = {CLIENT: {"client_id": str(client.id), "commitment_label": header.commitments[CLIENT]}}
        for kind, slug in PARTIES.items():
            org = organisations[slug]
            parties[kind] = {"organisation_id": str(org.id), "name": org.name,
                             "commitment_label": header.commitments[kind]}
        scope = template.scope(list(spec.options))
        assert client.name is not None
        text = template.render(client_name=client.name, parties={k: organisations[s].name for k, s in PARTIES.items()},
                               commitments=spec.commitments, starts_on=starts_on, ends_on=ends_on, scope=scope)
        signed = spec.signed_days_ago is not None
        agreement = Agreement(
            case_id=case.id, conference_id=case.conference_id, template_id=header.id,
            template_version=header.version, template_sha256=template.source_sha256, title=header.title,
            status=AgreementStatus.signed if signed else AgreementStatus.draft, parties=parties,
            commitments=dict(spec.commitments), options=sorted(spec.options), scope=scope, starts_on=starts_on,
            ends_on=ends_on, rendered_text=text, text_hash=text_hash(text), created_by_id=chair.id,
            created_at=made_at, updated_at=made_at, signed_at=made_at + timedelta(hours=1) if signed else None,
            version=4 if signed else 1,
        )
        session.add(agreement)
        await session.flush()
        if signed:
            session.add_all([
                AgreementSignature(agreement_id=agreement.id, party="municipality",
                                   organisation_id=organisations["gemeente"].id, signer_id=chair.id,
                                   mandate_id=mandates[("voorzitter", "sign_agreements")].id, signed_in_person=True,
                                   signed_on=made_on, text_hash=agreement.text_hash, recorded_by_id=chair.id,
                                   created_at=made_at),
                AgreementSignature(agreement_id=agreement.id, party="addiction_care",
                                   organisation_id=organisations["verslavingszorg"].id, signer_id=care.id,
                                   mandate_id=mandates[("zorg-lid", "sign_agreements")].id, signed_in_person=True,
                                   signed_on=made_on, text_hash=agreement.text_hash, recorded_by_id=care.id,
                                   created_at=made_at),
                AgreementSignature(agreement_id=agreement.id, party=CLIENT, attested_by_id=care.id,
                                   signed_in_person=True, signed_on=made_on, text_hash=agreement.text_hash,
                                   recorded_by_id=care.id, created_at=made_at),
            ])
    await session.flush()
    return len(DEMO_AGREEMENTS)
