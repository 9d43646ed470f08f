"""The house rules that a reader relies on: a domain state is spelled once (app/models/enums.py),
and every other module names it through its enum or a predicate of app/models/predicates.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from app.models.enums import ActionStatus, AgendaStatus, AgreementStatus, MeetingStatus, Phase, ReferralStatus

APP = Path(__file__).resolve().parents[1] / "app"
STATES = {m.value for enum in (Phase, ActionStatus, ReferralStatus, MeetingStatus, AgendaStatus, AgreementStatus)
          for m in enum}
SPELLED_HERE = {APP / "models" / "enums.py"}
# Keyword arguments that carry a state; any other keyword's value is a word, not a state
# (e.g. the access log's part="published").
STATE_KEYWORDS = {"status", "phase", "agenda_status", "phase_from", "phase_to", "to"}
# Places where a state's word means something else, each with the text that shows it.
NOT_STATES = {
    ("services/agreements/lifecycle.py", '{"signed": {"from": None, "to": signature.party}}'),  # a history key
    ("services/agreements/lifecycle.py", '{"withdrawn": {"from": None, "to": f"'),  # a history key
}
SQL_STATE = re.compile("'({})'".format("|".join(sorted(STATES))))


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _words(tree: ast.AST) -> set[int]:
    """String constants passed to a keyword that is not a state."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.keyword) and node.arg not in STATE_KEYWORDS}


def state_literals() -> list[str]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        if path in SPELLED_HERE:
            continue
        source = path.read_text()
        lines = source.splitlines()
        tree = ast.parse(source)
        skip = _docstrings(tree) | _words(tree)
        relative = path.relative_to(APP).as_posix()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in skip:
                continue
            if node.value in STATES or SQL_STATE.search(node.value):
                line = lines[node.lineno - 1]
                if any(relative == where and text in line for where, text in NOT_STATES):
                    continue
                found.append(f"app/{relative}:{node.lineno}: {line.strip()[:90]}")
    return found


def test_no_domain_state_is_spelled_outside_the_enums() -> None:
    found = state_literals()
    assert found == [], "use the enum (app/models/enums.py) or a predicate (app/models/predicates.py):\n" + (
        "\n".join(found)
    )


def test_no_module_imports_another_modules_private_names() -> None:
    """A leading underscore means "this module's own": routers in particular share nothing
    through private names (what they share lives outside them, e.g. app/web/, app/http/)."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private or any(part.startswith("_") and part != "__init__" for part in node.module.split(".")):
                    found.append(f"{path.relative_to(APP.parent)}:{node.lineno}: from {node.module} import "
                                 f"{', '.join(a.name for a in node.names)}")
    assert found == []
