"""Printable Dutch HTML and PDF of an agreement: the signed text, every party, every commitment,
the signatures and the text's hash. Both are made from the stored text, never from the template."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2
from fpdf import FPDF
from markdown_it import MarkdownIt

from app.clock import clock
from app.models import Agreement, AgreementSignature
from app.models.enums import AgreementStatus
from app.services.agreements.lifecycle import effective_status
from app.services.agreements.templates import CLIENT, KIND_NAMES_NL, dutch_date

STATUS_NL = {
    AgreementStatus.draft: "concept (nog niet door iedereen getekend)",
    AgreementStatus.signed: "getekend, nog niet ingegaan",
    AgreementStatus.active: "geldig",
    AgreementStatus.expired: "verlopen",
    AgreementStatus.withdrawn: "ingetrokken",
    AgreementStatus.superseded: "vervangen door een nieuwe overeenkomst",
}

# Raw HTML in the text or in a commitment is shown as text, never as markup.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


@dataclass(frozen=True)
class PartyLine:
    role: str
    name: str
    commitment_label: str
    commitment: str


@dataclass(frozen=True)
class SignatureLine:
    role: str
    signed_on: date
    by: str


@dataclass(frozen=True)
class Printable:
    title: str
    template: str
    status: str
    starts_on: str
    ends_on: str
    text: str
    text_hash: str
    parties: list[PartyLine]
    signatures: list[SignatureLine]
    printed_on: str
    plain_language: bool = False  # the client needs reading support: larger type (issue 21)


def party_role(party: str) -> str:
    return "de cliënt" if party == CLIENT else KIND_NAMES_NL.get(party, party)


def printable(
    agreement: Agreement,
    *,
    client_name: str,
    signatures: list[AgreementSignature],
    names: dict[uuid.UUID, str],
    plain_language: bool = False,
) -> Printable:
    parties = []
    for party, info in agreement.parties.items():
        name = client_name if party == CLIENT else str(info.get("name", party))
        parties.append(PartyLine(party_role(party), name, str(info.get("commitment_label", "Afspraken")),
                                 agreement.commitments.get(party, "")))
    lines = []
    for s in signatures:
        if s.party == CLIENT:
            by = f"getekend in bijzijn van {names.get(s.attested_by_id, 'onbekend') if s.attested_by_id else 'onbekend'}"
            if not s.signed_in_person:
                by = f"getekend op papier, vastgelegd door {names.get(s.attested_by_id, 'onbekend') if s.attested_by_id else 'onbekend'}"
        else:
            by = f"getekend door {names.get(s.signer_id, 'onbekend') if s.signer_id else 'onbekend'} (met mandaat)"
        lines.append(SignatureLine(party_role(s.party), s.signed_on, by))
    return Printable(
        title=agreement.title,
        template=f"{agreement.template_id} versie {agreement.template_version}",
        status=STATUS_NL[effective_status(agreement)],
        starts_on=dutch_date(agreement.starts_on),
        ends_on=dutch_date(agreement.ends_on),
        text=agreement.rendered_text,
        text_hash=agreement.text_hash,
        parties=parties,
        signatures=lines,
        printed_on=dutch_date(clock.today()),
        plain_language=plain_language,
    )


# The web's templates folder, for the print pages' shared phone styles (exports/_phone_tables.css).
_TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
_HTML = jinja2.Environment(autoescape=True, loader=jinja2.FileSystemLoader(_TEMPLATES)).from_string(
    """<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>{{ p.title }}</title>
<style>
  body { font-family: Arial, Helvetica, sans-serif; max-width: 42em; margin: 2em auto; line-height: 1.5; }
  table { border-collapse: collapse; width: 100%; margin: 1em 0; }
  th, td { border: 1px solid #999; padding: .4em; text-align: left; vertical-align: top; }
  .meta { color: #444; font-size: .9em; }
  body.plain { font-size: 1.25em; line-height: 1.7; }
  @media print { body { margin: 0; } }
{% include "exports/_phone_tables.css" %}
</style>
</head>
<body{% if p.plain_language %} class="plain"{% endif %}>
<p class="meta">{{ p.template }} &middot; status: {{ p.status }} &middot; geldig van {{ p.starts_on }}
tot en met {{ p.ends_on }}</p>
<article>{{ body }}</article>
<h2>Partijen en afspraken</h2>
<table>
<thead><tr><th>Partij</th><th>Naam</th><th>Afspraak</th></tr></thead>
<tbody>
{% for party in p.parties %}<tr><td data-label="Partij">{{ party.role }}</td><td data-label="Naam">{{ party.name }}</td>
<td data-label="Afspraak"><strong>{{ party.commitment_label }}</strong><br>{{ party.commitment }}</td></tr>
{% endfor %}</tbody>
</table>
<h2>Handtekeningen</h2>
{% if p.signatures %}<table>
<thead><tr><th>Partij</th><th>Datum</th><th>Hoe</th></tr></thead>
<tbody>
{% for s in p.signatures %}<tr><td data-label="Partij">{{ s.role }}</td><td data-label="Datum">{{ s.signed_on.isoformat() }}</td><td data-label="Hoe">{{ s.by }}</td></tr>
{% endfor %}</tbody>
</table>{% else %}<p>Nog niemand heeft getekend.</p>{% endif %}
<p class="meta">Controlecode van de tekst (SHA-256): {{ p.text_hash }}<br>Afgedrukt op {{ p.printed_on }}.</p>
</body>
</html>
"""
)


def text_html(text: str, *, heading_offset: int = 0) -> jinja2.utils.markupsafe.Markup:
    """The stored agreement text as HTML; a page that shows it under its own headings moves the
    text's headings down by `heading_offset` levels (its title becomes an h3 under an h2)."""
    tokens = _MARKDOWN.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + heading_offset)}"
    html = _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})
    return jinja2.utils.markupsafe.Markup(html)  # safe: html disabled above


def render_html(p: Printable) -> str:
    return _HTML.render(p=p, body=text_html(p.text))


_REPLACEMENTS = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                 "\u2026": "...", "\u00a0": " ", "\u20ac": "EUR"}


def latin1(text: str) -> str:
    """The PDF's core fonts cover Latin-1 (enough for Dutch: ë, é, ï); anything else is
    transliterated, or replaced by '?'."""
    out = []
    for ch in text:
        ch = _REPLACEMENTS.get(ch, ch)
        if len(ch) == 1 and ord(ch) > 255:
            ch = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1") or "?"
        out.append(ch)
    return "".join(out)


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def render_pdf(p: Printable, *, compress: bool = True) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_title(latin1(p.title))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    larger = 3 if p.plain_language else 0  # reading support: larger type throughout

    def para(text: str, *, size: int = 11, style: str = "", gap: float = 2) -> None:
        size += larger
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.multi_cell(width, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    para(f"{p.template} - status: {p.status} - geldig van {p.starts_on} tot en met {p.ends_on}", size=9)
    block: list[str] = []

    def flush() -> None:
        if block:
            para(" ".join(block))
            block.clear()

    for raw in p.text.splitlines():
        line = _BOLD.sub(r"\1", raw.rstrip())
        if not line.strip():
            flush()
        elif line.startswith("## "):
            flush()
            para(line[3:], size=13, style="B")
        elif line.startswith("# "):
            flush()
            para(line[2:], size=16, style="B", gap=4)
        elif line.lstrip().startswith(("- ", "* ")):
            flush()
            para("- " + line.lstrip()[2:], gap=1)
        else:
            block.append(line.strip())
    flush()

    para("Partijen en afspraken", size=13, style="B")
    for party in p.parties:
        para(f"{party.role}: {party.name}", style="B", gap=0)
        para(f"{party.commitment_label}: {party.commitment}")
    para("Handtekeningen", size=13, style="B")
    if not p.signatures:
        para("Nog niemand heeft getekend.")
    for s in p.signatures:
        para(f"{s.role}: {s.signed_on.isoformat()}, {s.by}", gap=1)
    para(f"Controlecode van de tekst (SHA-256): {p.text_hash}", size=8)
    para(f"Afgedrukt op {p.printed_on}.", size=8)
    return bytes(pdf.output())
