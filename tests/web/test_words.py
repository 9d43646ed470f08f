"""The web client's words: counts with their noun in the right number, "uiterlijk" for due dates."""

from __future__ import annotations

from app.web import TEMPLATE_DIR
from app.web.render import aantal


def test_a_count_takes_its_noun_in_the_right_number() -> None:
    assert aantal(0, "actie", "acties") == "0 acties"
    assert aantal(1, "actie", "acties") == "1 actie"
    assert aantal(2, "minuut", "minuten") == "2 minuten"


def test_the_templates_say_uiterlijk_and_never_a_plural_in_brackets() -> None:
    for template in TEMPLATE_DIR.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "Deadline" not in text and "deadline bovenaan" not in text, template.name
        assert "(s)" not in text and "(en) " not in text, template.name
