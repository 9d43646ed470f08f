"""Issue 17: consultation without a file (spreekuur). A professional asks the addiction care
institution, or the conference, about an anonymous situation; the answer is recorded; the
conference counts its consultations; with consent one becomes a referral. Acceptance 2: a
consultation leaves no client, name or BSN in any table (every table is read back), and shows in
the conference's count."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from app.db import Database
from tests.factories import World
from tests.referrer_support import add_gp_referrer

NAME, BSN, BORN = "Kees Jansen", "111222333", "12-03-1985"
QUESTION = "Hoe kan ik iemand die dagelijks GHB gebruikt het beste naar behandeling begeleiden?"
SITUATION = "Een man van rond de veertig met schulden; hij slaapt slecht en mist afspraken."


def _body(**changes: object) -> dict[str, object]:
    return {"addressee": "addiction_care", "question": QUESTION, "situation": SITUATION, "age_group": "27_44",
            "substances": ["ghb"], "life_domains": ["substance_use", "finances"], **changes}


async def _every_table_as_text(owner_db: Database) -> dict[str, str]:
    async with owner_db.engine.connect() as conn:
        tables = (await conn.execute(sa.text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"))).scalars().all()
        return {t: " ".join(str(tuple(r)) for r in await conn.execute(sa.text(f'SELECT * FROM "{t}"')))
                for t in tables}


@pytest.mark.parametrize(("field", "value", "pointer"), [
    ("situation", f"Het gaat om {NAME}, die weer drinkt.", "#/situation"),
    ("situation", "Mijn cliënt mevrouw Bakker gebruikt weer.", "#/situation"),
    ("question", f"Wat te doen? Zijn BSN is {BSN}.", "#/question"),
    ("situation", f"Geboren op {BORN}, woont alleen.", "#/situation"),
    ("substances", ["ghb", NAME], "#/substances/1"),
])
async def test_identifying_content_is_refused_naming_the_field(
    client: httpx.AsyncClient, world: World, owner_db: Database, field: str, value: object, pointer: str
) -> None:
    response = await client.post(f"/api/v1/conferences/{world.a.id}/consultations", json=_body(**{field: value}),
                                 headers=world.headers("wijkteam_member"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == pointer
    assert field in response.json()["detail"]
    for secret in (NAME, BSN, BORN, "Bakker"):
        assert secret not in response.text
    async with owner_db.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM consultation"))).scalar_one() == 0
        refused = (await conn.execute(sa.text(
            "SELECT count(*) FROM access_log WHERE resource_type = 'consultation' AND outcome = 'denied' "
            "AND part = 'anonymity'"))).scalar_one()
    assert refused == 1


async def test_fields_for_a_client_do_not_exist(client: httpx.AsyncClient, world: World) -> None:
    for extra in ({"client_name": NAME}, {"bsn": BSN}, {"client": {"name": NAME, "date_of_birth": "1985-03-12"}}):
        response = await client.post(f"/api/v1/conferences/{world.a.id}/consultations", json=_body(**extra),
                                     headers=world.headers("wijkteam_member"))
        assert response.status_code == 422
        assert NAME not in response.text and BSN not in response.text


async def test_a_consultation_is_answered_counted_and_leaves_no_client_anywhere(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    url = f"/api/v1/conferences/{world.a.id}/consultations"
    # First the refused attempts, with the name, BSN and date of birth that must be stored nowhere.
    for bad in (_body(situation=f"Het gaat om {NAME}."), _body(question=f"BSN {BSN}?"),
                _body(situation=f"geboren {BORN}")):
        assert (await client.post(url, json=bad, headers=world.headers("wijkteam_member"))).status_code == 422
    asked = await client.post(url, json=_body(), headers=world.headers("wijkteam_member"))
    assert asked.status_code == 201, asked.text
    consultation = asked.json()
    assert consultation["addressed_organisation_id"] == str(world.orgs["zorg"].id)
    assert consultation["status"] == "open" and consultation["answer"] is None

    # The addiction care institution reads and answers; the police, not asked, may not read it.
    assert (await client.get(f"/api/v1/consultations/{consultation['id']}",
                             headers=world.headers("care_liaison"))).status_code == 200
    assert (await client.get(f"/api/v1/consultations/{consultation['id']}",
                             headers=world.headers("police_member"))).status_code == 403
    assert (await client.post(f"/api/v1/consultations/{consultation['id']}/answer", json={"answer": "Ja."},
                              headers=world.headers("police_member"))).status_code == 403
    answered = await client.post(f"/api/v1/consultations/{consultation['id']}/answer",
                                 json={"answer": "Bied een motiverend gesprek aan en verwijs naar ons inloopspreekuur."},
                                 headers=world.headers("care_member"))
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"
    own = await client.get("/api/v1/consultations", headers=world.headers("wijkteam_member"))
    assert [c["answer"] for c in own.json()["items"]] == [answered.json()["answer"]]
    police = await client.get("/api/v1/consultations", headers=world.headers("police_member"))
    assert police.json()["total"] == 0

    # The conference's count.
    count = await client.get(f"/api/v1/conferences/{world.a.id}/consultation-count", headers=world.headers("chair"))
    assert count.status_code == 200, count.text
    assert (count.json()["total"], count.json()["answered_count"], count.json()["to_addiction_care_count"]) == (1, 1, 1)
    other = await client.get(f"/api/v1/conferences/{world.b.id}/consultation-count", headers=world.headers("chair"))
    assert other.status_code == 404

    # Every table, read back as text: the refused name, BSN and date of birth are nowhere; no client
    # or referral was made; the consultation's row links to no client.
    tables = await _every_table_as_text(owner_db)
    assert "consultation" in tables and "access_log" in tables and "client" in tables
    for secret in (NAME, BSN, BORN, "1985-03-12"):
        assert not [t for t, text in tables.items() if secret in text], secret
    async with owner_db.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM client"))).scalar_one() == 0
        assert (await conn.execute(sa.text("SELECT count(*) FROM referral"))).scalar_one() == 0
        columns = set((await conn.execute(sa.text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'consultation'"))).scalars())
        linked = set((await conn.execute(sa.text(
            "SELECT ccu.table_name FROM information_schema.table_constraints tc "
            "JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name "
            "WHERE tc.table_name = 'consultation' AND tc.constraint_type = 'FOREIGN KEY'"))).scalars())
        rows = (await conn.execute(sa.text("SELECT referral_id FROM consultation"))).scalars().all()
        logged = (await conn.execute(sa.text(
            "SELECT count(*) FROM access_log WHERE resource_type = 'consultation' AND client_number IS NOT NULL"
        ))).scalar_one()
    assert not [c for c in columns if "client" in c or "bsn" in c or "name" in c or "birth" in c]
    assert linked == {"conference", "membership", "organisation", "referral"}
    assert rows == [None] and logged == 0


async def test_a_referrer_asks_the_conference_and_turns_it_into_a_referral_with_consent(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    async with owner_db.sessions() as session:
        poh = await add_gp_referrer(session, world)
        await session.commit()
    asked = await client.post(f"/api/v1/conferences/{world.a.id}/consultations", headers=poh.headers(),
                              json=_body(addressee="conference", substances=["alcohol"]))
    assert asked.status_code == 201, asked.text
    cid = asked.json()["id"]
    assert asked.json()["addressed_organisation_id"] is None
    # Asked of the conference: its chair and members read and answer; a liaison does not.
    assert (await client.get(f"/api/v1/consultations/{cid}", headers=world.headers("police_member"))).status_code == 200
    assert (await client.get(f"/api/v1/consultations/{cid}", headers=world.headers("police_liaison"))).status_code == 403
    answered = await client.post(f"/api/v1/consultations/{cid}/answer", json={"answer": "Meld hem aan bij ons."},
                                 headers=world.headers("gemeente_member"))
    assert answered.status_code == 200, answered.text
    again = await client.post(f"/api/v1/consultations/{cid}/answer", json={"answer": "Nogmaals."},
                              headers=world.headers("chair"))
    assert again.status_code == 409
    mine = await client.get(f"/api/v1/consultations/{cid}", headers=poh.headers())
    assert mine.status_code == 200 and mine.json()["answer"] == "Meld hem aan bij ons."

    convert = f"/api/v1/consultations/{cid}/referral"
    person = {"name": "Gerard Smit", "date_of_birth": "1983-06-01"}
    without = await client.post(convert, json={"consent": False, "client": person, "reason": "Na spreekuur."},
                                headers=poh.headers())
    assert without.status_code == 422 and without.json()["errors"][0]["pointer"] == "#/consent"
    not_theirs = await client.post(convert, json={"consent": True, "client": person, "reason": "Na spreekuur."},
                                   headers=world.headers("gemeente_member"))
    assert not_theirs.status_code == 403
    referral = await client.post(convert, json={"consent": True, "client": person, "reason": "Na spreekuur."},
                                 headers=poh.headers())
    assert referral.status_code == 201, referral.text
    assert referral.json()["kind"] == "consultation"
    after = (await client.get(f"/api/v1/consultations/{cid}", headers=poh.headers())).json()
    assert (after["status"], after["referral_id"]) == ("converted", referral.json()["id"])
    assert "Gerard" not in str(after)
    triage = await client.get("/api/v1/referrals", headers=world.headers("chair"))
    assert [r["kind"] for r in triage.json()["items"]] == ["consultation"]
    twice = await client.post(convert, json={"consent": True, "client": person, "reason": "Nog eens."},
                              headers=poh.headers())
    assert twice.status_code == 409
    count = (await client.get(f"/api/v1/conferences/{world.a.id}/consultation-count",
                              headers=world.headers("police_liaison"))).json()
    assert (count["total"], count["converted_count"]) == (1, 1)
