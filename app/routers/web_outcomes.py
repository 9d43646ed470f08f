"""The web client's outcomes page (Uitkomsten, issue 18): the API's figures of one conference,
with filters (period, area), SVG bar charts drawn on the server, tables with "<5" for withheld
counts, and the CSV and JSON downloads. For the chair, members and policy staff; every view and
download is in the access log through the same read path as the API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.auth.policy import ROLE_MATRIX, Op, Target
from app.auth.principal import Principal
from app.errors import UnprocessableEntity
from app.schemas.outcomes import OutcomeRow, OutcomesOut, OutcomeTable
from app.services.access import web_sessions as web_auth
from app.services.outcomes import present, reads
from app.web.charts import bar_chart
from app.web.forms import parse_date
from app.web.render import LIFE_DOMAINS, MONTHS, PHASES, error_page, page
from app.web.route import WebRoute
from app.web.session import Ctx, WebContext

router = APIRouter(prefix="/web", route_class=WebRoute, include_in_schema=False)

TITLES = {
    "cases_per_phase": ("Casussen per fase", "De fase van elke casus aan het eind van elke maand (of aan het eind "
                        "van de periode). Het totaal is het aantal casussen op dat moment."),
    "time_in_phase": ("Tijd in elke fase", "Verblijven in een fase die binnen de periode eindigden: hoeveel, en "
                      "hoe lang ze duurden (mediaan en gemiddelde, in dagen)."),
    "referral_first_step": ("Van aanmelding tot eerste stap", "Aanmeldingen binnen de periode: of er een eerste "
                            "actie en een eerste bespreking (agenda of besluit) volgde, en na hoeveel dagen "
                            "(mediaan)."),
    "actions_on_time": ("Acties op tijd, per organisatie", "Acties (niet vervallen) met een uiterste datum in de "
                        "periode die al voorbij is: op tijd gedaan, te laat gedaan, of niet gedaan."),
    "escalations": ("Mandaat-escalaties", "Acties die in de maand werden toegezegd zonder geldig mandaat: nog open, "
                    "of afgehandeld."),
    "zrm_trend": ("Zelfredzaamheid (ZRM) per leefgebied", "Casussen met minstens twee metingen in de periode: de "
                  "laatste score tegenover de eerste, en de gemiddelde eerste en laatste score (1 tot 5)."),
    "relapse_signals": ("Terugvalsignalen per maand", "Meldingen van terugval en uitglijders door de systemen van "
                        "ketenpartners, naar het moment van het signaal zelf."),
    "without_signal": ("Cliënten zonder terugvalsignaal", "Cliënten met een open casus aan het eind van de periode: "
                       "zonder of met een signaal van terugval of een uitglijder in de 6 en 12 maanden ervoor."),
    "consultations": ("Gehouden spreekuren", "Consultaties (spreekuur) die in de maand werden gevraagd, naar hoe "
                      "ze er nu voor staan: open, beantwoord, of een aanmelding geworden."),
    "aftercare": ("Afgeronde nazorg", "Nazorgperiodes die binnen de periode eindigden: zonder of met een signaal "
                  "van terugval tijdens de nazorg."),
}
COLUMNS = {
    **{str(p): name for p, name in PHASES.items()},
    "stays": "Afgeronde verblijven", "reached": "Gevolgd", "not_yet": "Nog niet", "on_time": "Op tijd",
    "late": "Te laat", "not_done": "Niet gedaan", "open": "Open", "handled": "Afgehandeld", "improved": "Vooruit",
    "same": "Gelijk", "worse": "Achteruit", "relapse": "Terugval", "lapse": "Uitglijder",
    "without": "Zonder signaal", "with": "Met signaal", "without_relapse": "Zonder terugval",
    "with_relapse": "Met terugval", "answered": "Beantwoord", "converted": "Aanmelding geworden",
}
ROWS = {
    **{str(p): name for p, name in PHASES.items()}, **LIFE_DOMAINS,
    "first_action": "Eerste actie", "first_discussion": "Eerste bespreking", "6_months": "Laatste 6 maanden",
    "12_months": "Laatste 12 maanden", "completed": "Nazorg afgerond",
}
MEASURES = {"median_days": "Mediaan (dagen)", "mean_days": "Gemiddeld (dagen)",
            "mean_first": "Gemiddeld eerst", "mean_latest": "Gemiddeld laatst"}
NOT_PER_AREA = {"consultations": "Gehouden spreekuren: een consultatie is anoniem en hoort bij geen wijk. Ze "
                                  "staan alleen bij de uitkomsten zonder wijk."}


def _row_title(key: str, short: bool = False) -> str:
    if len(key) == 7 and key[4] == "-" and key[:4].isdigit():  # a month, 2026-03
        name = MONTHS[int(key[5:]) - 1]
        return f"{name[:3]} {key[2:4]}" if short else f"{name} {key[:4]}"
    return ROWS.get(key, key)


def _share(row: OutcomeRow) -> str | None:
    """The first column's share of the row's total, when both are published."""
    first, total = row.cells[0], row.total
    if first.value is None or total is None or not total.value:
        return None
    return f"{100 * first.value / total.value:.0f}%".replace(".", ",")


def _figure(table: OutcomeTable) -> dict[str, Any]:
    title, description = TITLES.get(table.key, (table.title, table.description))
    columns = [COLUMNS.get(c.key, c.title) for c in table.columns]
    rows = [{"title": _row_title(r.key), "row": r, "share": _share(r) if table.key == "without_signal" else None}
            for r in table.rows]
    measures = [MEASURES.get(m.key, m.key) for m in table.rows[0].measures] if table.rows else []
    chart = bar_chart(table, [_row_title(r.key, short=True) for r in table.rows], columns) if table.rows else None
    return {"key": table.key, "title": title, "description": description, "columns": columns, "rows": rows,
            "measures": measures, "table": table, "chart": chart}


def _outcome_conferences(principal: Principal) -> list[uuid.UUID]:
    roles = ROLE_MATRIX[Op.outcomes_read]
    return sorted({m.conference_id for m in principal.memberships if m.role in roles}, key=str)


def _date(value: str) -> date | None | str:
    if not value.strip():
        return None
    parsed = parse_date(value)
    return parsed if isinstance(parsed, date) else value


async def _figures(ctx: WebContext, overleg: str, van: str, tot: str, wijk: str, action: str
                   ) -> tuple[uuid.UUID | None, OutcomesOut | None, str]:
    """(conference, figures, error): the chosen conference's figures, or the filter's error."""
    allowed = _outcome_conferences(ctx.principal)
    try:
        conference_id: uuid.UUID | None = uuid.UUID(overleg) if overleg else (allowed[0] if allowed else None)
    except ValueError:
        conference_id = None
    if conference_id is None and not ctx.principal.memberships:
        return None, None, ""
    conference_id = conference_id or ctx.principal.memberships[0].conference_id
    access = reads.outcomes_access(conference_id, action)
    await ctx.guard.require(Op.outcomes_read, Target(conference_id=conference_id), access, hidden_as="conference")
    start, end = _date(van), _date(tot)
    try:
        async with ctx.guard.refusals_logged(access, UnprocessableEntity):
            if isinstance(start, str) or isinstance(end, str):
                raise UnprocessableEntity("a date is not a date", pointer="#query:from")
            filters = await reads.checked_filters(ctx.guard.session, conference_id, start=start, end=end, area=wijk)
    except UnprocessableEntity as exc:
        if isinstance(start, str) or isinstance(end, str):
            return conference_id, None, "Vul geldige datums in (dd-mm-jjjj of jjjj-mm-dd)."
        if "#query:area" in str(exc.extra):
            return conference_id, None, "De naam van de wijk is te lang (maximaal 64 tekens)."
        return conference_id, None, ("De periode klopt niet: het begin ligt na het einde, of de periode is langer "
                                     "dan de bewaartermijn van het casusoverleg.")
    return conference_id, ctx.guard.deliver(await reads.outcomes_read(ctx.guard.session, filters, action=action)), ""


@router.get("/uitkomsten", response_class=HTMLResponse)
async def outcomes_page(request: Request, ctx: Ctx, overleg: str = "", van: str = "", tot: str = "",
                        wijk: str = "") -> HTMLResponse:
    conference_id, body, error = await _figures(ctx, overleg, van, tot, wijk, "read")
    if conference_id is None:
        return error_page(request, 403, "U heeft geen toegang tot de uitkomsten van een casusoverleg.")
    conferences = await web_auth.get_conferences(ctx.guard.session, _outcome_conferences(ctx.principal))
    query = urlencode({"overleg": str(conference_id), "van": body.period_from.isoformat() if body else van,
                       "tot": body.period_to.isoformat() if body else tot, "wijk": (body.area or "") if body else wijk})
    return page(request, "outcomes.html", ctx, status=422 if error else 200, error=error, body=body,
                figures=[_figure(t) for t in body.tables] if body else [], conferences=conferences,
                conference_id=str(conference_id), van=van, tot=tot, wijk=wijk, query=query,
                not_available=[NOT_PER_AREA.get(n.split(":")[0], n) for n in body.not_available] if body else [])


@router.get("/uitkomsten.csv")
async def outcomes_csv(request: Request, ctx: Ctx, overleg: str = "", van: str = "", tot: str = "",
                       wijk: str = "") -> Response:
    conference_id, body, error = await _figures(ctx, overleg, van, tot, wijk, "export")
    if body is None:
        return error_page(request, 422 if error else 403, error or None)
    name = f"uitkomsten-{body.period_from.isoformat()}-{body.period_to.isoformat()}.csv"
    return Response(present.to_csv(body.tables), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.get("/uitkomsten.json")
async def outcomes_json(request: Request, ctx: Ctx, overleg: str = "", van: str = "", tot: str = "",
                        wijk: str = "") -> Response:
    conference_id, body, error = await _figures(ctx, overleg, van, tot, wijk, "export")
    if body is None:
        return error_page(request, 422 if error else 403, error or None)
    name = f"uitkomsten-{body.period_from.isoformat()}-{body.period_to.isoformat()}.json"
    return Response(body.model_dump_json(), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
