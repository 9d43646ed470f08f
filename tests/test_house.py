"""The house rules that a reader relies on: a domain state is spelled once (app/models/enums.py),
and every other module names it through its enum or a predicate of app/models/predicates.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from app.models.enums import (
    ActionStatus,
    AgendaStatus,
    AgreementStatus,
    IdentityChangeStatus,
    MeetingStatus,
    Phase,
    ReferralStatus,
)

APP = Path(__file__).resolve().parents[1] / "app"
ENUMS = (Phase, ActionStatus, ReferralStatus, MeetingStatus, AgendaStatus, AgreementStatus, IdentityChangeStatus)
STATES = {m.value for enum in ENUMS for m in enum}
SPELLED_HERE = {APP / "models" / "enums.py"}
# The names under which rows, schemas and SQL hold a state.
STATE_NAMES = {"status", "phase", "agenda_status", "phase_from", "phase_to"}
SQL_STATE = re.compile(r"\b({})\s*(=|<>|!=|IN\s*\()\s*'({})'".format("|".join(STATE_NAMES), "|".join(sorted(STATES))),
                       re.IGNORECASE)


def _states_in(node: ast.AST | None) -> bool:
    """A state's value, or a tuple/list/set/Literal of them."""
    if isinstance(node, ast.Constant):
        return node.value in STATES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_states_in(e) for e in node.elts)
    if isinstance(node, ast.Subscript):  # Literal["draft", ...]
        return _states_in(node.slice)
    return False


def _names_state(node: ast.AST | None) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    if isinstance(node, ast.Call):  # col(Meeting.status)
        return any(_names_state(a) for a in node.args)
    return name in STATE_NAMES


def _spelled(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        return any(_names_state(s) for s in sides) and any(_states_in(s) for s in sides)
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value_or_type = [node.value] + ([node.annotation] if isinstance(node, ast.AnnAssign) else [])
        return any(_names_state(t) for t in targets) and any(_states_in(v) for v in value_or_type)
    if isinstance(node, ast.keyword):
        return node.arg in STATE_NAMES and _states_in(node.value)
    if isinstance(node, ast.Dict):
        return any(isinstance(k, ast.Constant) and k.value in STATE_NAMES and _states_in(v)
                   for k, v in zip(node.keys, node.values, strict=True))
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(SQL_STATE.search(node.value))
    return False


def state_literals() -> list[str]:
    """Where a state (of the enums above) is compared, assigned, passed or queried as a string."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        if path in SPELLED_HERE:
            continue
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if _spelled(node):
                line = getattr(node, "lineno", 0)
                found.append(f"app/{path.relative_to(APP).as_posix()}:{line}: {lines[line - 1].strip()[:90]}")
    return sorted(set(found))


def test_the_check_sees_a_state_spelled_as_a_string() -> None:
    for spelled in ('meeting.status == "held"', 'col(Case.phase) != "closed"', 'case.phase = "closed"',
                    'bump(meeting, agenda_status="published")', 'x = {"status": "draft"}',
                    "sa.text(\"SELECT 1 FROM action a WHERE a.status IN ('open', 'done')\")",
                    'status: Literal["scheduled", "held"]'):
        assert any(_spelled(n) for n in ast.walk(ast.parse(spelled))), spelled
    for word in ('part="published"', 'FIELDS = ("name", "active")', 'snooze.ended_reason = "expired"'):
        assert not any(_spelled(n) for n in ast.walk(ast.parse(word))), word


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


def test_the_readme_layout_names_every_part_of_app() -> None:
    readme = (APP.parent / "README.md").read_text()
    layout = readme[readme.index("## Layout"):readme.index("## Design notes")]
    parts = [p.name for p in APP.iterdir() if p.name != "__pycache__" and not p.name.startswith("__")
             and (p.is_dir() or p.suffix == ".py")]
    parts += [p.name for p in (APP / "services").iterdir() if p.is_dir() and p.name != "__pycache__"]
    missing = [name for name in parts if name.removesuffix(".py") not in layout]
    assert missing == [], f"README's layout does not mention {missing}"
