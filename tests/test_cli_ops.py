"""The command line as a newcomer and an operator meet it: a token for the port the server runs
on, a banner that names the web client and the exact token command, the embedded database
stopped on request, and one clear line (no traceback) for a bad DATABASE_URL, an unreachable
PostgreSQL or a production secret left at its development value."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from app import cli
from app.config import PROJECT_ROOT, Settings, get_settings


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ("PORT", "HOST", "PUBLIC_BASE_URL", "DATABASE_URL", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _issuer(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert cli.main(["token", "--as", "voorzitter", *argv]) == 0
    payload = capsys.readouterr().out.strip().split(".")[1]
    # Only the claims matter here; signatures are checked in tests/test_dev_idp.py.
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["iss"])


def test_token_is_for_the_port_the_server_reads(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert _issuer(capsys) == "http://127.0.0.1:8000/dev-idp/gemeente"
    env.setenv("PORT", "8123")
    get_settings.cache_clear()
    assert _issuer(capsys) == "http://127.0.0.1:8123/dev-idp/gemeente"
    assert _issuer(capsys, "--port", "8200") == "http://127.0.0.1:8200/dev-idp/gemeente"
    assert _issuer(capsys, "--base-url", "https://demo.example") == "https://demo.example/dev-idp/gemeente"


def test_public_base_url_wins_over_host_and_port() -> None:
    assert Settings(port=9000).public_base_url == "http://127.0.0.1:9000"
    assert Settings(host="0.0.0.0", port=9000).public_base_url == "http://127.0.0.1:9000"
    assert Settings(port=9000, public_base_url="https://x.example").public_base_url == "https://x.example"


def test_banner_names_the_web_client_the_api_and_the_exact_token_command(env: pytest.MonkeyPatch) -> None:
    ambient = Settings()
    on_other_port = Settings(port=8765)
    banner = cli._banner(on_other_port, ambient)
    assert "Web client : http://127.0.0.1:8765/web/" in banner
    assert "API        : http://127.0.0.1:8765/api/v1" in banner
    assert "token --as voorzitter --port 8765" in banner
    assert "db stop" in banner
    assert "--port" not in cli._banner(ambient, ambient)


def _run(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ENVIRONMENT")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *argv], cwd=PROJECT_ROOT, env={**clean, **env},
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DATABASE_URL": "mysql://app@db/casusoverleg"}, "DATABASE_URL must be a PostgreSQL URL"),
        ({"DATABASE_URL": "postgresql://app:secret-pw@127.0.0.1:1/casusoverleg"}, "cannot reach PostgreSQL"),
        ({"ENVIRONMENT": "production", "DEV_IDP_ENABLED": "false", "LOAD_DEMO_DATA": "false",
          "DATABASE_URL": "postgresql://app@127.0.0.1:1/x"}, "BSN_ENCRYPTION_KEY must be set"),
        ({"PORT": "eighty"}, "PORT"),
    ],
    ids=["wrong-url", "unreachable", "production-secret", "bad-number"],
)
def test_bad_input_gets_one_clear_line_and_a_non_zero_exit(env: dict[str, str], expected: str) -> None:
    result = _run("migrate", **env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip() and "Warning" not in line
             and not line.startswith("  ")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("casusoverleg: ") and expected in lines[0]
    assert "Traceback" not in result.stderr
    assert "secret-pw" not in result.stderr


def test_db_stop_stops_the_embedded_postgresql(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:

    # Under the project's .data: the server runs as another user (when we are root), which
    # cannot enter pytest's private temporary folders.
    tmp_path = PROJECT_ROOT / ".data" / f"stop-test-{uuid.uuid4().hex[:8]}"
    env.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        _start_and_stop(tmp_path, capsys)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _start_and_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.db import embedded_postgres_pid, start_embedded_postgres

    assert cli.main(["db", "status"]) == 0
    assert "stopped" in capsys.readouterr().out
    assert cli.main(["db", "stop"]) == 0
    assert "was not running" in capsys.readouterr().out
    announced: list[str] = []
    start_embedded_postgres(tmp_path, announce=announced.append)
    assert announced and announced[0].startswith("Starting the embedded PostgreSQL")
    assert embedded_postgres_pid(tmp_path) is not None
    assert cli.main(["db", "stop"]) == 0
    assert "Stopped the embedded PostgreSQL" in capsys.readouterr().out
    assert embedded_postgres_pid(tmp_path) is None


def test_readme_lists_every_setting_and_every_demo_user_by_name() -> None:
    from app.demo.people import DEMO_SYSTEMS, DEMO_USERS

    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration"):readme.index("## Layout")]
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in table]
    assert not missing, f"settings missing from the README's configuration table: {missing}"
    demo = readme[readme.index("## Demo users"):readme.index("## Commands")]
    for person in (*DEMO_USERS, *DEMO_SYSTEMS):
        row = next((line for line in demo.splitlines() if line.startswith(f"| `{person.key}` |")), "")
        assert person.name in row, f"{person.key}: {person.name} not in its README row"


def _production_env(database_url: str) -> dict[str, str]:
    from tests.test_settings import SECRETS

    return {"ENVIRONMENT": "production", "DEV_IDP_ENABLED": "false", "LOAD_DEMO_DATA": "false",
            "DATABASE_URL": database_url, "BSN_ENCRYPTION_KEY": SECRETS["bsn_encryption_key"],
            "BSN_HASH_KEY": SECRETS["bsn_hash_key"], "SESSION_SECRET": SECRETS["session_secret"],
            "AUDIT_CHAIN_KEY": SECRETS["audit_chain_key"], "AUDIT_CHECKPOINT_DIR": "/tmp/checkpoints-unused"}


def test_production_serve_refuses_an_unreachable_or_unmigrated_database(database_urls) -> None:
    """One line each, before uvicorn starts any worker."""
    import asyncio

    import asyncpg

    unreachable = _run("serve", **_production_env("postgresql://app:pw@127.0.0.1:1/casusoverleg"))
    assert unreachable.returncode != 0 and "cannot reach PostgreSQL" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    # A database nobody migrated yet.
    base, _, query = database_urls.owner.partition("?")
    head = base.rpartition("/")[0]
    name = f"empty_{uuid.uuid4().hex[:8]}"
    admin = f"{head}/postgres?{query}".replace("postgresql+asyncpg://", "postgresql://")

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        empty = _run("serve", **_production_env(f"{head}/{name}?{query}"))
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    assert empty.returncode != 0, empty.stderr
    assert "run `casusoverleg migrate`" in empty.stderr and "Traceback" not in empty.stderr


async def test_a_demo_token_for_another_port_gets_a_hint_not_a_bare_401(database_urls, tmp_path: Path) -> None:
    import httpx

    from app.auth.dev_idp import DevKeyStore, issuer_url, mint_token
    from app.main import create_app
    from tests.conftest import make_settings

    settings = make_settings(database_urls, tmp_path, dev_idp_enabled=True, public_base_url="http://127.0.0.1:8765")
    store = DevKeyStore(tmp_path / "dev-idp" / "keys.json")
    token = mint_token(store, slug="gemeente", issuer=issuer_url("http://127.0.0.1:9999", "gemeente"),
                       subject="voorzitter", name="Anouk de Vries")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            answer = await c.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert "token --base-url http://127.0.0.1:8765" in answer.json()["detail"]


async def test_a_second_migrate_says_it_waits_for_the_first_then_finds_nothing_to_do(database_urls) -> None:
    import asyncio

    import asyncpg

    from app.migrations import PROBE_LOCK_SQL, RELEASE_PROBE_SQL

    holder = await asyncpg.connect(database_urls.owner.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await holder.fetchval(PROBE_LOCK_SQL)  # plays a migration that is running
        env = {k: v for k, v in os.environ.items() if k not in ("ENVIRONMENT",)}
        env.update(DATABASE_URL=database_urls.owner, MIGRATION_DATABASE_URL=database_urls.owner)
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "migrate", cwd=PROJECT_ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert second.stdout is not None
        lines = []
        while not any("another migration is running" in line for line in lines):
            line = (await asyncio.wait_for(second.stdout.readline(), timeout=120)).decode()
            assert line, "migrate ended without saying it waits"
            lines.append(line)
        await holder.fetchval(RELEASE_PROBE_SQL)
        out, err = await asyncio.wait_for(second.communicate(), timeout=120)
    finally:
        await holder.close()
    assert second.returncode == 0, err.decode()
    assert "already at the newest migration" in out.decode()
