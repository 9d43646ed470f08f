"""Agreements in the web client over real HTTP (a real server, the real sign-in code flow): the
consent section of the case page, starting a three-party agreement from the current template,
the commitments, the signatures (an organisation's mandated member; the client's, attested with a
scan), the signed text, print and PDF, withdrawal in part and in whole; every refused form a Dutch
message next to the field and in the summary with nothing written; a stale form the conflict page;
the police see that consent exists and what it allows, never the text."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.demo.seed import load_demo_data
from app.models import (
    AccessLogEntry,
    Agreement,
    AgreementSignature,
    Case,
    Client,
    ConsentWithdrawal,
    LegalBasis,
)
from app.models.enums import AgreementStatus
from tests.agreements_support import PDF, PNG
from tests.factories import World, add_case, add_mandate
from tests.web.conftest import WebServer, browsing, csrf_of, hidden_fields, sign_in, sign_in_as

CLIENT_WORDS = "Ik kom elke week naar de afspraak en vertel eerlijk over mijn gebruik."
CARE_WORDS = "De verslavingszorg biedt binnen een maand een plek in de GHB-detox."
TOWN_WORDS = "De gemeente regelt binnen twee weken schuldhulp."


async def _case(owner_db: Database, world: World, *, chair_mandate: bool = True) -> Case:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        signers = ["care_member", *(["chair"] if chair_mandate else [])]
        for person in signers:
            await add_mandate(session, world.members[person], "sign_agreements")
        await session.commit()
    return case


def _form_of(page: str, action: str, marker: str = "") -> dict[str, str]:
    """The hidden fields of the form posting to `action` (the first one holding `marker`)."""
    for chunk in page.split("<form")[1:]:
        body = chunk.split("</form>")[0]
        if f'action="{action}"' in body and marker in body:
            return hidden_fields(body)
    raise AssertionError(f"no form for {action} {marker}")


def _fields(world: World, **overrides: str) -> dict[str, str]:
    data = {
        "organisatie_municipality": str(world.orgs["gemeente"].id),
        "organisatie_addiction_care": str(world.orgs["zorg"].id),
        "afspraak_client": CLIENT_WORDS, "afspraak_municipality": TOWN_WORDS,
        "afspraak_addiction_care": CARE_WORDS, "ingangsdatum": "", "einddatum": "",
    }
    data.update(overrides)
    return data


async def _start(browser: httpx.AsyncClient, world: World, case: Case) -> httpx.Response:
    """The chair opens the form and starts a draft with the extra consent health -> police."""
    form = await browser.get(f"/web/casussen/{case.id}/overeenkomsten/nieuw?sjabloon=driepartijen")
    assert form.status_code == 200, form.text
    created = await browser.post(f"/web/casussen/{case.id}/overeenkomsten", data={
        **hidden_fields(form.text), **_fields(world), "opties": ["health_to_police"]})
    assert created.status_code == 200 and "/web/overeenkomsten/" in str(created.url), created.text
    return created


async def _sign(browser: httpx.AsyncClient, page: httpx.Response, party: str) -> httpx.Response:
    url = page.url.path
    fields = _form_of(page.text, f"{url}/tekenen", f'value="{party}"')
    return await browser.post(f"{url}/tekenen", data=fields)


async def _client_signs(browser: httpx.AsyncClient, page: httpx.Response, *, scan: bytes | None = PNG,
                        name: str = "handtekening.png", **data: str) -> httpx.Response:
    url = page.url.path
    fields = {**_form_of(page.text, f"{url}/handtekening-client"), "getuige": "", "datum": "", "in_bijzijn": "ja"}
    fields["getuige"] = re.search(r'<option value="([^"]+)" selected>', page.text.split("handtekening-client")[1])[1]  # type: ignore[index]
    fields.update(data)
    files = {"scan": (name, scan, "application/octet-stream")} if scan is not None else {"scan": ("", b"", "")}
    return await browser.post(f"{url}/handtekening-client", data=fields, files=files)


async def _stored(owner_db: Database, case: Case) -> list[Agreement]:
    async with owner_db.sessions() as session:
        return list((await session.execute(sa.select(Agreement).where(Agreement.case_id == case.id))).scalars())


async def test_the_chair_starts_a_three_party_agreement_records_every_signature_and_sees_it_signed(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    case = await _case(owner_db, web_world)
    page = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}")
    assert "Toestemming en grondslag" in page.text and "Er is nog geen overeenkomst" in page.text
    choose = await browser.get(f"/web/casussen/{case.id}/overeenkomsten/nieuw")
    assert "Driepartijenovereenkomst" in choose.text and "Afspraken voor de nazorg" in choose.text

    draft = await _start(browser, web_world, case)
    assert "De overeenkomst is opgesteld als concept" in draft.text and "concept" in draft.text
    assert CLIENT_WORDS in draft.text and CARE_WORDS in draft.text  # the chair reads the text
    assert "Tekenen namens Gemeente" in draft.text and "Tekenen namens Zorg" not in draft.text

    signed = await _sign(browser, draft, "municipality")
    assert signed.status_code == 200 and "De handtekening is vastgelegd" in signed.text
    client = await _client_signs(browser, signed)
    assert client.status_code == 200 and "De handtekening van de cliënt is vastgelegd" in client.text, client.text

    care = await sign_in(browser2, web_world, "care_member", start=draft.url.path)
    done = await _sign(browser2, care, "addiction_care")
    assert done.status_code == 200 and "getekend en geldig" in done.text
    assert "De getekende tekst" in done.text and "Hele toestemming intrekken" in done.text

    [stored] = await _stored(owner_db, case)
    assert stored.status == AgreementStatus.signed and stored.options == ["health_to_police"]
    async with owner_db.sessions() as session:
        signatures = (await session.execute(sa.select(AgreementSignature).where(
            AgreementSignature.agreement_id == stored.id))).scalars().all()
    assert {s.party for s in signatures} == {"client", "municipality", "addiction_care"}
    client_signature = next(s for s in signatures if s.party == "client")
    assert client_signature.scan == PNG and client_signature.scan_content_type == "image/png"
    assert client_signature.attested_by_id == web_world.members["chair"].id

    case_page = await browser.get(f"/web/casussen/{case.id}")
    section = case_page.text.split('id="toestemming"')[1]
    assert "getekend en geldig" in section and "Wat de cliënt nu toestaat" in section
    assert "Informatie over gezondheid, behandeling en terugval: met de gemeente en de politie." in section
    assert CLIENT_WORDS not in section  # the case page shows status and scope, not the text

    printed = await browser.get(f"{draft.url.path}/afdrukken")
    assert printed.status_code == 200 and CARE_WORDS in printed.text and "status: geldig" in printed.text
    assert "default-src 'none'" in printed.headers["content-security-policy"]
    pdf = await browser.get(f"{draft.url.path}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    scan = await browser.get(f"{draft.url.path}/scan")
    assert scan.status_code == 200 and scan.content == PNG and scan.headers["content-type"] == "image/png"

    async with owner_db.sessions() as session:
        logged = {(r.action, r.part) for r in (await session.execute(sa.select(AccessLogEntry).where(
            AccessLogEntry.resource_type == "agreement", AccessLogEntry.resource_id == str(stored.id),
            AccessLogEntry.outcome == "allowed"))).scalars()}
    assert {("create", None), ("update", "signature"), ("read", "text"), ("list", None), ("print", "text"),
            ("export", "text"), ("read", "signature_scan")} <= logged


async def test_every_error_of_the_start_form_in_one_round_and_nothing_written(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case = await _case(owner_db, web_world)
    form = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}/overeenkomsten/nieuw?sjabloon=driepartijen")
    bad = await browser.post(f"/web/casussen/{case.id}/overeenkomsten", data={
        **hidden_fields(form.text), **_fields(web_world, afspraak_client=" ", afspraak_addiction_care="",
                                               organisatie_municipality=str(web_world.orgs["politie"].id),
                                               ingangsdatum="31-02-2027")})
    assert bad.status_code == 422
    summary = bad.text.split('class="error-summary"')[1].split("</div>")[0]
    for field in ("afspraak_client", "afspraak_addiction_care", "organisatie_municipality", "ingangsdatum"):
        assert f'href="#{field}"' in summary, field
        assert f'id="{field}-fout"' in bad.text and f'aria-describedby="{field}-fout' in bad.text
    assert "Vul in: wat ik zelf doe." in bad.text and "Vul een geldige datum in" in bad.text
    assert TOWN_WORDS in bad.text and 'value="31-02-2027"' in bad.text  # what was typed stays
    past = await browser.post(f"/web/casussen/{case.id}/overeenkomsten", data={
        **hidden_fields(form.text), **_fields(web_world, ingangsdatum="01-01-2020")})
    assert past.status_code == 422 and "De ingangsdatum ligt in het verleden." in past.text
    assert 'href="#ingangsdatum"' in past.text
    assert await _stored(owner_db, case) == []  # nothing written


async def test_the_police_see_the_consent_status_never_the_agreement_text(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    case = await _case(owner_db, web_world)
    await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}")
    draft = await _start(browser, web_world, case)
    police = await sign_in(browser2, web_world, "police_liaison", start=f"/web/casussen/{case.id}")
    assert police.status_code == 200 and "Driepartijenovereenkomst" in police.text and "concept" in police.text
    agreement = await browser2.get(draft.url.path)
    assert agreement.status_code == 200 and "ziet alleen de voorzitter, de casusregisseur en de partijen" in agreement.text
    for words in (CLIENT_WORDS, CARE_WORDS, TOWN_WORDS):
        assert words not in police.text and words not in agreement.text
    assert "Tekenen namens" not in agreement.text and "handtekening-client" not in agreement.text
    for suffix in ("/afdrukken", "/pdf", "/scan"):
        refused = await browser2.get(draft.url.path + suffix)
        assert refused.status_code == 403 and "Geen toegang" in refused.text, suffix
    async with owner_db.sessions() as session:
        denied = (await session.execute(sa.select(sa.func.count()).select_from(AccessLogEntry).where(
            AccessLogEntry.outcome == "denied", AccessLogEntry.resource_type == "agreement",
            AccessLogEntry.actor_subject == web_world.members["police_liaison"].subject))).scalar_one()
    assert denied == 3


async def test_the_scan_must_be_a_pdf_png_or_jpeg_within_the_limit(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, web_server: WebServer
) -> None:
    case = await _case(owner_db, web_world)
    await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}")
    draft = await _start(browser, web_world, case)
    gif = await _client_signs(browser, draft, scan=b"GIF89a" + b"\x00" * 20, name="handtekening.gif")
    assert gif.status_code == 422 and "Een scan is een PDF-, PNG- of JPEG-bestand." in gif.text
    assert 'href="#scan"' in gif.text and 'id="scan-fout"' in gif.text
    big = await _client_signs(browser, draft, scan=PDF + b"0" * 930_000, name="groot.pdf")
    assert big.status_code == 422 and "Het bestand is te groot: een scan is hoogstens 900 kB." in big.text
    missing = await _client_signs(browser, draft, scan=None, in_bijzijn="")
    assert missing.status_code == 422 and "Voeg dan de scan van het getekende papier toe." in missing.text
    bad_date = await _client_signs(browser, draft, datum="morgen")
    assert bad_date.status_code == 422 and 'id="datum-fout"' in bad_date.text
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(AgreementSignature))).scalar_one() == 0
        updates = (await session.execute(sa.select(sa.func.count()).select_from(AccessLogEntry).where(
            AccessLogEntry.action == "update", AccessLogEntry.resource_type == "agreement"))).scalar_one()
    assert updates == 0  # a refused form logs no change
    pdf = await _client_signs(browser, draft, scan=PDF, name="handtekening.pdf", in_bijzijn="")
    assert pdf.status_code == 200 and "op papier, vastgelegd door Chair" in pdf.text


async def test_a_stale_form_shows_the_conflict_page_and_overwrites_nothing(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    case = await _case(owner_db, web_world)
    await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}")
    draft = await _start(browser, web_world, case)  # the chair's page, loaded now
    care = await sign_in(browser2, web_world, "care_member", start=draft.url.path)
    assert (await _sign(browser2, care, "addiction_care")).status_code == 200
    stale = await _sign(browser, draft, "municipality")
    assert stale.status_code == 409 and "Uw wijziging is niet opgeslagen" in stale.text
    assert "Tekenen namens Gemeente" in stale.text  # mine
    assert "de verslavingszorg" in stale.text.split("Getekend")[1]  # theirs
    async with owner_db.sessions() as session:
        parties = (await session.execute(sa.select(AgreementSignature.party))).scalars().all()
    assert parties == ["addiction_care"]
    again = await browser.get(draft.url.path)
    assert (await _sign(browser, again, "municipality")).status_code == 200


async def test_signing_without_a_mandate_is_refused_in_dutch_and_logged(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case = await _case(owner_db, web_world, chair_mandate=False)
    await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}")
    draft = await _start(browser, web_world, case)
    refused = await _sign(browser, draft, "municipality")
    assert refused.status_code == 403 and "heeft u een mandaat nodig om overeenkomsten te tekenen" in refused.text
    assert 'class="error-summary"' in refused.text
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(AgreementSignature))).scalar_one() == 0
        denied = (await session.execute(sa.select(AccessLogEntry.part).where(
            AccessLogEntry.outcome == "denied", AccessLogEntry.resource_type == "agreement"))).scalars().all()
    assert denied == ["signature"]


async def test_consent_is_withdrawn_in_part_then_in_whole(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    case = await _case(owner_db, web_world)
    await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}")
    draft = await _start(browser, web_world, case)
    await _client_signs(browser, await _sign(browser, draft, "municipality"))
    care = await sign_in(browser2, web_world, "care_member", start=draft.url.path)
    await _sign(browser2, care, "addiction_care")
    page = await browser.get(draft.url.path)
    url = f"{draft.url.path}/intrekken"

    nothing = await browser.post(url, data=_form_of(page.text, url, 'value="health"'))
    assert nothing.status_code == 422 and "Kies ten minste één organisatie" in nothing.text
    assert 'href="#organisaties_health"' in nothing.text
    part = await browser.post(url, data={**_form_of(page.text, url, 'value="health"'), "organisaties": "police"})
    assert part.status_code == 200 and "De intrekking is vastgelegd" in part.text
    assert "Gezondheid voor de politie" in part.text
    case_page = await browser.get(f"/web/casussen/{case.id}")
    assert "Informatie over gezondheid, behandeling en terugval: met de gemeente." in case_page.text

    unconfirmed = await browser.post(url, data=_form_of(part.text, url, 'name="geheel"'))
    assert unconfirmed.status_code == 422 and 'id="bevestig-fout"' in unconfirmed.text
    whole = await browser.post(url, data={**_form_of(part.text, url, 'name="geheel"'), "bevestig": "ja"})
    assert whole.status_code == 200 and "ingetrokken" in whole.text and "Hele toestemming intrekken" not in whole.text
    [stored] = await _stored(owner_db, case)
    assert stored.status == AgreementStatus.withdrawn
    async with owner_db.sessions() as session:
        withdrawals = (await session.execute(sa.select(ConsentWithdrawal).order_by(
            ConsentWithdrawal.effective_at))).scalars().all()
    assert [(w.whole, w.label, w.organisation_kinds) for w in withdrawals] == [
        (False, "health", ["police"]), (True, None, [])]


async def test_the_demo_shows_a_signed_and_a_draft_three_party_agreement(
    owner_db: Database, web_server: WebServer, browser: httpx.AsyncClient
) -> None:
    """What `make run` shows: the demo's chair finds consent status on the case pages."""
    async with owner_db.sessions() as session:
        assert await load_demo_data(session, base_url=web_server.base)
        await session.commit()
        cases = dict((await session.execute(sa.select(Client.name, Case.id).join(Case, Case.client_id == Client.id)
                                            .where(Client.name.in_(["Fatima Bouzid", "Jeroen Bos"])))).all())
        stored = {a.case_id: a for a in (await session.execute(sa.select(Agreement))).scalars()}
    assert {a.status for a in stored.values()} == {AgreementStatus.signed, AgreementStatus.draft}

    start = f"/web/casussen/{cases['Fatima Bouzid']}"
    signed_in = await sign_in_as(browser, "gemeente", "voorzitter", start=start)
    assert signed_in.url.path == start
    section = signed_in.text.split('id="toestemming"')[1]
    assert "Driepartijenovereenkomst" in section and "getekend en geldig" in section
    assert "Informatie over gezondheid, behandeling en terugval: met de gemeente." in section
    draft = await browser.get(f"/web/casussen/{cases['Jeroen Bos']}")
    assert "concept" in draft.text.split('id="toestemming"')[1]
    agreement = await browser.get(f"/web/overeenkomsten/{stored[cases['Fatima Bouzid']].id}")
    assert "De getekende tekst" in agreement.text and "Fatima Bouzid" in agreement.text
    assert agreement.text.count("nog niet getekend") == 0


async def test_a_scan_larger_than_any_request_gets_a_dutch_page_not_json(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case = await _case(owner_db, web_world)
    await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}")
    draft = await _start(browser, web_world, case)
    huge = await _client_signs(browser, draft, scan=PDF + b"0" * 1_100_000, name="enorm.pdf")
    assert huge.status_code == 413 and huge.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in huge.text and "Het formulier is te groot" in huge.text
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(AgreementSignature))).scalar_one() == 0


# Who may open each agreement page (200), is refused (403) or may not know it exists (404): case
# workers read the agreement; chair and members start one; the text, print view, PDF and scan are
# for the chair, the case director (care_member) and the parties' organisations (municipality,
# addiction care); the privacy officer and the administrator read no case content; conference B
# does not know the case.
READERS: dict[str, tuple[int, int, int]] = {  # person: (agreement page, form to start one, text pages)
    "chair": (200, 200, 200),
    "care_member": (200, 200, 200),
    "gemeente_member": (200, 200, 200),
    "police_member": (200, 200, 403),
    "police_liaison": (200, 403, 403),
    "wijkteam_member": (200, 200, 403),
    "privacy_officer": (403, 403, 403),
    "admin": (403, 403, 403),
    "police_member_b": (404, 404, 404),
}
# Changes refused by the policy (or the text rule) for these people, with nothing written.
REFUSED_CHANGES: dict[str, tuple[tuple[str, dict[str, str], int], ...]] = {
    "police_liaison": (("tekenen", {"partij": "municipality"}, 403),
                       ("intrekken", {"geheel": "ja", "bevestig": "ja"}, 403)),
    "police_member": (("handtekening-client", {"getuige": "", "in_bijzijn": "ja"}, 403),
                      ("intrekken", {"label": "health", "organisaties": "police"}, 403)),
    "wijkteam_member": (("intrekken", {"geheel": "ja", "bevestig": "ja"}, 403),),
    "police_member_b": (("tekenen", {"partij": "municipality"}, 404),
                        ("intrekken", {"geheel": "ja", "bevestig": "ja"}, 404)),
}


async def test_who_may_open_and_change_the_agreement_pages(
    web_world: World, owner_db: Database, web_server: WebServer, browser: httpx.AsyncClient
) -> None:
    case = await _case(owner_db, web_world)
    async with owner_db.sessions() as session:
        await add_mandate(session, web_world.members["gemeente_member"], "sign_agreements")
        await session.commit()
    await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}")
    draft = await _start(browser, web_world, case)
    signed = await _client_signs(browser, draft)
    assert signed.status_code == 200
    url = draft.url.path
    [before] = await _stored(owner_db, case)
    for person, (agreement, start, text) in READERS.items():
        async with browsing(web_server) as c:
            home = await sign_in(c, web_world, person, start="/web/casussen")
            assert home.status_code == 200, person
            got = {
                "agreement": (await c.get(url)).status_code,
                "start": (await c.get(f"/web/casussen/{case.id}/overeenkomsten/nieuw")).status_code,
                **{suffix: (await c.get(url + suffix)).status_code for suffix in ("/afdrukken", "/pdf", "/scan")},
            }
            assert got == {"agreement": agreement, "start": start, "/afdrukken": text, "/pdf": text,
                           "/scan": text}, person
            for suffix, data, status in REFUSED_CHANGES.get(person, ()):
                refused = await c.post(f"{url}/{suffix}", data={"csrf": csrf_of(home.text), "versie": "2", **data})
                assert refused.status_code == status and "<html lang=\"nl\">" in refused.text, (person, suffix)
        async with owner_db.sessions() as session:
            denied = (await session.execute(sa.select(sa.func.count()).select_from(AccessLogEntry).where(
                AccessLogEntry.outcome == "denied",
                AccessLogEntry.actor_subject == web_world.members[person].subject))).scalar_one()
        refusals = [s for s in (agreement, start, text, text, text) if s != 200]
        assert denied == len(refusals) + len(REFUSED_CHANGES.get(person, ())), person
    [after] = await _stored(owner_db, case)
    assert after.version == before.version and after.status == AgreementStatus.draft


async def test_legal_bases_in_force_on_the_case_page_with_the_justification_for_chair_and_director_only(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    justification = "Ernstig gevaar voor de cliënt: opname dreigt, de politie moet het zorgplan kennen."
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        session.add(LegalBasis(case_id=case.id, conference_id=case.conference_id, article="Wvggz art. 8:16",
                               justification=justification, scope={"health": ["police"]},
                               starts_on=clock.today(), ends_on=clock.today() + timedelta(days=90),
                               recorded_by_id=web_world.members["chair"].id))
        await session.commit()
    chair = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}")
    section = chair.text.split('id="toestemming"')[1]
    assert "Wvggz art. 8:16" in section and "met de politie" in section and "Geldt tot en met" in section
    assert justification in section
    police = await sign_in(browser2, web_world, "police_liaison", start=f"/web/casussen/{case.id}")
    section = police.text.split('id="toestemming"')[1]
    assert "Wvggz art. 8:16" in section and justification not in section
    assert "De onderbouwing leest alleen de voorzitter en de casusregisseur." in section
    async with owner_db.sessions() as session:
        parts = (await session.execute(sa.select(AccessLogEntry.part).where(
            AccessLogEntry.resource_type == "legal_basis").order_by(AccessLogEntry.seq))).scalars().all()
    assert parts == ["justification", None]  # the chair read it, the police liaison did not


async def test_an_aftercare_agreement_from_its_own_template_and_none_for_a_closed_case(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case = await _case(owner_db, web_world)
    async with owner_db.sessions() as session:
        closed = await add_case(session, web_world, phase="closed")
        await session.commit()
    form = await sign_in(browser, web_world, "chair",
                         start=f"/web/casussen/{case.id}/overeenkomsten/nieuw?sjabloon=nazorg")
    assert "Wie is het sociaal wijkteam?" in form.text and "Wie is de gemeente?" not in form.text
    created = await browser.post(f"/web/casussen/{case.id}/overeenkomsten", data={
        **hidden_fields(form.text), "organisatie_addiction_care": str(web_world.orgs["zorg"].id),
        "organisatie_neighbourhood_team": str(web_world.orgs["wijkteam"].id),
        "afspraak_client": "Ik bel het wijkteam als het minder gaat.",
        "afspraak_addiction_care": "De verslavingszorg meldt een terugval aan het wijkteam.",
        "afspraak_neighbourhood_team": "Het wijkteam komt elke maand langs."})
    assert created.status_code == 200 and "Afspraken voor de nazorg" in created.text
    assert "Tekenen namens" not in created.text  # the municipality is no party to it
    [stored] = await _stored(owner_db, case)
    assert stored.template_id == "nazorg" and stored.status == AgreementStatus.draft

    page = await browser.get(f"/web/casussen/{closed.id}")
    assert "Een overeenkomst opstellen" not in page.text
    refused = await browser.post(f"/web/casussen/{closed.id}/overeenkomsten", data={
        **hidden_fields(form.text), "organisatie_addiction_care": str(web_world.orgs["zorg"].id),
        "organisatie_neighbourhood_team": str(web_world.orgs["wijkteam"].id), "afspraak_client": "x",
        "afspraak_addiction_care": "x", "afspraak_neighbourhood_team": "x"})
    assert refused.status_code == 409 and "Voor een afgesloten casus wordt geen overeenkomst" in refused.text
    assert await _stored(owner_db, closed) == []
