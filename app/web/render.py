"""Page rendering: the templates with their Dutch filters and labels, a page, an error page."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from app.models.enums import Role
from app.services.words import (
    ACTION_STATUS,
    EVENT_TYPES,
    FLAG_REASONS,
    LABELS,
    LIFE_DOMAINS,
    NOTIFICATIONS,
    PHASES,
    PRIORITY,
    REFERRAL_STATUS,
    count_of,
)
from app.web import TEMPLATE_DIR
from app.web.consent import template_globals as consent_globals

if TYPE_CHECKING:
    from app.web.session import WebContext

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")

def nl_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        local = value.astimezone(AMSTERDAM)
        return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


aantal = count_of  # the templates' name: {{ n|aantal('actie', 'acties') }}


templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.filters["nl_date"] = nl_date
templates.env.filters["aantal"] = aantal
def is_privacy_officer(user: Any) -> bool:
    """Whether the signed-in person is a privacy officer somewhere (the menu shows the privacy pages)."""
    return bool(user is not None and user.conference_ids(Role.privacy_officer))


templates.env.globals.update(
    is_privacy_officer=is_privacy_officer,
    ACTION_STATUS=ACTION_STATUS, PHASES=PHASES, LIFE_DOMAINS=LIFE_DOMAINS, REFERRAL_STATUS=REFERRAL_STATUS,
    PRIORITY=PRIORITY, FLAG_REASONS=FLAG_REASONS, NOTIFICATIONS=NOTIFICATIONS,
)
templates.env.globals.update(EVENT_TYPES=EVENT_TYPES, LABELS=LABELS)
templates.env.globals.update(consent_globals())


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self' http: https:; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# The print documents (exports, the subject-access report) carry their own inline print styles and
# no scripts at all.
PRINT_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'none'",
}

# The Dutch page for each status: the AppError hierarchy (app/errors.py), the framework's own
# (an unknown page, a method a page does not take, a body too large) and the database's faults.
ERROR_TEXT = {
    400: ("Ongeldig verzoek", "Dit verzoek kon niet worden verwerkt."),
    401: ("Inloggen mislukt", "Uw inlog kon niet worden bevestigd. Probeer het opnieuw."),
    403: ("Geen toegang", "U heeft geen toegang tot deze pagina of deze handeling."),
    404: ("Pagina niet gevonden", "Deze pagina bestaat niet, of u heeft er geen toegang toe."),
    405: ("Niet mogelijk", "Deze handeling is op deze pagina niet mogelijk."),
    409: ("Niet mogelijk", "Deze wijziging is nu niet mogelijk."),
    410: ("Niet meer beschikbaar", "Deze pagina of dit gegeven is er niet meer."),
    412: ("Intussen gewijzigd", "Iemand anders heeft dit intussen gewijzigd. Open de pagina opnieuw."),
    413: ("Te groot", "Wat u verstuurde is te groot. Maak het bestand of de tekst kleiner."),
    415: ("Verkeerd soort bestand", "Dit soort bestand of formulier wordt hier niet aangenomen."),
    422: ("Ongeldige invoer", "De invoer is niet geldig."),
    428: ("Open de pagina opnieuw", "Deze wijziging mist de versie waarop u werkte. Open de pagina opnieuw."),
    429: ("Even geduld", "U heeft dit te vaak achter elkaar gedaan. Probeer het over een paar minuten opnieuw."),
    500: ("Er ging iets mis", "Er ging bij ons iets mis. Probeer het later opnieuw."),
    502: ("Niet bereikbaar", "Een systeem waarvan deze pagina afhangt, antwoordt niet goed. Probeer het later opnieuw."),
    503: ("Even niet beschikbaar", "De dienst is even niet beschikbaar. Probeer het over een paar seconden opnieuw."),
    504: ("Duurt te lang", "Het antwoord duurde te lang. Probeer het later opnieuw."),
}


def error_text(status: int) -> tuple[str, str]:
    """The title and text of the Dutch error page for a status (a generic one by class)."""
    if status in ERROR_TEXT:
        return ERROR_TEXT[status]
    return ERROR_TEXT[500] if status >= 500 else ERROR_TEXT[400]


def page(request: Request, name: str, ctx: WebContext | None, status: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("user", ctx.principal if ctx else None)
    values.setdefault("csrf", ctx.csrf if ctx else None)
    values.setdefault("unread", ctx.unread if ctx else 0)
    return templates.TemplateResponse(request, name, values, status_code=status)


def error_page(request: Request, status: int, detail: str | None = None) -> HTMLResponse:
    title, text = error_text(status)
    ctx = getattr(request.state, "web", None)
    return templates.TemplateResponse(
        request, "error.html",
        {"title": title, "text": detail or text, "status": status, "user": ctx.principal if ctx else None,
         "csrf": ctx.csrf if ctx else None, "unread": ctx.unread if ctx else 0},
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
