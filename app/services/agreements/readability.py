"""How easy a Dutch text is to read: the Flesch-Douma score and a list of words to avoid at B1.

Pure functions, no I/O. Flesch-Douma (Douma 1960, the Dutch adaptation of Flesch's Reading Ease):

    206.84 - 0.77 * (syllables per 100 words) - 0.93 * (average words per sentence)

Syllables are counted as groups of vowels (a, e, i, o, u, y and their accented forms), which is
close enough for Dutch ("ui", "eeu", "oe" count once). Scores of 60 and above count as "fairly
easy" (redelijk makkelijk) in the literature, the level meant by B1 language; below 50 is hard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Flesch-Douma >= 60: "fairly easy", the band that corresponds to B1 plain language.
B1_MINIMUM = 60.0

# Formal words and phrases that B1 guides (Stichting Makkelijk Lezen, Direct Duidelijk) advise
# against, each with a plainer alternative.
AVOID_AT_B1: dict[str, str] = {
    "conform": "volgens",
    "inzake": "over",
    "middels": "met",
    "derhalve": "daarom",
    "dienen te": "moeten",
    "ten behoeve van": "voor",
    "teneinde": "om",
    "indien": "als",
    "alsmede": "en",
    "desalniettemin": "toch",
    "onverminderd": "maar",
    "ingevolge": "volgens",
    "reeds": "al",
    "thans": "nu",
    "hetgeen": "wat",
    "zulks": "dat",
    "omtrent": "over",
    "aangaande": "over",
    "dientengevolge": "daardoor",
}

_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+(?:['’-][A-Za-zÀ-ÖØ-öø-ÿ]+)*")
_VOWEL_GROUP = re.compile(r"[aeiouyàáâäèéêëìíîïòóôöùúûü]+", re.IGNORECASE)
_DIAERESIS = re.compile(r"([äëïöüÄËÏÖÜ])")
_SENTENCE_END = re.compile(r"[.!?:;]+(?=\s|$)|\n\s*\n")


@dataclass(frozen=True)
class Readability:
    words: int
    sentences: int
    syllables: int
    score: float
    avoided: tuple[str, ...]  # words to avoid at B1 that the text uses

    def passes(self, minimum: float = B1_MINIMUM) -> bool:
        return self.score >= minimum and not self.avoided


def syllables(word: str) -> int:
    """Dutch syllables of a word, counted as vowel groups (at least one)."""
    # A diaeresis starts a new syllable: "cliënt" is cli-ënt.
    return max(1, len(_VOWEL_GROUP.findall(_DIAERESIS.sub(r"-\1", word))))


def words_to_avoid(text: str) -> tuple[str, ...]:
    lowered = text.lower()
    return tuple(w for w in AVOID_AT_B1 if re.search(rf"\b{re.escape(w)}\b", lowered))


def measure(text: str) -> Readability:
    """The Flesch-Douma score of a Dutch text and the words to avoid it uses."""
    words = _WORD.findall(text)
    sentences = [s for s in _SENTENCE_END.split(text) if _WORD.search(s)]
    n_words = len(words)
    n_sentences = max(1, len(sentences))
    n_syllables = sum(syllables(w) for w in words)
    if n_words == 0:
        return Readability(0, 0, 0, 0.0, ())
    score = 206.84 - 0.77 * (100 * n_syllables / n_words) - 0.93 * (n_words / n_sentences)
    return Readability(n_words, n_sentences, n_syllables, round(score, 1), words_to_avoid(text))


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_MARKUP = re.compile(r"^\s*(?:#+|[-*+]|\d+\.)\s+|\*\*|__|`", re.MULTILINE)


def template_text(body: str) -> str:
    """The Dutch prose of a template body: placeholders and Markdown markup left out."""
    return _MARKUP.sub("", _JINJA.sub("", body))
