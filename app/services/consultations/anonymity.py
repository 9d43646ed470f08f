"""A consultation is anonymous: no client, no BSN, no name. Every structured field is checked
before anything is written, and identifying content is refused with 422 naming the field, never
echoing the value (it may be exactly what must not be stored).

What counts as identifying (each rule errs on the side of refusing: the asker can rephrase):
- a BSN: nine digits (spaces, dots or dashes between them allowed) that pass the 11-test;
- a date of birth: a full date after "geboren"/"geb."/"geboortedatum", or any full date more
  than ten years ago (an appointment next week is fine; 12-03-1985 is not);
- a name: a title with a capitalised word ("mevrouw Jansen", "dhr. Bakker"); a capitalised word,
  a tussenvoegsel and a capitalised word ("Anouk de Vries", "Jan van Dijk"; at the start of a
  sentence only after a common first name); two capitalised
  words inside a sentence ("... cliënt Kees Jansen drinkt ..."), unless they are among the
  institutions' and places' words below; a common first name followed by a capitalised word;
  in a short list item (a substance), any two capitalised words;
- contact details: an e-mail address, a Dutch phone number, a postcode.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from app.clock import clock
from app.errors import UnprocessableEntity
from app.services.cases.clients import bsn_is_valid

_BSN = re.compile(r"(?<![\d])\d(?:[ .\-]?\d){7,8}(?![\d])")
_MONTHS = ("januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
           "jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec")
_DATE_DMY = re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b")
_DATE_YMD = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DATE_WORDS = re.compile(rf"\b(\d{{1,2}})\s+({_MONTHS})\.?\s+(\d{{4}})\b", re.IGNORECASE)
_BORN = re.compile(r"\b(geboren|geb\.|geboortedatum|geboortejaar)\s*:?\s*(op\s+)?\d", re.IGNORECASE)
_WORD = r"[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?"
_TITLE = re.compile(rf"\b(meneer|mevrouw|mevr\.?|mw\.?|dhr\.?|de heer|juffrouw|mr\.|dr\.|ds\.)\s+{_WORD}",
                    re.IGNORECASE)
_TUSSENVOEGSEL = re.compile(
    rf"\b({_WORD})\s+(?:van der|van den|van de|van 't|in 't|op de|van|de|der|den|ter|ten|te|el|al|le|la|'t)\s+"
    rf"({_WORD})"
)
_PAIR = re.compile(rf"(?<=[a-zà-ÿ,;:)]\s)({_WORD})\s+({_WORD})")
_PAIR_ANYWHERE = re.compile(rf"\b({_WORD})\s+({_WORD})\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"(?<!\d)(?:\+31|0031|0)[ \-]?(?:6|[1-9]\d{1,2})[ \-]?\d(?:[ \-]?\d){5,7}(?!\d)")
_POSTCODE = re.compile(r"\b[1-9]\d{3}\s?(?!SA|SD|SS)[A-Z]{2}\b")

# Capitalised words that are not names: organisations, places and programmes the field talks about.
NOT_NAMES = frozenset({
    "Gemeente", "Politie", "Verslavingszorg", "Wijkteam", "Sociaal", "Sociale", "Zuid", "Noord", "Oost", "West",
    "Centrum", "Zuiderstad", "Jellinek", "Tactus", "Novadic", "Kentron", "Brijder", "Victas", "Mondriaan",
    "Moti", "Wiet", "Check", "Veilig", "Thuis", "Zorg", "Veiligheidshuis", "Reclassering", "Nederland",
    "Huisarts", "Huisartsenpraktijk", "Praktijk", "Ggz", "Ggd", "Uwv", "Werk", "Inkomen", "Schuldhulp",
    "Schuldhulpverlening", "Leger", "Heils", "Kerst", "Pasen", "Ramadan", "Amsterdam", "Rotterdam", "Utrecht",
    "Den", "Haag", "Eindhoven", "Tilburg", "Breda", "Nijmegen", "Arnhem", "Groningen", "Zwolle", "Maastricht",
    "Housing", "First", "Beschermd", "Wonen", "Maatschappelijke", "Opvang", "Crisisdienst", "Spoedeisende",
    "Hulp", "Anonieme", "Alcoholisten", "Narcotics", "Anonymous", "Samen", "Sterk", "Ervaringsdeskundige",
})

# Common Dutch first names: a name at the start of a sentence ("Jan Jansen drinkt ...") is only
# recognised when it begins with one of these.
FIRST_NAMES = frozenset("""
Jan Piet Kees Henk Gerrit Johan Willem Hans Peter Paul Mark Marco Martin Michel Erik Frank Rob Ruud
Bas Tom Tim Daan Sem Lucas Levi Finn Milan Noah Luuk Jesse Thijs Lars Ruben Stefan Sander Jeroen Dennis
Patrick Richard Robert Ronald Ahmed Mohamed Mohammed Youssef Mustafa Ali Omar Hassan Karim Anouk Anna
Emma Julia Sophie Lisa Sanne Eva Fleur Lotte Iris Femke Marieke Linda Monique Ingrid Petra Sandra Wendy
Maria Marja Els Ria Truus Joke Annie Karin Ellen Esther Fatima Samira Yasmina Nadia Aisha Chantal Bram
Gina Hanna Ivo Jasmijn Milan Kim Jesper Bart Koen Wouter Joost Niels Rik Gijs Sven Ilse Naomi Nina Noa
""".split())


def _is_identifying_date(day: int, month: int, year: int) -> bool:
    try:
        when = date(year, month, day)
    except ValueError:
        return False
    return when.year < clock.today().year - 10


def _month_number(word: str) -> int:
    names = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
    key = word.lower()[:3].replace("maa", "mrt").replace("oct", "okt")
    return names.index(key) + 1 if key in names else 1


def what_identifies(text: str, *, short: bool = False) -> str | None:
    """What in `text` looks identifying ("a BSN", "a name", ...), or None."""
    for match in _BSN.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if bsn_is_valid(digits.zfill(9)):
            return "a BSN"
    if _BORN.search(text):
        return "a date of birth"
    for d, m, y in _DATE_DMY.findall(text):
        if _is_identifying_date(int(d), int(m), int(y)):
            return "a date of birth"
    for y, m, d in _DATE_YMD.findall(text):
        if _is_identifying_date(int(d), int(m), int(y)):
            return "a date of birth"
    for d, month, y in _DATE_WORDS.findall(text):
        if _is_identifying_date(int(d), _month_number(month), int(y)):
            return "a date of birth"
    if _EMAIL.search(text) or _PHONE.search(text) or _POSTCODE.search(text):
        return "contact details"
    if _TITLE.search(text):
        return "a name"
    for match in _TUSSENVOEGSEL.finditer(text):
        first, last = match.group(1), match.group(2)
        at_start = not text[:match.start()].strip() or text[:match.start()].rstrip()[-1] in ".!?:"
        if last not in NOT_NAMES and first not in NOT_NAMES and (first in FIRST_NAMES or not at_start):
            return "a name"
    pairs = _PAIR_ANYWHERE if short else _PAIR
    for first, last in pairs.findall(text):
        if first not in NOT_NAMES and last not in NOT_NAMES:
            return "a name"
    for first, last in _PAIR_ANYWHERE.findall(text):
        if first in FIRST_NAMES and last not in NOT_NAMES:
            return "a name"
    return None


def refuse_identifying(fields: Iterable[tuple[str, str | list[str]]]) -> None:
    """422 naming the first field that holds something identifying; the value is never echoed."""
    for name, value in fields:
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            found = what_identifies(item, short=isinstance(value, list))
            if found:
                pointer = f"#/{name}/{index}" if isinstance(value, list) else f"#/{name}"
                raise UnprocessableEntity(
                    f"The field '{name}' seems to hold {found}. A consultation is anonymous: leave out "
                    "names, BSNs, dates of birth and contact details, and describe the situation instead.",
                    pointer=pointer,
                )
