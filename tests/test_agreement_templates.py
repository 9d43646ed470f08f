"""Acceptance 2 and 3: every template is validated, renders to HTML and PDF with every party and
commitment, and a signed agreement never changes when its template file does."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from app.clock import clock
from app.config import PROJECT_ROOT
from app.db import DatabaseUrls
from app.main import create_app
from app.services.agreements.templates import TemplateError, dutch_date, load_templates, parse_template
from tests.agreements_support import case_with_assessment, create, driepartijen_body, sign_all
from tests.conftest import make_settings
from tests.factories import World, add_mandate

AGREEMENTS = PROJECT_ROOT / "agreements"
GOOD = (AGREEMENTS / "driepartijen" / "v2.md").read_text(encoding="utf-8")

# The organisation of each kind in the test world.
ORG_OF_KIND = {"municipality": "gemeente", "addiction_care": "zorg", "neighbourhood_team": "wijkteam",
               "police": "politie"}
MEMBER_OF_KIND = {"municipality": "gemeente_member", "addiction_care": "care_member",
                  "neighbourhood_team": "wijkteam_member", "police": "police_member"}


def test_every_template_in_agreements_is_valid() -> None:
    registry = load_templates(AGREEMENTS)
    keys = {t.key for t in registry.all()}
    assert {("driepartijen", 1), ("nazorg", 1)} <= keys
    assert len(keys) == len(list(AGREEMENTS.glob("*/*.md")))
    nazorg = registry.get("nazorg")
    assert nazorg is not None and "neighbourhood_team" in nazorg.header.sharing["health"]


def _write(tmp_path: Path, text: str, name: str = "v2.md", folder: str = "driepartijen") -> Path:
    path = tmp_path / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("{{ commitments.municipality }}", "{{ commitments.gemeente }}"), "unknown placeholder"),
        (lambda t: t.replace("{{ commitments.municipality }}", ""), "lacks placeholders for commitment:municipality"),
        (lambda t: t.replace("health: [municipality]", "health: [huisarts]"), "unknown organisation kind"),
        (lambda t: t.replace("default_duration_days: 365\n", ""), "default_duration_days: Field required"),
        (lambda t: t.replace("parties: [client, municipality", "parties: [municipality"), "the client must be a party"),
        (lambda t: t.replace("{% endfor %}", ""), "placeholder syntax error"),
        (lambda t: t.replace("version: 2", "version: 3"), "file name must be v3.md"),
        (lambda t: t.replace("health: [municipality]", "health: [municipality, other]"), "'other' is not one"),
        (lambda t: t.split("---", 2)[2], "YAML header"),
        (lambda t: t.replace("title: Driepartijenovereenkomst", "title: [kapot"), "YAML header"),
    ],
)
def test_a_broken_template_is_a_clear_error_naming_the_file(tmp_path: Path, change, message: str) -> None:
    path = _write(tmp_path, change(GOOD))
    with pytest.raises(TemplateError) as raised:
        load_templates(tmp_path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_a_broken_template_stops_the_service_at_start(tmp_path: Path, database_urls: DatabaseUrls) -> None:
    _write(tmp_path, GOOD.replace("{{ client_name }}", "{{ client_naam }}"))
    with pytest.raises(TemplateError, match="client_naam"):
        create_app(make_settings(database_urls, tmp_path / "data", agreements_dir=tmp_path))


def test_the_good_copy_parses(tmp_path: Path) -> None:
    assert parse_template(_write(tmp_path, GOOD)).header.id == "driepartijen"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text)


async def test_every_template_renders_to_html_and_pdf_with_every_party_and_commitment(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    registry = load_templates(AGREEMENTS)
    for template in registry.all():
        header = template.header
        case = await case_with_assessment(owner_db, world, name="Fleur Drieënhuizen")
        commitments = {p: f"Afspraak {i} van {p}: ik doe wat ik beloof, ook als het moeilijk wordt."
                       for i, p in enumerate(header.parties)}
        body = {"template_id": header.id, "template_version": header.version,
                "parties": {k: str(world.orgs[ORG_OF_KIND[k]].id) for k in header.organisation_kinds},
                "commitments": commitments}
        created = await create(client, world, case, body)
        assert created.status_code == 201, created.text
        agreement_id = created.json()["id"]
        async with owner_db.sessions() as session:
            for kind in header.organisation_kinds:
                if kind not in ("municipality", "addiction_care"):  # those got one with the case
                    await add_mandate(session, world.members[MEMBER_OF_KIND[kind]], "sign_agreements")
            await session.commit()
        await sign_all(client, world, agreement_id,
                       signers={k: MEMBER_OF_KIND[k] for k in header.organisation_kinds})

        html = await client.get(f"/api/v1/agreements/{agreement_id}/print", headers=world.headers("chair"))
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        pdf = await client.get(f"/api/v1/agreements/{agreement_id}/pdf", headers=world.headers("chair"))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        pdf_text = _normalise(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
        html_text = _normalise(html.text)
        names = ["Fleur Drieënhuizen", *(world.orgs[ORG_OF_KIND[k]].name for k in header.organisation_kinds)]
        for expected in [*names, *commitments.values(), *header.commitments.values(), header.title]:
            assert expected in html_text, (header.id, expected)
            assert expected in pdf_text, (header.id, expected)
        assert created.json()["text_hash"] in pdf_text and "Handtekeningen" in pdf_text


async def test_html_shows_hostile_commitments_as_text(client: httpx.AsyncClient, world: World, owner_db) -> None:
    case = await case_with_assessment(owner_db, world)
    body = driepartijen_body(world)
    body["commitments"]["client"] = '<script>alert("x")</script> [klik](javascript:alert(1))'
    agreement_id = (await create(client, world, case, body)).json()["id"]
    html = (await client.get(f"/api/v1/agreements/{agreement_id}/print", headers=world.headers("chair"))).text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html


@asynccontextmanager
async def _service(database_urls: DatabaseUrls, data_dir: Path, agreements_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A (re)started service on the same database with its own template folder."""
    application = create_app(make_settings(database_urls, data_dir, agreements_dir=agreements_dir))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_a_template_change_never_alters_a_signed_agreement(
    world: World, owner_db, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    folder = tmp_path / "agreements"
    shutil.copytree(AGREEMENTS, folder)
    first_case = await case_with_assessment(owner_db, world)
    async with _service(database_urls, tmp_path / "data", folder) as service:
        agreement_id = (await create(service, world, first_case)).json()["id"]
        signed = (await sign_all(service, world, agreement_id)).json()
    assert signed["status"] == "active"
    text, digest = signed.get("rendered_text"), signed["text_hash"]
    assert text is None or hashlib.sha256(text.encode()).hexdigest() == digest

    # The municipality rewrites version 3 (the one signed) in place and publishes a version 4.
    v3 = folder / "driepartijen" / "v3.md"
    v3.write_text(v3.read_text(encoding="utf-8").replace("Waarom deze afspraken?", "Waarom dit papier?"),
                  encoding="utf-8")
    current = v3.read_text(encoding="utf-8")
    v4 = current.replace("version: 3", "version: 4").replace(
        "Deze afspraken maken wij samen:", "Dit spreken wij in versie 4 af:")
    (folder / "driepartijen" / "v4.md").write_text(v4, encoding="utf-8")

    second_case = await case_with_assessment(owner_db, world, mandates=False)
    async with _service(database_urls, tmp_path / "data", folder) as service:
        again = (await service.get(f"/api/v1/agreements/{agreement_id}", headers=world.headers("chair"))).json()
        assert again["text_hash"] == digest and again["template_version"] == 3
        assert hashlib.sha256(again["rendered_text"].encode()).hexdigest() == digest
        assert "Waarom deze afspraken?" in again["rendered_text"]
        assert "Waarom dit papier?" not in again["rendered_text"]
        assert all(s["text_hash"] == digest for s in again["signatures"])
        pdf = await service.get(f"/api/v1/agreements/{agreement_id}/pdf", headers=world.headers("chair"))
        assert "Waarom deze afspraken?" in _normalise(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text())

        newer = await create(service, world, second_case)
        assert newer.status_code == 201, newer.text
        assert newer.json()["template_version"] == 4
        assert "Dit spreken wij in versie 4 af:" in newer.json()["rendered_text"]
        assert newer.json()["text_hash"] != digest


async def test_version_3_renders_the_new_sections_from_the_agreements_data(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    """Issue 21: relapse plan, evaluation date, the case director as contact person, what happens
    when a party does not keep its word, the client's rights with the privacy officer's contact;
    the aftercare template with the neighbourhood team's way back to care."""
    for template_id in ("driepartijen", "nazorg"):
        template = load_templates(AGREEMENTS).get(template_id)
        assert template is not None and template.header.version >= 3
        case = await case_with_assessment(owner_db, world)
        body = {
            "template_id": template_id,
            "parties": {k: str(world.orgs[ORG_OF_KIND[k]].id) for k in template.header.organisation_kinds},
            "commitments": {p: "Ik kom elke week op de afspraak." for p in template.header.parties},
            "relapse_wishes": "Bel eerst mijn zus. Daarna de huisarts.",
            "relapse_told": "Mijn zus Anna en het wijkteam.",
            "evaluation_on": str(clock.today() + timedelta(days=60)),
        }
        created = await create(client, world, case, body)
        assert created.status_code == 201, created.text
        data = created.json()
        text = _normalise(data["rendered_text"])
        assert data["template_version"] == template.header.version
        assert data["relapse_wishes"] == body["relapse_wishes"] and data["evaluation_on"] == body["evaluation_on"]
        assert "Bel eerst mijn zus. Daarna de huisarts." in text and "Mijn zus Anna en het wijkteam." in text
        assert f"Op {dutch_date(clock.today() + timedelta(days=60))} praten we samen" in text
        director = world.members["care_member"]
        assert f"Uw vaste contactpersoon is **{director.display_name}** van {world.orgs['zorg'].name}" in text
        assert "Als iemand zich niet aan de afspraken houdt" in text
        for right in ("Inzage", "Correctie", "Verwijdering", "Beperking", "Bezwaar", "Klacht"):
            assert f"**{right}**" in text
        officer = world.members["privacy_officer"]
        assert f"{officer.display_name} ({world.orgs['gemeente'].name})" in text
        if template_id == "nazorg":
            assert "Terug naar de zorg" in text and "meldt dat dan meteen aan de verslavingszorg" in text
        pdf = await client.get(f"/api/v1/agreements/{data['id']}/pdf", headers=world.headers("chair"))
        pdf_text = _normalise(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
        assert "Bel eerst mijn zus." in pdf_text and "Uw rechten" in pdf_text


async def test_without_relapse_plan_the_template_says_so_and_evaluation_defaults(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world, director=None)
    created = await create(client, world, case)
    assert created.status_code == 201, created.text
    text = _normalise(created.json()["rendered_text"])
    assert "Dat heeft u nog niet gezegd." in text
    assert "De voorzitter van het casusoverleg laat u weten wie dat is." in text
    assert created.json()["evaluation_on"] == str(clock.today() + timedelta(days=91))


async def test_an_evaluation_date_outside_the_period_is_refused(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world)
    body = driepartijen_body(world, evaluation_on=str(clock.today() + timedelta(days=800)))
    response = await create(client, world, case, body)
    assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem+json")
    assert "evaluation" in response.text
    listed = await client.get(f"/api/v1/cases/{case.id}/agreements", headers=world.headers("chair"))
    assert listed.json()["items"] == [] if "items" in listed.json() else listed.json() == []
