"""The web client's words: one Dutch word per thing (docs/glossary.md, the mappings of
app/services/words.py), counts with their noun in the right number, "uiterlijk" for due dates,
inloggen/uitloggen for signing in and out, and the same phase names on screen, in print and PDF."""

from __future__ import annotations

import re

from app.config import PROJECT_ROOT
from app.events.cloudevents import FLAG_REASONS as STORED_FLAG_REASONS
from app.events.cloudevents import EventType
from app.models.enums import ActionStatus, ClosureReason, Label, Phase, ReferralStatus
from app.services import words
from app.services.privacy import exports
from app.web import TEMPLATE_DIR, render
from app.web.render import aantal

GLOSSARY = PROJECT_ROOT / "docs" / "glossary.md"
TEMPLATES = sorted(TEMPLATE_DIR.rglob("*.html"))


def glossary_tables() -> dict[str, dict[str, str]]:
    """Each '## heading' of the glossary with its table's rows (first column -> second)."""
    tables: dict[str, dict[str, str]] = {}
    heading = ""
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[0] not in ("code", "English"):
                tables.setdefault(heading, {})[cells[0]] = cells[1]
    return tables


def test_a_count_takes_its_noun_in_the_right_number() -> None:
    assert aantal(0, "actie", "acties") == "0 acties"
    assert aantal(1, "actie", "acties") == "1 actie"
    assert aantal(2, "minuut", "minuten") == "2 minuten"


def test_the_templates_say_uiterlijk_and_never_a_plural_in_brackets() -> None:
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        assert "Deadline" not in text and "deadline bovenaan" not in text, template.name
        assert "(s)" not in text and "(en) " not in text, template.name


def test_signing_in_is_inloggen_and_aanmelding_is_a_referral() -> None:
    """'aanmelden'/'afmelden' read as referring someone: signing in and out is inloggen/uitloggen."""
    sign_in_words = re.compile(r"\b(afmelden|afgemeld|aanmelden mislukt|aanmeldverzoek|aanmeldvoorziening|"
                               r"uw aanmelding kon niet|opnieuw aanmelden)\b", re.IGNORECASE)
    sources = [*TEMPLATES, *sorted((PROJECT_ROOT / "app" / "routers").glob("web*.py")),
               *sorted((PROJECT_ROOT / "app" / "web").glob("*.py"))]
    found = [f"{p.name}: {m.group(0)}" for p in sources for m in sign_in_words.finditer(p.read_text(encoding="utf-8"))]
    assert found == []
    assert "Uitloggen" in (TEMPLATE_DIR / "base.html").read_text(encoding="utf-8")
    title, _text = render.error_text(401)
    assert "Inloggen" in title


def test_the_words_come_from_the_glossary() -> None:
    tables = glossary_tables()
    assert tables["Fasen (phases of a case)"] == {str(k): v for k, v in words.PHASES.items()}
    assert set(tables["Fasen (phases of a case)"]) == {p.value for p in Phase}
    assert tables["Redenen van afsluiten (closure reasons)"] == {str(k): v for k, v in words.CLOSURE_REASONS.items()}
    assert set(words.CLOSURE_REASONS) == {r.value for r in ClosureReason}
    assert tables["Status van een actie"] == {str(k): v for k, v in words.ACTION_STATUS.items()}
    assert set(words.ACTION_STATUS) == {s.value for s in ActionStatus}
    assert tables["Status van een aanmelding"] == {str(k): v for k, v in words.REFERRAL_STATUS.items()}
    assert set(words.REFERRAL_STATUS) == {s.value for s in ReferralStatus}
    assert tables["Prioriteit"] == {str(k): v for k, v in words.PRIORITY.items()}
    assert tables["Leefgebieden (ZRM)"] == words.LIFE_DOMAINS
    assert tables["Redenen van een signaal (flag reasons)"] == {str(k): v for k, v in words.FLAG_REASONS.items()}
    assert set(words.FLAG_REASONS) == set(STORED_FLAG_REASONS)  # every stored (English) reason has its Dutch
    assert tables["Meldingen (notifications)"] == words.NOTIFICATIONS
    assert tables["Signalen op de tijdlijn (event types)"] == {str(k): v for k, v in words.EVENT_TYPES.items()}
    assert set(words.EVENT_TYPES) == {t.value for t in EventType}
    assert tables["Soorten informatie (labels)"] == {str(k): v for k, v in words.LABELS.items()}
    assert set(words.LABELS) == {label.value for label in Label}


def test_one_set_of_phase_names_on_screen_in_print_and_pdf() -> None:
    assert render.PHASES is words.PHASES  # the pages
    for phase in Phase:
        assert exports.PHASES_NL[phase] == words.PHASES[phase]  # the printed agenda and decisions, and their PDF
    for template in TEMPLATES:  # no template spells a phase name of its own
        text = template.read_text(encoding="utf-8")
        for stale in ("Actief (plan van aanpak)", "plan in uitvoering", "Monitoring en nazorg", "beëindigd"):
            assert stale not in text, f"{template.name}: {stale}"


def test_every_notification_kind_written_has_a_dutch_name() -> None:
    app_dir = PROJECT_ROOT / "app"
    written: set[str] = set()
    for path in app_dir.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'Notification\(\s*kind="([a-z_]+)"', text))
        written |= set(re.findall(r'"kind": "([a-z_]+)"', text)) & {"case_flagged"}
        written |= set(re.findall(r"'(action_overdue|action_due_soon|mandate_expiring|agreement_expiring)'", text))
        written |= set(re.findall(r'_notify_admins\(session, org, "([a-z_]+)"', text))
    assert written, "the check finds the notification kinds"
    assert written <= set(words.NOTIFICATIONS), written - set(words.NOTIFICATIONS)
