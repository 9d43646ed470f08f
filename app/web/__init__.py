"""Templates and static files of the web client (server-rendered, Dutch, no build step)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATE_DIR = WEB_DIR / "templates"

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")

ACTION_STATUS = {
    "open": "Open",
    "in_progress": "Bezig",
    "done": "Gedaan",
    "blocked": "Geblokkeerd",
    "cancelled": "Vervallen",
}
PHASES = {
    "selected": "Geselecteerd",
    "prioritised": "Geprioriteerd",
    "active": "Actief (plan van aanpak)",
    "monitoring": "Monitoring en nazorg",
    "closed": "Afgesloten",
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
REFERRAL_STATUS = {"pending": "In behandeling", "accepted": "Geaccepteerd", "declined": "Afgewezen"}
PRIORITY = {"low": "Laag", "normal": "Normaal", "high": "Hoog", "urgent": "Urgent"}


def nl_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        local = value.astimezone(AMSTERDAM)
        return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.filters["nl_date"] = nl_date
templates.env.globals.update(
    ACTION_STATUS=ACTION_STATUS, PHASES=PHASES, LIFE_DOMAINS=LIFE_DOMAINS, REFERRAL_STATUS=REFERRAL_STATUS,
    PRIORITY=PRIORITY,
)
