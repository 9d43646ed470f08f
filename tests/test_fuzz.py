"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis), over
real HTTP against a real server, with every check and every phase (examples, coverage, fuzzing
and the stateful phase, which chains operations through the links it infers): nothing a client
can send may cause a 5xx, and every answer must be documented (status, content type, schema,
headers; Allow on 405). Any finding fails the test.

The chair's run covers every operation (most answer the chair); the operations only an
administrator, a privacy officer or a partner system may call (tests/authz_matrix.py) are fuzzed
again as that caller, so that their input handling is reached and not only their 403.

The runs are bounded (few examples per operation, and a time budget) so that together they stay
around four minutes on a busy machine; deeper runs: `st run` against `make run` with a larger -n."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from app.db import Database, DatabaseUrls
from app.main import create_app
from app.models import PartnerSystem
from tests.authz_matrix import MATRIX
from tests.conftest import make_settings
from tests.factories import World
from tests.idp import free_port

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 3
TIME_BUDGET_SECONDS = 100
ROLE_TIME_BUDGET_SECONDS = 35

# matrix caller -> the world's person or system that fuzzes the operations only it may call
OTHER_CALLERS = {
    "admin": "admin",
    "privacy_officer": "privacy_officer",
    "system": "police_system",
    "webhook_system": "care_system",
}


@pytest.fixture
def server(database_urls: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    application = create_app(make_settings(database_urls, tmp_path_factory.mktemp("fuzz")))
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _run(server: str, token: str, report_dir: Path, budget: int, *operation_filters: str,
         config: Path = CONFIG) -> str:
    command = [
        str(Path(sys.executable).with_name("st")), "--config-file", str(config), "--no-color",
        "run", f"{server}/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES),
        "--max-time", str(budget),
        "--workers", "1",
        "--suppress-health-check", "all",
        "--generation-database", "none",
        # One fixed seed: CI runs the same cases every time (a finding is then reproducible, not
        # a coin toss); change it deliberately to explore other cases.
        "--seed", "20261130",
        "--report-dir", str(report_dir),
        *operation_filters,
    ]
    # The server runs in this process: the check must not block its event loop's thread.
    result = subprocess.run(command, capture_output=True, text=True, timeout=budget * 3, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "failures" not in output.split("SUMMARY")[-1].lower() or " 0 failures" in output, output[-20000:]
    return output


def test_schemathesis_all_checks_all_phases_finds_nothing(server: str, world: World, tmp_path: Path) -> None:
    _run(server, world.token("chair", lifetime=3600), tmp_path, TIME_BUDGET_SECONDS)


def _only_for(caller: str) -> list[tuple[str, str]]:
    """The operations this caller may call and the chair may not (the chair's run reaches the
    others' input handling already)."""
    return sorted(k for k, rule in MATRIX.items() if caller in rule.allowed and "chair" not in rule.allowed)


@pytest.mark.parametrize("caller", sorted(OTHER_CALLERS))
async def test_schemathesis_as_each_other_caller_finds_nothing(
    server: str, world: World, owner_db: Database, tmp_path: Path, caller: str
) -> None:
    person = OTHER_CALLERS[caller]
    if person == "care_system":
        async with owner_db.sessions() as session:
            system = PartnerSystem(organisation_id=world.orgs["zorg"].id, name="Zorgsysteem",
                                   subject="care-system", scopes=["webhooks:manage"])
            session.add(system)
            await session.commit()
        world.systems[person] = system
    operations = _only_for(caller)
    assert operations, f"the matrix gives {caller} no operation of its own"
    # Exactly these operations, by their names ("METHOD /path").
    filters = [arg for method, path in operations for arg in ("--include-name", f"{method} {path}")]
    # The caller's own organisation and conference in the path, so that the run reaches the input
    # handling of these operations rather than the refusal of somebody else's objects.
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.read_text() + (
        "\n[parameters]\n"
        f'"path.organisation_id" = "{world.orgs["gemeente"].id}"\n'
        f'"path.conference_id" = "{world.a.id}"\n'
    ))
    token = world.token(person, lifetime=3600)
    # st is a subprocess and the server a thread of this process: run it off the event loop.
    output = await asyncio.to_thread(_run, server, token, tmp_path, ROLE_TIME_BUDGET_SECONDS, *filters, config=config)
    # The filter really selected the caller's operations (not an empty run that passes).
    assert f"Operations:       {len(operations)} selected" in output, output[-4000:]
