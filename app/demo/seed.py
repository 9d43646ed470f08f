"""The demo conference: four partner organisations, their people, and a dozen fictional clients.

Everything here is invented. Dates are relative to the one clock, so the demo always shows
overdue actions, upcoming reviews and assessments spread over the past months. Like every
service, this one flushes and never commits: the caller (the CLI) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.dev_idp import DEV_AUDIENCE, issuer_url
from app.clock import clock
from app.config import Settings, get_settings
from app.demo.agreements import add_demo_agreements
from app.demo.intake import add_demo_intake
from app.demo.people import (
    ALL_DEMO_ORGANISATIONS,
    DEMO_ORGANISATIONS,
    DEMO_REFERENCE_PREFIX,
    DEMO_SYSTEMS,
    DEMO_USERS,
    demo_reference,
)
from app.demo.ring import add_demo_ring
from app.models import (
    Action,
    AgendaItem,
    Assessment,
    Case,
    Client,
    ClientReference,
    Conference,
    ConferenceOrganisation,
    Goal,
    GuestInvitation,
    Mandate,
    Membership,
    Organisation,
    OrganisationAdmin,
    PartnerSystem,
    Plan,
    Referral,
)
from app.models.enums import (
    ActionStatus,
    AgendaStatus,
    ClosureReason,
    Coverage,
    LifeDomain,
    Phase,
    Priority,
    ReferralStatus,
    Role,
)
from app.services.cases.clients import bsn_hash, encrypt_bsn, new_client_number
from app.services.meetings import agenda as agenda_service
from app.services.meetings import sittings as meeting_service

DEMO_CONFERENCE_NAME = "Casusoverleg Zuiderstad"
DEMO_MARKER_SLUG = "gemeente"

DEMO_CADENCE = {
    "weekday": "tuesday",
    "interval_weeks": 2,
    "time": "10:00",
    "timezone": "Europe/Amsterdam",
    "duration_minutes": 120,
    "anchor": "2026-01-06",
}

# Who acts for an organisation when the demo does not name someone: its member (deelnemer).
MEMBER_OF = {
    "gemeente": "gemeente-lid",
    "politie": "politie-lid",
    "verslavingszorg": "zorg-lid",
    "wijkteam": "wijkteam-lid",
}

D = LifeDomain


@dataclass(frozen=True)
class ActionSpec:
    owner: str  # organisation slug
    title: str
    life_domain: LifeDomain
    due_in_days: int  # negative: in the past
    status: ActionStatus = ActionStatus.open
    resource_scope: str | None = None
    resource_amount_cents: int | None = None
    committed_by: str | None = None  # demo user key; default: the owner's member
    assignee: str | None = None  # demo user key; default: the owner's member


@dataclass(frozen=True)
class CaseSpec:
    name: str
    date_of_birth: date
    phase: Phase
    priority: Priority
    substances: tuple[str, ...]
    opened_days_ago: int
    case_director: str  # demo user key of a member
    client_goals: str
    goals: tuple[tuple[LifeDomain, str], ...]
    actions: tuple[ActionSpec, ...]
    # ZRM scores at the first assessment, 13 digits in LifeDomain order.
    baseline: str = "2222222222222"
    bsn: str | None = None  # fictional numbers from the 9999... test range, passing the 11-test
    closure_reason: ClosureReason | None = None
    closed_days_ago: int | None = None


@dataclass(frozen=True)
class ReferralSpec:
    name: str
    date_of_birth: date
    referred_by: str  # demo user key
    reason: str
    days_ago: int
    bsn: str | None = None
    decline_reason: str | None = None  # set: the chair declined it


# The neighbourhoods (wijken) of the demo cases, in turn: the outcome figures filter by them.
DEMO_AREAS = ("Centrum", "Noord")

CASES: tuple[CaseSpec, ...] = (
    CaseSpec(
        name="Kevin van Dijk",
        date_of_birth=date(1991, 4, 12),
        phase=Phase.selected,
        priority=Priority.high,
        substances=("ghb",),
        opened_days_ago=5,
        case_director="zorg-lid",
        client_goals="Ik wil van de G af. Elke keer ga ik weer out en dan ben ik mijn kamer bijna kwijt.",
        goals=(
            (D.substance_use, "Veilig afbouwen van GHB via een klinische detox."),
            (D.housing, "De kamer bij de hospita behouden."),
        ),
        actions=(
            ActionSpec("verslavingszorg", "Outreachend contact leggen en intake detox plannen",
                       D.substance_use, 7),
            ActionSpec("wijkteam", "Huisbezoek met hospita over de huurachterstand", D.housing, -3),
            ActionSpec("politie", "Wijkagent informeren over afspraken bij overlast Kerkstraat",
                       D.justice, 10, ActionStatus.in_progress),
        ),
        baseline="2132221123232",
    ),
    CaseSpec(
        name="Sandra Koster",
        date_of_birth=date(1984, 9, 2),
        phase=Phase.selected,
        priority=Priority.normal,
        substances=("alcohol",),
        opened_days_ago=9,
        case_director="wijkteam-lid",
        client_goals=(
            "Ik wil dat mijn dochter weer bij mij mag logeren. En ik wil van die schulden af, "
            "ik slaap er niet van."
        ),
        goals=(
            (D.domestic_relations, "Omgangsregeling met haar dochter herstellen."),
            (D.finances, "Schulden in beeld en een stabiel maandbudget."),
        ),
        actions=(
            ActionSpec("gemeente", "Versnelde aanmelding schuldhulpverlening", D.finances, 14,
                       resource_scope="debt_fast_track", resource_amount_cents=80_000),
            ActionSpec("wijkteam", "Keukentafelgesprek met Sandra en haar zus", D.social_network, -5,
                       ActionStatus.done),
            ActionSpec("verslavingszorg", "Motiverend gesprek over het alcoholgebruik", D.substance_use, 10),
        ),
        baseline="1233132233323",
        bsn="999990019",
    ),
    CaseSpec(
        name="Mohammed El Amrani",
        date_of_birth=date(1996, 1, 23),
        phase=Phase.prioritised,
        priority=Priority.urgent,
        substances=("cocaine", "alcohol"),
        opened_days_ago=24,
        case_director="gemeente-lid",
        client_goals=(
            "Ik wil een eigen plek. Op de bank bij mijn neef gaat het niet meer, dan loopt het uit de hand."
        ),
        goals=(
            (D.housing, "Doorstroom naar eigen woonruimte met ambulante begeleiding."),
            (D.substance_use, "Cocaïnegebruik terugbrengen; start ambulante behandeling."),
            (D.justice, "Geen nieuwe politiecontacten door overlast."),
        ),
        actions=(
            ActionSpec("gemeente", "Urgentie voor woonruimte toekennen", D.housing, 21,
                       ActionStatus.in_progress, resource_scope="housing_allocation",
                       resource_amount_cents=350_000, committed_by="voorzitter"),
            ActionSpec("verslavingszorg", "Intake ambulante behandeling cocaïne", D.substance_use, -2),
            ActionSpec("politie", "Afspraak: bij nieuwe overlast eerst de casusregisseur bellen",
                       D.justice, -10, ActionStatus.done),
            ActionSpec("wijkteam", "Begeleiding bij de aanvraag van een uitkering", D.finances, 5),
        ),
        baseline="1121221112221",
    ),
    CaseSpec(
        name="Priscilla Ramdin",
        date_of_birth=date(1979, 6, 30),
        phase=Phase.prioritised,
        priority=Priority.high,
        substances=("ghb", "alcohol"),
        opened_days_ago=35,
        case_director="zorg-lid",
        client_goals=(
            "Ik wil niet meer wakker worden in de ambulance. Ik wil weer gaan werken, "
            "al is het maar een paar uur per week."
        ),
        goals=(
            (D.physical_health, "Geen overdoses meer; medische controle bij de huisarts."),
            (D.work_education, "Start met dagbesteding of vrijwilligerswerk."),
        ),
        actions=(
            ActionSpec("verslavingszorg", "Klinische opname voor GHB-detox regelen", D.substance_use, 3,
                       ActionStatus.in_progress),
            ActionSpec("gemeente", "Dagbesteding via Wmo-maatwerk aanvragen", D.time_use, 30),
            ActionSpec("wijkteam", "Samen met Priscilla naar de huisarts", D.physical_health, -7),
        ),
        baseline="2122331122333",
        bsn="999991103",
    ),
    CaseSpec(
        name="Jeroen Bos",
        date_of_birth=date(1988, 11, 5),
        phase=Phase.active,
        priority=Priority.high,
        substances=("alcohol", "cocaine"),
        opened_days_ago=120,
        case_director="gemeente-lid",
        client_goals=(
            "Ik wil mijn rijbewijs terug en weer als stukadoor aan de slag. "
            "Eerst moet ik wel stoppen met de coke."
        ),
        goals=(
            (D.work_education, "Terug naar werk als stukadoor, eerst via een proefplaatsing."),
            (D.substance_use, "Stoppen met cocaïne, alcohol binnen afgesproken grenzen."),
            (D.finances, "Beschermingsbewind en een schuldregeling."),
        ),
        actions=(
            ActionSpec("gemeente", "Beschermingsbewind aanvragen en schulden saneren", D.finances, -4,
                       resource_scope="debt_fast_track", resource_amount_cents=180_000),
            ActionSpec("verslavingszorg", "Wekelijkse behandelafspraken cocaïne", D.substance_use, 30,
                       ActionStatus.in_progress),
            ActionSpec("politie", "Terugkoppeling lopende zaken (alleen status, geen details)", D.justice,
                       -20, ActionStatus.done),
            ActionSpec("wijkteam", "Contact met oud-werkgever over re-integratie", D.work_education, 14),
            ActionSpec("gemeente", "Budgetcoaching afspreken", D.finances, -1, assignee="voorzitter"),
        ),
        baseline="1122232122222",
        bsn="999991115",
    ),
    CaseSpec(
        name="Fatima Bouzid",
        date_of_birth=date(1992, 2, 17),
        phase=Phase.active,
        priority=Priority.normal,
        substances=("ghb",),
        opened_days_ago=200,
        case_director="zorg-lid",
        client_goals="Ik wil een goede moeder zijn voor mijn zoon en rust in mijn hoofd.",
        goals=(
            (D.mental_health, "Behandeling van de angstklachten naast de verslavingszorg."),
            (D.domestic_relations, "Ondersteuning bij de opvoeding thuis."),
            (D.substance_use, "Abstinent blijven van GHB."),
        ),
        actions=(
            ActionSpec("verslavingszorg", "Terugvalpreventieplan opstellen met Fatima", D.substance_use,
                       -30, ActionStatus.done),
            ActionSpec("verslavingszorg", "Doorverwijzing naar GGZ voor angstklachten", D.mental_health,
                       10, ActionStatus.in_progress),
            ActionSpec("wijkteam", "Opvoedondersteuning thuis, twee keer per week", D.domestic_relations,
                       60, ActionStatus.in_progress),
            ActionSpec("gemeente", "Kinderopvang regelen tijdens behandeling", D.domestic_relations, 14,
                       resource_scope="budget", resource_amount_cents=120_000),
            ActionSpec("politie", "Meldingen huiselijk geweld direct doorzetten naar de casusregisseur",
                       D.justice, 90),
        ),
        baseline="3323112234333",
    ),
    CaseSpec(
        name="Dirk Hoekstra",
        date_of_birth=date(1969, 8, 8),
        phase=Phase.active,
        priority=Priority.urgent,
        substances=("alcohol",),
        opened_days_ago=75,
        case_director="wijkteam-lid",
        client_goals=(
            "Gewoon een dak boven mijn hoofd en dat ze me met rust laten. Minder drinken wil ik wel proberen."
        ),
        goals=(
            (D.housing, "Een woonplek die bij Dirk past, met toezicht op afstand."),
            (D.physical_health, "Leverwaarden laten controleren en wondzorg aan de voeten."),
            (D.substance_use, "Minder drinken, in kleine stappen."),
        ),
        actions=(
            ActionSpec("gemeente", "Plaatsing in een Skaeve Huse-woning", D.housing, 7,
                       resource_scope="housing_allocation", resource_amount_cents=650_000,
                       committed_by="voorzitter", assignee="gemeente-lid"),
            ActionSpec("verslavingszorg", "Bemoeizorg: alcoholdetox bespreekbaar maken", D.substance_use, -3,
                       ActionStatus.in_progress),
            ActionSpec("politie", "Overlast bij de supermarkt: bij nieuwe meldingen eerst de zorgroute",
                       D.justice, 30, ActionStatus.in_progress),
            ActionSpec("wijkteam", "Wekelijks bezoek en samen boodschappen doen", D.iadl, 7),
            ActionSpec("wijkteam", "Afspraak bij de huisarts maken", D.physical_health, -12,
                       ActionStatus.blocked),
        ),
        baseline="1211121112211",
    ),
    CaseSpec(
        name="Lisa Verbeek",
        date_of_birth=date(2001, 5, 21),
        phase=Phase.active,
        priority=Priority.normal,
        substances=("ghb", "cannabis"),
        opened_days_ago=95,
        case_director="zorg-lid",
        client_goals="Ik wil mijn mbo-opleiding afmaken en niet meer met die jongens omgaan.",
        goals=(
            (D.work_education, "Terug naar de mbo-opleiding Zorg en Welzijn."),
            (D.social_network, "Een netwerk van mensen die niet gebruiken."),
        ),
        actions=(
            ActionSpec("wijkteam", "Contact met de mbo-school over terugkeer", D.work_education, -6),
            ActionSpec("verslavingszorg", "Groepstraining voor jongeren", D.substance_use, 21,
                       ActionStatus.in_progress),
            ActionSpec("politie", "Veiligheidsrisico's uit het netwerk melden (alleen wat nodig is)",
                       D.social_network, -15, ActionStatus.done),
            ActionSpec("gemeente", "Studiefinanciering en reiskosten regelen", D.finances, 20,
                       resource_scope="budget", resource_amount_cents=45_000),
        ),
        baseline="2233242333223",
        bsn="999995510",
    ),
    CaseSpec(
        name="Henk Smeets",
        date_of_birth=date(1975, 12, 12),
        phase=Phase.monitoring,
        priority=Priority.normal,
        substances=("alcohol",),
        opened_days_ago=300,
        case_director="gemeente-lid",
        client_goals=(
            "Nu het goed gaat, wil ik het zo houden. Als ik weer ga drinken, moet iemand me aanspreken."
        ),
        goals=(
            (D.substance_use, "Terugvalpreventie met een signaleringsplan bij het wijkteam."),
            (D.social_network, "Sociaal netwerk uitbreiden via de voetbalvereniging."),
        ),
        actions=(
            ActionSpec("wijkteam", "Maandelijks vinger aan de pols (terugvalpreventie)", D.substance_use,
                       20, ActionStatus.in_progress),
            ActionSpec("verslavingszorg", "Nazorggesprek na afronding van de behandeling", D.substance_use,
                       -40, ActionStatus.done),
            ActionSpec("gemeente", "Vrijwilligerswerk bij de voedselbank begeleiden",
                       D.community_participation, 30),
        ),
        baseline="2323232233333",
    ),
    CaseSpec(
        name="Naomi Kok",
        date_of_birth=date(1990, 3, 3),
        phase=Phase.monitoring,
        priority=Priority.low,
        substances=("cocaine",),
        opened_days_ago=260,
        case_director="wijkteam-lid",
        client_goals="Ik heb nu werk en een huis. Ik wil niet terug naar hoe het was.",
        goals=(
            (D.finances, "Schuldregeling afronden zonder nieuwe achterstanden."),
            (D.work_education, "Vast contract bij de huidige werkgever."),
        ),
        actions=(
            ActionSpec("gemeente", "Afronding van de schuldregeling", D.finances, 45,
                       ActionStatus.in_progress),
            ActionSpec("wijkteam", "Nazorg: om de twee weken contact", D.substance_use, -2),
            ActionSpec("politie", "Geen openstaande zaken: dossier bij politie afsluiten", D.justice, -60,
                       ActionStatus.done),
        ),
        baseline="2333323323333",
        bsn="999995522",
    ),
    CaseSpec(
        name="Ronald de Wit",
        date_of_birth=date(1965, 7, 19),
        phase=Phase.closed,
        priority=Priority.normal,
        substances=("alcohol",),
        opened_days_ago=400,
        case_director="gemeente-lid",
        client_goals="Ik wil weer op mezelf wonen en mijn kleinkinderen zien.",
        goals=(
            (D.housing, "Zelfstandig wonen met lichte ondersteuning."),
            (D.domestic_relations, "Contact met de kinderen en kleinkinderen herstellen."),
        ),
        actions=(
            ActionSpec("gemeente", "Woning toewijzen via de corporatie", D.housing, -150, ActionStatus.done),
            ActionSpec("wijkteam", "Bemiddeling in het contact met de familie", D.domestic_relations, -60,
                       ActionStatus.done),
        ),
        baseline="2222223223322",
        closure_reason=ClosureReason.goals_reached,
        closed_days_ago=20,
    ),
    CaseSpec(
        name="Yvonne Schouten",
        date_of_birth=date(1982, 10, 10),
        phase=Phase.closed,
        priority=Priority.high,
        substances=("ghb",),
        opened_days_ago=220,
        case_director="zorg-lid",
        client_goals="Ik ga bij mijn zus in Groningen wonen, daar kan ik opnieuw beginnen.",
        goals=(
            (D.housing, "Verhuizing naar haar zus goed laten verlopen."),
            (D.substance_use, "Warme overdracht naar de verslavingszorg in Groningen."),
        ),
        actions=(
            ActionSpec("verslavingszorg", "Warme overdracht naar de verslavingszorg in Groningen",
                       D.substance_use, -50, ActionStatus.done),
            ActionSpec("gemeente", "Aanvraag bijzondere bijstand voor inrichting", D.finances, -45,
                       ActionStatus.cancelled),
        ),
        baseline="1212121112221",
        closure_reason=ClosureReason.moved,
        closed_days_ago=45,
    ),
)

REFERRALS: tuple[ReferralSpec, ...] = (
    ReferralSpec(
        name="Patrick Hendriks",
        date_of_birth=date(1986, 2, 8),
        referred_by="wijkteam-lid",
        reason=(
            "Keukentafelgesprek over schulden: huurachterstand van drie maanden. Vermoeden van fors "
            "alcoholgebruik; meneer wil hulp bij zijn geldzaken maar houdt afspraken niet vol."
        ),
        days_ago=3,
    ),
    ReferralSpec(
        name="Esra Yilmaz",
        date_of_birth=date(1998, 7, 14),
        referred_by="politie-lid",
        reason=(
            "In twee maanden drie keer onder invloed van GHB aangetroffen op straat, één keer per "
            "ambulance afgevoerd. Zorgen om haar veiligheid."
        ),
        days_ago=6,
    ),
    ReferralSpec(
        name="Marco Willems",
        date_of_birth=date(1979, 11, 27),
        referred_by="zorg-lid",
        reason=(
            "Haakt steeds af na de detox; dakloosheid en schulden blokkeren de behandeling. "
            "Verzoek om bespreking in het casusoverleg."
        ),
        days_ago=1,
        bsn="999995534",
    ),
    ReferralSpec(
        name="Tom Brouwer",
        date_of_birth=date(1994, 4, 4),
        referred_by="politie-lid",
        reason="Aangehouden met een kleine hoeveelheid cocaïne tijdens het uitgaan.",
        days_ago=30,
        decline_reason=(
            "Geen meervoudige problematiek bekend; verwezen naar de reguliere verslavingszorg "
            "via de huisarts."
        ),
    ),
)


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _scores(baseline: str, improving: set[LifeDomain], step: int) -> dict[str, int]:
    domains = list(LifeDomain)
    assert len(baseline) == len(domains), "a baseline has one digit per life domain"
    return {
        domain.value: min(5, int(digit) + (step if domain in improving else 0))
        for domain, digit in zip(domains, baseline, strict=True)
    }


SeedProgress = Callable[[str, int, int], None]  # (what, done, total): counts only, never names


async def point_demo_issuers(session: AsyncSession, *, base_url: str) -> int:
    """Point the demo organisations and their members at the development providers under
    `base_url` (the demo data stores its issuers when first loaded; a later `serve --port`
    moves them). Returns how many organisations moved."""
    moved = 0
    for demo_org in ALL_DEMO_ORGANISATIONS:
        issuer = issuer_url(base_url, demo_org.slug)
        org = (
            await session.execute(sa.select(Organisation).where(col(Organisation.slug) == demo_org.slug))
        ).scalar_one_or_none()
        if org is None or org.issuer is None or org.issuer == issuer:
            continue
        old = org.issuer
        org.issuer = issuer
        org.jwks_uri = f"{issuer}/jwks.json"
        if org.discovery_url:
            org.discovery_url = f"{issuer}/.well-known/openid-configuration"
        await session.execute(
            sa.update(Membership).where(col(Membership.issuer) == old).values(issuer=issuer)
        )
        await session.execute(
            sa.update(GuestInvitation).where(col(GuestInvitation.issuer) == old).values(issuer=issuer)
        )
        moved += 1
    await session.flush()
    return moved


async def load_demo_data(
    session: AsyncSession,
    *,
    base_url: str,
    settings: Settings | None = None,
    progress: SeedProgress | None = None,
) -> bool:
    """Create the demo conference; returns False (and does nothing) when it exists already."""
    settings = settings or get_settings()
    # Two seeds at once (replicas starting together): the second waits for the first to commit,
    # then finds the demo data and leaves it alone. The lock ends with the caller's transaction.
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('casusoverleg:seed'))"))
    exists = await session.scalar(
        sa.select(col(Organisation.id)).where(col(Organisation.slug) == DEMO_MARKER_SLUG)
    )
    if exists is not None:
        return False

    def report(what: str, done: int, total: int) -> None:
        if progress is not None:
            progress(what, done, total)

    today = clock.today()
    now = clock.now()

    organisations: dict[str, Organisation] = {}
    for demo_org in DEMO_ORGANISATIONS:
        issuer = issuer_url(base_url, demo_org.slug)
        organisations[demo_org.slug] = Organisation(
            name=demo_org.name,
            slug=demo_org.slug,
            kind=demo_org.kind,
            issuer=issuer,
            audience=DEV_AUDIENCE,
            jwks_uri=f"{issuer}/jwks.json",
        )
    conference = Conference(name=DEMO_CONFERENCE_NAME, municipality="Zuiderstad", cadence=dict(DEMO_CADENCE))
    session.add_all([*organisations.values(), conference])
    await session.flush()

    session.add_all(
        ConferenceOrganisation(conference_id=conference.id, organisation_id=org.id)
        for org in organisations.values()
    )
    memberships: dict[str, Membership] = {}  # demo user key -> their first membership
    all_memberships: list[Membership] = []
    for user in DEMO_USERS:
        org = organisations[user.organisation]
        for role in user.roles:
            membership = Membership(
                conference_id=conference.id,
                organisation_id=org.id,
                issuer=issuer_url(base_url, user.organisation),
                subject=user.key,
                display_name=user.name,
                role=Role(role).value,
            )
            memberships.setdefault(user.key, membership)
            all_memberships.append(membership)
    session.add_all(all_memberships)
    session.add_all(
        OrganisationAdmin(
            organisation_id=organisations[user.organisation].id,
            issuer=issuer_url(base_url, user.organisation),
            subject=user.key,
            display_name=user.name,
        )
        for user in DEMO_USERS
        if user.organisation_admin
    )
    session.add_all(
        PartnerSystem(
            organisation_id=organisations[system.organisation].id,
            name=system.name,
            subject=system.key,
            scopes=list(system.scopes),
        )
        for system in DEMO_SYSTEMS
    )
    await session.flush()

    mandates: dict[tuple[str, str], Mandate] = {}  # (demo user key, scope) -> mandate
    for user in DEMO_USERS:
        for scope, max_amount in user.mandates:
            mandates[(user.key, scope)] = Mandate(
                membership_id=memberships[user.key].id,
                scope=scope,
                max_amount_cents=max_amount,
                valid_from=today - timedelta(days=180),
                valid_to=today + timedelta(days=365),
                granted_by=f"Directie {organisations[user.organisation].name}",
            )
    session.add_all(mandates.values())
    await session.flush()

    def new_client(name: str, born: date, bsn: str | None, created_days_ago: int) -> Client:
        return Client(
            conference_id=conference.id,
            client_number=new_client_number(),
            name=name,
            date_of_birth=born,
            bsn_ciphertext=encrypt_bsn(bsn, settings) if bsn else None,
            bsn_hash=bsn_hash(bsn, settings) if bsn else None,
            created_at=now - timedelta(days=created_days_ago),
        )

    report("organisations, people and mandates", 1, 1)
    demo_cases: dict[str, tuple[Case, Client]] = {}  # client name -> case (the demo agreements find them)
    for number, spec in enumerate(CASES, start=1):
        opened_on = today - timedelta(days=spec.opened_days_ago)
        client = new_client(spec.name, spec.date_of_birth, spec.bsn, spec.opened_days_ago)
        session.add(client)
        await session.flush()
        # The demo systems' own references (EPD and BVH numbers), so that their events find the
        # client: ZRG-0005 is Jeroen Bos (active), the README's example.
        session.add_all(
            ClientReference(client_id=client.id, organisation_id=organisations[org].id,
                            reference=demo_reference(org, number))
            for org in DEMO_REFERENCE_PREFIX
        )
        closed = spec.phase is Phase.closed
        case = Case(
            conference_id=conference.id,
            client_id=client.id,
            phase=spec.phase.value,
            closure_reason=spec.closure_reason.value if spec.closure_reason else None,
            case_director_id=memberships[spec.case_director].id,
            priority=spec.priority.value,
            substances=list(spec.substances),
            next_review_date=None if closed else today + timedelta(days=7 + 7 * (spec.opened_days_ago % 3)),
            opened_on=opened_on,
            area=DEMO_AREAS[number % len(DEMO_AREAS)],
            opened_at=_at(opened_on),
            closed_at=_at(today - timedelta(days=spec.closed_days_ago or 0), 12) if closed else None,
            updated_at=now,
        )
        session.add(case)
        await session.flush()
        demo_cases[spec.name] = (case, client)

        plan = Plan(case_id=case.id, client_goals=spec.client_goals, updated_at=now)
        session.add(plan)
        await session.flush()
        session.add_all(
            Goal(plan_id=plan.id, life_domain=domain.value, description=text, position=position)
            for position, (domain, text) in enumerate(spec.goals)
        )

        if spec.phase in (Phase.active, Phase.monitoring):
            improving = {domain for domain, _ in spec.goals} | {LifeDomain.substance_use}
            for step, offset in enumerate(range(14, spec.opened_days_ago, 60)):
                if step == 3:
                    break
                session.add(
                    Assessment(
                        case_id=case.id,
                        assessed_on=opened_on + timedelta(days=offset),
                        assessed_by_id=memberships[spec.case_director].id,
                        scores=_scores(spec.baseline, improving, step),
                        created_at=_at(opened_on + timedelta(days=offset), 14),
                    )
                )

        for action in spec.actions:
            committer = action.committed_by or MEMBER_OF[action.owner]
            mandate = mandates.get((committer, action.resource_scope)) if action.resource_scope else None
            if action.resource_scope is None:
                coverage = Coverage.not_applicable
            elif mandate is not None and (
                mandate.max_amount_cents is None
                or (action.resource_amount_cents or 0) <= mandate.max_amount_cents
            ):
                coverage = Coverage.covered
            else:
                coverage = Coverage.escalation_required
            session.add(
                Action(
                    case_id=case.id,
                    conference_id=conference.id,
                    title=action.title,
                    life_domain=action.life_domain.value,
                    owner_organisation_id=organisations[action.owner].id,
                    assignee_id=memberships[action.assignee or MEMBER_OF[action.owner]].id,
                    due_date=today + timedelta(days=action.due_in_days),
                    status=action.status.value,
                    resource_scope=action.resource_scope,
                    resource_amount_cents=action.resource_amount_cents,
                    committed_by_id=memberships[committer].id,
                    mandate_id=mandate.id if mandate is not None else None,
                    coverage=coverage.value,
                    created_at=_at(opened_on, 11),
                    updated_at=now,
                )
            )
        await session.flush()
        report("cases with plans and actions", number, len(CASES))

    chair = memberships["voorzitter"]
    for number, referral_spec in enumerate(REFERRALS, start=1):
        client = new_client(referral_spec.name, referral_spec.date_of_birth, referral_spec.bsn,
                            referral_spec.days_ago)
        session.add(client)
        await session.flush()
        referrer = memberships[referral_spec.referred_by]
        declined = referral_spec.decline_reason is not None
        session.add(
            Referral(
                conference_id=conference.id,
                client_id=client.id,
                referred_by_id=referrer.id,
                referring_organisation_id=referrer.organisation_id,
                reason=referral_spec.reason,
                status=(ReferralStatus.declined if declined else ReferralStatus.pending).value,
                decline_reason=referral_spec.decline_reason,
                decided_by_id=chair.id if declined else None,
                decided_at=now - timedelta(days=referral_spec.days_ago - 7) if declined else None,
                created_at=now - timedelta(days=referral_spec.days_ago),
            )
        )
        report("referrals", number, len(REFERRALS))
    await session.flush()

    await prepare_next_agenda(session, conference, settings=settings)
    report("meetings and the draft agenda of the next one", 1, 1)
    made = await add_demo_agreements(session, settings=settings, cases=demo_cases, organisations=organisations,
                                     memberships=memberships, mandates=mandates)
    report("agreements", made, made)
    await add_demo_ring(session, base_url=base_url, conference=conference, cases=demo_cases, memberships=memberships)
    report("a guest, a household and representatives (the wider ring)", 1, 1)
    await add_demo_intake(session, base_url=base_url, conference=conference, organisations=organisations,
                          memberships=memberships)
    report("a referrer, a worry from the surroundings, consultations and interventions", 1, 1)
    return True


async def prepare_next_agenda(session: AsyncSession, conference: Conference | None = None, *,
                              settings: Settings) -> bool:
    """The meetings of the demo conference's cadence, and the draft agenda of the next one, as the
    scheduler's morning jobs would make them (their first run is tomorrow): a fresh install, or a
    demo database from before, opens with an agenda. A draft that exists is left as it is (the
    chair may have worked on it). Returns whether a draft was made."""
    if conference is None:
        conference = (await session.execute(
            sa.select(Conference).where(col(Conference.name) == DEMO_CONFERENCE_NAME))).scalar_one_or_none()
        if conference is None:
            return False
    await meeting_service.generate_meetings(session, conference, weeks=settings.meeting_horizon_weeks)
    upcoming = await meeting_service.current_meetings(session, [conference.id])
    if not upcoming or upcoming[0].agenda_generated_at is not None or upcoming[0].agenda_status != AgendaStatus.draft:
        return False
    await agenda_service.build_draft(session, upcoming[0], conference.cadence)
    return True


async def demo_agenda_line(session: AsyncSession, *, base_url: str) -> str | None:
    """One line for the start-up banner: the demo conference's next meeting, the number of items
    on its draft agenda and where the chair finds it (None without a demo conference or meeting)."""
    conference_id = await session.scalar(
        sa.select(col(Conference.id)).where(col(Conference.name) == DEMO_CONFERENCE_NAME)
    )
    upcoming = await meeting_service.current_meetings(session, [conference_id]) if conference_id else []
    if not upcoming:
        return None
    meeting = upcoming[0]
    items = await session.scalar(
        sa.select(sa.func.count()).select_from(AgendaItem).where(
            col(AgendaItem.meeting_id) == meeting.id, col(AgendaItem.removed).is_(False))
    )
    when = meeting.starts_at.astimezone(ZoneInfo(DEMO_CADENCE["timezone"]))
    return (f"Next meeting {when:%Y-%m-%d %H:%M}, agenda ({meeting.agenda_status}): {items} items: "
            f"{base_url.rstrip('/')}/web/vergaderingen/{meeting.id}")
