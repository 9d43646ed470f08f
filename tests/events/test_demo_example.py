"""Acceptance 4: on the demo data, the README's example event (as a partner system with a token
from the development identity provider, over real HTTP) raises a flag on a demo case and tells
its case director; and the example client in docs/ runs against the service."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import httpx
import sqlalchemy as sa

from app.auth.dev_idp import DevKeyStore, issuer_url, mint_token
from app.clock import clock
from app.demo.people import DemoSystem, demo_user
from app.demo.seed import load_demo_data
from app.models import CaseFlag, Notification
from tests.test_dev_idp import dev_server  # noqa: F401  (the fixture: the app with its dev IdPs on loopback)

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_event() -> dict:
    """The JSON of the README's curl example, with the shell's substitutions filled in."""
    block = README.read_text(encoding="utf-8").split("## A partner system's event, on the demo", 1)[1]
    body = re.search(r"-d '(.*?)'\n```", block, re.S)
    assert body, "the README's example lost its -d '...' body"
    text = body.group(1)
    text = text.replace("'\"demo-$(date +%s)\"'", "demo-readme-1")
    text = text.replace("'\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"'", clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
    return json.loads(text)


def system_token(store: DevKeyStore, base: str, key: str) -> str:
    """What `casusoverleg token --as KEY` prints for a demo system."""
    system = demo_user(key)
    assert isinstance(system, DemoSystem)
    return mint_token(store, slug=system.organisation, issuer=issuer_url(base, system.organisation),
                      subject=system.key, scope=" ".join(system.scopes))


async def test_the_readme_event_flags_a_demo_case(dev_server: tuple[str, DevKeyStore], owner_db) -> None:  # noqa: F811
    base, store = dev_server
    async with owner_db.sessions() as session:
        assert await load_demo_data(session, base_url=base)
        await session.commit()
    token = system_token(store, base, "zorg-systeem")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.post(
            "/api/v1/events",
            content=json.dumps(readme_event()),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents+json"},
        )
    assert response.status_code == 201, response.text
    async with owner_db.sessions() as session:
        flags = (await session.execute(sa.select(CaseFlag))).scalars().all()
        notes = (await session.execute(sa.select(Notification).where(Notification.kind == "case_flagged"))).scalars().all()
    assert [f.kind for f in flags] == ["relapse"]
    assert len(notes) == 1 and notes[0].ref_id == flags[0].id


async def test_the_example_client_runs_against_the_service(
    dev_server: tuple[str, DevKeyStore], owner_db  # noqa: F811
) -> None:
    """docs/example_client.py, as a partner would run it (a separate process, real HTTP, a token
    from the development provider): events in both modes and a batch, then the minimal view."""
    base, store = dev_server
    async with owner_db.sessions() as session:
        assert await load_demo_data(session, base_url=base)
        await session.commit()
    token = system_token(store, base, "zorg-systeem")
    script = README.parent / "docs" / "example_client.py"
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), "--base-url", base, "--token", token, "--reference", "ZRG-0005",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    result = json.loads(out)
    assert set(result["structured"]) == {"id", "source", "event", "received_at"}
    assert set(result["binary"]) == {"id", "source", "event", "received_at"}
    assert len(result["batch"]["receipts"]) == 2
    assert result["case"]["references"] == ["ZRG-0005"] and result["case"]["phase"] == "active"
    async with owner_db.sessions() as session:
        kinds = sorted((await session.execute(sa.select(CaseFlag.kind))).scalars())
    assert kinds == ["missed_appointment", "relapse"]
