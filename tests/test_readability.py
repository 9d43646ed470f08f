"""Issue 21, acceptance 1: the readability check runs over every agreement template (every version
in use must be B1: Flesch-Douma >= 60 and none of the words to avoid) and fails on a
deliberately hard sentence; a template with that sentence is refused when the service loads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.services.agreements.readability import (
    B1_MINIMUM,
    measure,
    syllables,
    template_text,
    words_to_avoid,
)
from app.services.agreements.templates import TemplateError, load_templates

AGREEMENTS = PROJECT_ROOT / "agreements"

HARD = (
    "Derhalve dienen te allen tijde de betrokken organisaties, conform de geldende wettelijke "
    "bepalingen inzake de verwerking van persoonsgegevens, middels een gezamenlijke registratie "
    "zorg te dragen voor een zorgvuldige informatievoorziening ten behoeve van de cliënt."
)


def test_every_latest_template_is_b1() -> None:
    registry = load_templates(AGREEMENTS)
    scores = {f"{t.header.id} v{t.header.version}": measure(template_text(t.body)) for t in registry.all()}
    report = "; ".join(f"{k}: Flesch-Douma {r.score} ({r.words} words, {r.sentences} sentences)"
                       + (f", avoid {', '.join(r.avoided)}" if r.avoided else "") for k, r in scores.items())
    latest = {t.header.id: registry.get(t.header.id) for t in registry.all()}
    assert len(latest) >= 2, report
    failing = [f"{t.header.id} v{t.header.version}" for t in latest.values()
               if t is not None and not measure(template_text(t.body)).passes()]
    assert not failing, f"not B1 (minimum {B1_MINIMUM}): {failing}. Scores: {report}"


def test_every_version_in_use_is_b1() -> None:
    registry = load_templates(AGREEMENTS)
    versions = registry.all()
    assert {t.key for t in versions} >= {("driepartijen", 3), ("nazorg", 3)}
    for template in versions:
        result = measure(template_text(template.body))
        assert result.passes(), f"{template.key}: {result}"


def test_a_template_with_a_hard_sentence_is_refused_at_load(tmp_path: Path) -> None:
    good = (AGREEMENTS / "nazorg" / "v3.md").read_text(encoding="utf-8")
    # Ten times the hard sentence pulls the whole text below B1, and it uses formal words.
    hard = good.replace("## Terug naar de zorg\n", "## Terug naar de zorg\n\n" + " ".join([HARD] * 10) + "\n")
    assert hard != good
    path = tmp_path / "nazorg" / "v3.md"
    path.parent.mkdir()
    path.write_text(hard, encoding="utf-8")
    with pytest.raises(TemplateError) as raised:
        load_templates(tmp_path)
    message = str(raised.value)
    assert str(path) in message and "not at B1 level" in message and "derhalve" in message


def test_a_hard_sentence_fails() -> None:
    result = measure(HARD)
    assert result.score < B1_MINIMUM, result
    assert set(result.avoided) >= {"derhalve", "dienen te", "conform", "inzake", "middels", "ten behoeve van"}
    assert not result.passes()


def test_a_plain_sentence_passes() -> None:
    result = measure("U krijgt hulp. Wij praten samen over hoe het gaat. U mag altijd stoppen.")
    assert result.passes(), result


def test_long_sentences_alone_fail() -> None:
    # No word to avoid, short words, but one very long sentence: the sentence length term fails it.
    long = " ".join(["wij gaan met u en het team naar het huis"] * 12) + "."
    assert measure(long).avoided == ()
    assert not measure(long).passes()


def test_syllables_are_vowel_groups() -> None:
    assert syllables("huis") == 1
    assert syllables("verslavingszorg") == 4
    assert syllables("overeenkomst") == 4
    assert syllables("cliënt") == 2
    assert syllables("x") == 1


def test_template_text_drops_placeholders_and_markup() -> None:
    text = template_text("# Kop\n\n- **{{ client_name }}** (de cliënt)\n{% for x in y %}{{ x }}{% endfor %}\n")
    assert "{" not in text and "*" not in text and "#" not in text
    assert "de cliënt" in text
    assert words_to_avoid("Dit is conform de afspraak.") == ("conform",)
    assert words_to_avoid("Het conformisme") == ()
