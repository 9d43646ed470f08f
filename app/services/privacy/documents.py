"""The subject-access report as a document for the client, in Dutch: printable HTML (Jinja2
template app/web/templates/audit/access_report.html) and PDF (fpdf2)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.schemas.audit import AccessReportOut

_TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")

NL_ACTIONS = {
    "read": "ingezien",
    "list": "in een overzicht getoond",
    "create": "aangemaakt",
    "update": "gewijzigd",
    "delete": "verwijderd",
    "export": "geëxporteerd",
    "print": "afgedrukt",
    "search": "gezocht",
    "execute": "uitgevoerd",
}
NL_RESOURCES = {
    "case": "casus",
    "plan": "plan van aanpak",
    "assessment": "ZRM-meting",
    "action": "actie",
    "referral": "aanmelding",
    "client": "persoonsgegevens",
    "access_log": "inzageoverzicht",
    "note": "notitie",
    "agreement": "driepartijenovereenkomst",
}
NL_ROLES = {
    "chair": "voorzitter",
    "member": "deelnemer",
    "liaison": "contactpersoon",
    "privacy_officer": "functionaris gegevensbescherming",
    "admin": "beheerder",
    "case_director": "casusregisseur",
    "system": "systeem",
}
NL_PARTS = {
    "phase": "fase",
    "history": "wijzigingsgeschiedenis",
    "assessments": "ZRM-metingen",
    "plan": "plan van aanpak",
    "bsn": "BSN",
    "subject_access_report": "inzageoverzicht",
    "anonymise": "anonimisering",
    "export": "export",
    "break_glass": "noodtoegang",
    "query": "zoekvraag in het toegangslog",
}


def nl_basis(basis: str | None) -> str:
    if not basis:
        return "deelname aan het casusoverleg"
    kind, _, ref = basis.partition(":")
    if kind == "agreement":
        return f"uw toestemming (driepartijenovereenkomst {ref[:8]})"
    if kind == "legal_basis":
        return f"wettelijke grondslag ({ref[:8]})"
    if kind == "break_glass":
        return f"noodtoegang (break-glass {ref[:8]})"
    return basis


_env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=select_autoescape(["html"]))
_env.filters.update(
    nl_action=lambda v: NL_ACTIONS.get(v, v),
    nl_resource=lambda v: NL_RESOURCES.get(v, v),
    nl_role=lambda v: NL_ROLES.get(v or "", v or "onbekend"),
    nl_part=lambda v: NL_PARTS.get(v, v),
    nl_basis=nl_basis,
    nl_datetime=lambda v: nl_datetime(v),
)


TITLE = "Wie heeft uw gegevens ingezien of gewijzigd?"
INTRO = (
    "Dit overzicht noemt elke keer dat iemand van een deelnemende organisatie uw gegevens in het "
    "casusoverleg heeft bekeken, gewijzigd, afgedrukt of geëxporteerd (artikel 15 AVG). Bij gedeelde "
    "gezondheids- of justitiegegevens staat de grondslag vermeld: uw toestemming in de "
    "driepartijenovereenkomst, of een wettelijke grondslag."
)


def nl_datetime(value: datetime) -> str:
    return value.astimezone(_AMSTERDAM).strftime("%d-%m-%Y %H:%M:%S")


def render_html(report: AccessReportOut) -> str:
    return _env.get_template("audit/access_report.html").render(
        report=report, intro_plain=INTRO_PLAIN, held_intro_plain=HELD_INTRO_PLAIN
    )


def _latin1(text: str) -> str:
    # The PDF core fonts cover Latin-1 (Dutch included); anything else becomes '?'.
    return text.encode("latin-1", "replace").decode("latin-1")


DOCUMENT_TITLE = "Uw gegevens in het casusoverleg"
HELD_TITLE = "Welke gegevens hebben wij over u?"
# The plain variant for a client who needs plain language or reading support (issue 21): short
# sentences, everyday words; tests/test_plain_language.py holds it to the B1 check.
INTRO_PLAIN = (
    "Hier ziet u wie uw gegevens heeft bekeken of veranderd. U ziet ook wanneer dat was. En waarom het "
    "mocht. Soms mocht het omdat u het goed vond. Dat staat in uw afspraken. Soms mocht het van de wet."
)
HELD_INTRO_PLAIN = (
    "Dit weten wij over u. Het staat hieronder, per soort. Bij elk stuk ziet u wie het heeft gezien. "
    "En waarom dat mocht."
)
HELD_INTRO = (
    "Hieronder staat alles wat het casusoverleg over u heeft vastgelegd, per soort. Bij elk onderdeel "
    "staat met welke organisatie het is gedeeld, en waarom dat mocht."
)


def held_lines(report: AccessReportOut) -> list[tuple[str, list[str]]]:
    """The items held, per kind (Dutch name), each a line with its short id, content and with whom
    it was shared on which basis."""
    out: dict[str, list[str]] = {}
    for item in report.data_held:
        line = f"[{item.id[:8]}] {item.summary}"
        if item.shared_with:
            line += " - Gedeeld met: " + ", ".join(
                f"{s.organisation_name} ({nl_basis(s.basis)})" for s in item.shared_with
            )
        out.setdefault(item.kind_nl, []).append(line)
    return list(out.items())


def _held_pdf(pdf: FPDF, report: AccessReportOut, size: int) -> None:
    pdf.set_font("Helvetica", "B", size + 3)
    pdf.multi_cell(0, 8, _latin1(HELD_TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", size)
    pdf.multi_cell(0, 5, _latin1(HELD_INTRO_PLAIN if report.plain_language else HELD_INTRO),
                   new_x="LMARGIN", new_y="NEXT")
    for kind, lines in held_lines(report):
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", size + 1)
        pdf.multi_cell(0, 6, _latin1(f"{kind} ({len(lines)})"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", size - 1)
        for line in lines:
            pdf.multi_cell(0, 4.5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def render_pdf(report: AccessReportOut) -> bytes:
    pdf = FPDF(orientation="L", format="A4")
    size = 12 if report.plain_language else 10  # reading support: larger type
    pdf.set_title(_latin1(DOCUMENT_TITLE))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 9, _latin1(DOCUMENT_TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", size)
    pdf.multi_cell(
        0,
        5,
        _latin1(
            f"Cliëntnummer: {report.client_number}\nCasusoverleg: {report.conference_name}\n"
            f"Opgesteld op: {nl_datetime(report.generated_at)}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    _held_pdf(pdf, report, size)
    pdf.set_font("Helvetica", "B", size + 3)
    pdf.multi_cell(0, 8, _latin1(TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", size)
    pdf.multi_cell(0, 5, _latin1(INTRO_PLAIN if report.plain_language else INTRO), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    if not report.entries:
        pdf.multi_cell(0, 5, "Er is (nog) niemand geweest die uw gegevens heeft ingezien of gewijzigd.")
        return bytes(pdf.output())
    pdf.set_font("Helvetica", "", 8)
    with pdf.table(col_widths=(30, 36, 34, 34, 32, 50, 61), text_align="LEFT") as table:
        table.row(["Wanneer", "Organisatie", "Rol", "Wie", "Wat", "Welke gegevens", "Grondslag"])
        for e in report.entries:
            what = NL_RESOURCES.get(e.resource_type, e.resource_type)
            if e.part:
                what += f" ({NL_PARTS.get(e.part, e.part)})"
            table.row(
                [
                    nl_datetime(e.occurred_at),
                    _latin1(e.organisation_name or "onbekend"),
                    _latin1(NL_ROLES.get(e.role or "", e.role or "onbekend")),
                    _latin1(e.person),
                    _latin1(NL_ACTIONS.get(e.action, e.action)),
                    _latin1(what),
                    _latin1(nl_basis(e.basis)),
                ]
            )
    return bytes(pdf.output())
