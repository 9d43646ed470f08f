from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from app.cli_agreements import register


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["agreement-templates", *argv])
    return int(args.handler(args))


def test_lists_the_shipped_templates(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run() == 0
    out = capsys.readouterr().out
    assert "driepartijen v1: Driepartijenovereenkomst" in out and "nazorg v1" in out


def test_names_a_broken_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "kapot").mkdir()
    (tmp_path / "kapot" / "v1.md").write_text("geen header\n", encoding="utf-8")
    assert _run("--dir", str(tmp_path)) == 1
    assert "kapot/v1.md" in capsys.readouterr().err
