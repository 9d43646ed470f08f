"""Need-to-know labels on notes: general for all members, health for care, justice for the police
and the chair, org_internal only for the author's organisation; no basis, no sharing."""

from __future__ import annotations

import pytest

from tests.factories import World, add_case

NOTES = [
    ("police_member", "justice", "Aangehouden wegens overlast."),
    ("care_member", "health", "Terugval in GHB-gebruik."),
    ("gemeente_member", "general", "Schuldhulp gestart."),
    ("care_member", "org_internal", "Interne afstemming zorgteam."),
]

# reader -> texts they must see
EXPECTED = {
    "police_member": {"Aangehouden wegens overlast.", "Schuldhulp gestart."},
    "police_liaison": {"Aangehouden wegens overlast.", "Schuldhulp gestart."},
    "care_member": {"Terugval in GHB-gebruik.", "Schuldhulp gestart.", "Interne afstemming zorgteam."},
    "care_liaison": {"Terugval in GHB-gebruik.", "Schuldhulp gestart.", "Interne afstemming zorgteam."},
    "chair": {"Aangehouden wegens overlast.", "Schuldhulp gestart."},
    "wijkteam_member": {"Schuldhulp gestart."},
}


@pytest.mark.parametrize("reader", sorted(EXPECTED))
async def test_notes_are_shown_by_label(client, world: World, owner_db, reader: str) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    for author, label, text in NOTES:
        created = await client.post(f"/api/v1/cases/{case.id}/notes", json={"label": label, "text": text},
                                    headers=world.headers(author))
        assert created.status_code == 201, created.text
    response = await client.get(f"/api/v1/cases/{case.id}/notes", headers=world.headers(reader))
    assert response.status_code == 200
    body = response.json()
    assert {n["text"] for n in body["items"] if not n["hidden"]} == EXPECTED[reader]
    # Hidden notes read as "afgeschermd" with their organisation and date: no label, author or count.
    hidden = [n for n in body["items"] if n["hidden"]]
    assert len(body["items"]) == len(NOTES)
    assert all(n["text"] == "afgeschermd" and n["label"] is None and n["author_id"] is None for n in hidden)
    assert body["hidden"] is bool(hidden)


async def test_privacy_officer_and_other_conference_see_no_notes(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    assert (await client.get(f"/api/v1/cases/{case.id}/notes", headers=world.headers("privacy_officer"))).status_code == 403
    assert (await client.get(f"/api/v1/cases/{case.id}/notes", headers=world.headers("chair_b"))).status_code == 404
