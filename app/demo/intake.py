"""The demo's intake from the wider ring (issue 17), so that `make run` shows each of these: a
general practice (its own development issuer, taking part in no conference) whose practice nurse
is a referrer and has referred a client; a worry from a client's surroundings recorded by the
neighbourhood team; consultations without a file (one answered by addiction care, one of the
practice nurse still open); and the organisations' catalogues of interventions. Everything here is
invented. The caller (app/demo/seed.py) flushes and never commits."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dev_idp import DEV_AUDIENCE, issuer_url
from app.clock import clock
from app.demo.people import DEMO_REFERRER_ORGANISATIONS, DEMO_REFERRERS
from app.models import Client, Conference, Consultation, Intervention, Membership, Organisation, Referral
from app.models.enums import (
    AgeGroup,
    ConsultationAddressee,
    ConsultationStatus,
    Label,
    LifeDomain,
    ReferralKind,
    ReporterRelation,
    Role,
)
from app.services.cases.clients import new_client_number

# (organisation slug, name, description, life domain, label)
INTERVENTIONS = (
    ("verslavingszorg", "Moti-4", "Vier motiverende gesprekken voor jongeren (tot 24) die blowen, drinken of "
     "gamen en daar last van krijgen.", LifeDomain.substance_use, Label.health),
    ("verslavingszorg", "Wiet-Check", "Een of twee gesprekken over het eigen cannabisgebruik, met advies.",
     LifeDomain.substance_use, Label.health),
    ("verslavingszorg", "Kortdurende interventie", "Drie tot vijf gesprekken om het gebruik te minderen of te "
     "stoppen.", LifeDomain.substance_use, Label.health),
    ("wijkteam", "Huisbezoek", "Een bezoek aan huis: hoe woont iemand, wat is er nodig.", LifeDomain.housing, None),
    ("wijkteam", "Keukentafelgesprek", "Een gesprek thuis over alle leefgebieden, met wie erbij wil zijn.",
     LifeDomain.social_network, None),
    ("gemeente", "Snelle route schuldhulp", "Binnen twee weken een intake bij de schuldhulpverlening.",
     LifeDomain.finances, None),
)
REFERRED, WORRIED_ABOUT = "Wim de Graaf", "Ria Kramer"


async def add_demo_intake(
    session: AsyncSession, *, base_url: str, conference: Conference, organisations: dict[str, Organisation],
    memberships: dict[str, Membership],
) -> None:
    now = clock.now()
    practices = {}
    for demo_org in DEMO_REFERRER_ORGANISATIONS:
        issuer = issuer_url(base_url, demo_org.slug)
        practices[demo_org.slug] = Organisation(name=demo_org.name, slug=demo_org.slug, kind=demo_org.kind,
                                                issuer=issuer, audience=DEV_AUDIENCE, jwks_uri=f"{issuer}/jwks.json")
    session.add_all(practices.values())
    await session.flush()
    referrers = {
        user.key: Membership(conference_id=conference.id, organisation_id=practices[user.organisation].id,
                             issuer=practices[user.organisation].issuer or "", subject=user.key,
                             display_name=user.name, role=Role.referrer.value)
        for user in DEMO_REFERRERS
    }
    session.add_all(referrers.values())

    def client(name: str, born: date, days_ago: int) -> Client:
        return Client(conference_id=conference.id, client_number=new_client_number(), name=name,
                      date_of_birth=born, created_at=now - timedelta(days=days_ago))

    referred, worried = client(REFERRED, date(1961, 9, 2), 3), client(WORRIED_ABOUT, date(1954, 1, 27), 1)
    session.add_all([referred, worried])
    await session.flush()
    poh = referrers["poh"]
    wijkteam = memberships["wijkteam-lid"]
    referral = Referral(
        conference_id=conference.id, client_id=referred.id, referred_by_id=poh.id,
        referring_organisation_id=poh.organisation_id, kind=ReferralKind.external,
        reason="Drinkt sinds het overlijden van zijn vrouw fors, is twee keer gevallen en komt niet meer op "
               "controle. Hij wil zelf hulp, maar weet niet waar te beginnen.",
        created_at=now - timedelta(days=3),
    )
    concern = Referral(
        conference_id=conference.id, client_id=worried.id, referred_by_id=wijkteam.id,
        referring_organisation_id=wijkteam.organisation_id, kind=ReferralKind.surroundings,
        reporter="Buurvrouw", reporter_relation=ReporterRelation.neighbour,
        reason="De buurvrouw ziet haar al weken niet buiten; de post stapelt zich op en 's avonds hoort ze "
               "haar roepen. Er staan veel lege flessen bij het afval.",
        created_at=now - timedelta(days=1),
    )
    session.add_all([referral, concern])
    await session.flush()

    care = organisations["verslavingszorg"]
    session.add_all([
        Consultation(
            conference_id=conference.id, asked_by_id=wijkteam.id, asking_organisation_id=wijkteam.organisation_id,
            addressee=ConsultationAddressee.addiction_care, addressed_organisation_id=care.id,
            question="Hoe bespreek ik het gebruik als iemand zegt dat de schulden het enige probleem zijn?",
            situation="Een vrouw van rond de veertig met hoge schulden; bij elk huisbezoek ruikt het naar alcohol.",
            age_group=AgeGroup.from_27_to_44, substances=["alcohol"],
            life_domains=[LifeDomain.finances.value, LifeDomain.substance_use.value],
            status=ConsultationStatus.answered,
            answer="Begin bij de schulden, zoals zij vraagt, en vraag daarna hoe zij ontspant en wat drinken "
                   "haar oplevert. Ons inloopspreekuur op dinsdag staat open; zij mag anoniem komen.",
            answered_by_id=memberships["zorg-lid"].id, answered_at=now - timedelta(days=5),
            created_at=now - timedelta(days=6),
        ),
        Consultation(
            conference_id=conference.id, asked_by_id=poh.id, asking_organisation_id=poh.organisation_id,
            addressee=ConsultationAddressee.conference,
            question="Kan het casusoverleg iets betekenen voor een oudere man die na een verlies veel drinkt en "
                     "nog niet wil dat er iemand langskomt?",
            situation="Man van in de zestig, woont alleen, valt af en toe; staat open voor gesprekken bij de huisarts.",
            age_group=AgeGroup.from_45_to_64, substances=["alcohol"],
            life_domains=[LifeDomain.substance_use.value, LifeDomain.social_network.value],
            created_at=now - timedelta(days=2),
        ),
    ])
    session.add_all(
        Intervention(organisation_id=organisations[slug].id, name=name, description=description,
                     life_domain=domain.value, label=label.value if label else None,
                     created_at=now - timedelta(days=30), updated_at=now - timedelta(days=30))
        for slug, name, description, domain, label in INTERVENTIONS
    )
    await session.flush()
