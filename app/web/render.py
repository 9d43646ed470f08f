"""Page rendering: the templates with their Dutch filters and labels, a page, an error page."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from app.models.enums import ActionStatus, Phase, ReferralStatus
from app.web import TEMPLATE_DIR
from app.web.consent import template_globals as consent_globals

if TYPE_CHECKING:
    from app.web.session import WebContext

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")

ACTION_STATUS = {
    ActionStatus.open: "Open",
    ActionStatus.in_progress: "Bezig",
    ActionStatus.done: "Gedaan",
    ActionStatus.blocked: "Geblokkeerd",
    ActionStatus.cancelled: "Vervallen",
}
PHASES = {
    Phase.selected: "Geselecteerd",
    Phase.prioritised: "Geprioriteerd",
    Phase.active: "Actief (plan van aanpak)",
    Phase.monitoring: "Monitoring en nazorg",
    Phase.closed: "Afgesloten",
}
LIFE_DOMAINS = {
    "finances": "Financiën",
    "work_education": "Werk en opleiding",
    "time_use": "Tijdsbesteding",
    "housing": "Huisvesting",
    "domestic_relations": "Huiselijke relaties",
    "mental_health": "Geestelijke gezondheid",
    "physical_health": "Lichamelijke gezondheid",
    "substance_use": "Middelengebruik",
    "adl": "ADL (dagelijkse verzorging)",
    "iadl": "Huishouden (IADL)",
    "social_network": "Sociaal netwerk",
    "community_participation": "Maatschappelijke participatie",
    "justice": "Justitie",
}
REFERRAL_STATUS = {ReferralStatus.pending: "In behandeling", ReferralStatus.accepted: "Geaccepteerd",
                   ReferralStatus.declined: "Afgewezen"}
PRIORITY = {"low": "Laag", "normal": "Normaal", "high": "Hoog", "urgent": "Urgent"}


def nl_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        local = value.astimezone(AMSTERDAM)
        return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def aantal(count: int, one: str, many: str) -> str:
    """A count with its noun in the right number: "1 actie", "2 acties", "0 acties"."""
    return f"{count} {one if count == 1 else many}"


templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.filters["nl_date"] = nl_date
templates.env.filters["aantal"] = aantal
templates.env.globals.update(
    ACTION_STATUS=ACTION_STATUS, PHASES=PHASES, LIFE_DOMAINS=LIFE_DOMAINS, REFERRAL_STATUS=REFERRAL_STATUS,
    PRIORITY=PRIORITY,
)
templates.env.globals.update(consent_globals())


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self' http: https:; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# Print views (agreements, agendas): documents with their own inline print styles and no scripts.
PRINT_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'none'",
}

# The Dutch page for each status of the AppError hierarchy (app/errors.py).
ERROR_TEXT = {
    400: ("Ongeldig verzoek", "Dit verzoek kon niet worden verwerkt."),
    401: ("Aanmelden mislukt", "Uw aanmelding kon niet worden bevestigd. Probeer het opnieuw."),
    403: ("Geen toegang", "U heeft geen toegang tot deze pagina of deze handeling."),
    404: ("Pagina niet gevonden", "Deze pagina bestaat niet, of u heeft er geen toegang toe."),
    409: ("Niet mogelijk", "Deze wijziging is nu niet mogelijk."),
    405: ("Niet mogelijk", "Deze handeling is op deze pagina niet mogelijk."),
    422: ("Ongeldige invoer", "De invoer is niet geldig."),
    500: ("Er ging iets mis", "Er ging bij ons iets mis. Probeer het later opnieuw."),
}


def page(request: Request, name: str, ctx: WebContext | None, status: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("user", ctx.principal if ctx else None)
    values.setdefault("csrf", ctx.csrf if ctx else None)
    return templates.TemplateResponse(request, name, values, status_code=status)


def error_page(request: Request, status: int, detail: str | None = None) -> HTMLResponse:
    title, text = ERROR_TEXT.get(status, ("Er ging iets mis", "Probeer het later opnieuw."))
    ctx = getattr(request.state, "web", None)
    return templates.TemplateResponse(
        request, "error.html",
        {"title": title, "text": detail or text, "user": ctx.principal if ctx else None,
         "csrf": ctx.csrf if ctx else None},
        status_code=status,
    )


def web_error_page(request: Request, status: int) -> Response | None:
    """The Dutch page for an error the framework raises on a /web path (an unknown page, a malformed
    id in the path, a method the page does not take): never problem+json in the browser. None for
    every other path (app.http.problems answers those)."""
    path = request.url.path
    if path != "/web" and not path.startswith("/web/"):
        return None
    response = error_page(request, status)
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response
