"""Issue 17, demo data: the demo's general practice has its own development issuer; its practice
nurse (`token --as poh`) signs in with it as a referrer, sees their own referral's status and
nothing of any case; the chair's triage shows the referral and the worry from the surroundings;
the demo has consultations (and their count) and catalogues of interventions."""

from __future__ import annotations

import httpx

from app.auth.dev_idp import DevKeyStore, issuer_url, mint_token
from app.demo.people import DemoUser, demo_user
from app.demo.seed import load_demo_data
from tests.test_dev_idp import dev_server  # noqa: F401  (the fixture: the app with its dev IdPs on loopback)


def demo_headers(store: DevKeyStore, base: str, key: str) -> dict[str, str]:
    """What `casusoverleg token --as KEY` gives a demo person."""
    person = demo_user(key)
    assert isinstance(person, DemoUser)
    token = mint_token(store, slug=person.organisation, issuer=issuer_url(base, person.organisation), subject=key)
    return {"Authorization": f"Bearer {token}"}


async def test_the_demo_shows_the_intake_of_the_wider_ring(dev_server: tuple[str, DevKeyStore], owner_db) -> None:  # noqa: F811
    base, store = dev_server
    async with owner_db.sessions() as session:
        assert await load_demo_data(session, base_url=base)
        await session.commit()
    poh, chair = demo_headers(store, base, "poh"), demo_headers(store, base, "voorzitter")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        me = await http.get("/api/v1/me", headers=poh)
        assert me.status_code == 200, me.text
        organisations = {o["id"]: o for o in (await http.get("/api/v1/organisations", headers=chair)).json()}
        practice = organisations[me.json()["organisation_id"]]
        assert practice["kind"] == "general_practice"
        assert practice["issuer"] == issuer_url(base, "huisartsenpraktijk")

        own = (await http.get("/api/v1/referrals", headers=poh)).json()
        assert [(r["kind"], r["status"]) for r in own["items"]] == [("external", "pending")]
        assert (await http.get("/api/v1/cases", headers=poh)).json()["total"] == 0

        triage = (await http.get("/api/v1/referrals", params={"status": "pending"}, headers=chair)).json()
        kinds = {r["kind"] for r in triage["items"]}
        assert {"external", "surroundings"} <= kinds
        worry = next(r for r in triage["items"] if r["kind"] == "surroundings")
        assert (worry["reporter"], worry["reporter_relation"]) == ("Buurvrouw", "neighbour")

        conference_id = own["items"][0]["conference_id"]
        count = (await http.get(f"/api/v1/conferences/{conference_id}/consultation-count", headers=chair)).json()
        assert (count["total"], count["answered_count"], count["open_count"]) == (2, 1, 1)
        mine = (await http.get("/api/v1/consultations", headers=poh)).json()
        assert [c["status"] for c in mine["items"]] == ["open"]

        care = next(o for o in organisations.values() if o["kind"] == "addiction_care")
        catalogue = (await http.get(f"/api/v1/organisations/{care['id']}/interventions", headers=poh)).json()
        assert {"Moti-4", "Wiet-Check", "Kortdurende interventie"} <= {i["name"] for i in catalogue}
