"""Raw counts -> the published tables: every table goes through suppression here, so nothing
unsuppressed can leave the service. Also the CSV form of the same tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.models.enums import ConsultationStatus, LifeDomain, Phase
from app.schemas.outcomes import OutcomeCell, OutcomeColumn, OutcomeMeasure, OutcomeRow, OutcomeTable
from app.services.outcomes.suppression import Grid, protect

SUPPRESSED_TEXT = "<5"
OPEN_PHASES = (Phase.selected, Phase.prioritised, Phase.active, Phase.monitoring)


@dataclass(frozen=True)
class Spec:
    """A table before suppression: counts per row and column, and derived measures per row."""

    key: str
    title: str
    description: str
    columns: Sequence[tuple[str, str]]
    rows: Sequence[tuple[str, str]]
    values: list[list[int]]
    row_totals: bool = False
    column_totals: bool = False
    same_row_totals: bool = False
    # per row: (key, value) of figures computed over one count's group (a median, a mean); shown
    # only while that count is (column index `measured`, or the row total when None), so a
    # measure never tells that a withheld group has 5 or more members
    measures: Sequence[Sequence[tuple[str, float | None]]] = ()
    measured: int | None = 0


def _cell(value: int, withheld: bool) -> OutcomeCell:
    return OutcomeCell(value=None if withheld else value, suppressed=withheld)


def _measure(key: str, value: float | None, withheld: bool) -> OutcomeMeasure:
    shown = None if withheld or value is None else round(float(value), 1)
    return OutcomeMeasure(key=key, value=shown, suppressed=withheld)


def build(spec: Spec) -> OutcomeTable:
    grid = protect(Grid(values=spec.values, row_totals=spec.row_totals, column_totals=spec.column_totals,
                        same_row_totals=spec.same_row_totals, width=len(spec.columns)))
    rows = []
    for r, (key, title) in enumerate(spec.rows):
        measures = spec.measures[r] if spec.measures else ()
        group_withheld = grid.rows[r] if spec.measured is None else grid.cells[r][spec.measured]
        rows.append(OutcomeRow(
            key=key, title=title,
            cells=[_cell(v, grid.cells[r][c]) for c, v in enumerate(spec.values[r])],
            total=_cell(grid.row_total(r), grid.rows[r]) if spec.row_totals else None,
            measures=[_measure(key, value, group_withheld) for key, value in measures],
        ))
    n_cols = len(spec.columns)
    return OutcomeTable(
        key=spec.key, title=spec.title, description=spec.description,
        columns=[OutcomeColumn(key=k, title=t) for k, t in spec.columns],
        rows=rows,
        column_totals=[_cell(grid.column_total(c), grid.columns[c]) for c in range(n_cols)]
        if spec.column_totals else None,
        grand_total=_cell(grid.grand_total, grid.grand)
        if spec.row_totals and spec.column_totals and not spec.same_row_totals else None,
    )


def _month_rows(months: list[str]) -> list[tuple[str, str]]:
    return [(m[:7], m[:7]) for m in months]


def _by(items: list[dict], key: str) -> dict[Any, dict]:
    return {item[key]: item for item in items}


def specs(raw: dict[str, Any], area: str | None = None) -> list[Spec]:
    """Every figure of the dashboard, from the raw counts of figures.raw_figures."""
    months: list[str] = raw["months"]
    month_keys = [m[:7] for m in months]
    out: list[Spec] = []

    phases = list(Phase)
    per_month: dict[str, dict[str, int]] = {}
    for item in raw["phases_by_month"]:
        per_month.setdefault(item["month"][:7], {})[item["phase"]] = item["n"]
    out.append(Spec(
        "cases_per_phase", "Cases per phase", "The phase of every case at the end of each month (or at the "
        "end of the period); the total is the number of cases then.",
        [(p.value, p.value) for p in phases], _month_rows(months),
        [[per_month.get(m, {}).get(p.value, 0) for p in phases] for m in month_keys], row_totals=True,
    ))

    stays = _by(raw["time_in_phase"], "phase")
    out.append(Spec(
        "time_in_phase", "Time spent in each phase", "Stays in a phase that ended within the period: how many, "
        "and their median and mean length in days.",
        [("stays", "stays ended")], [(p.value, p.value) for p in OPEN_PHASES],
        [[stays.get(p.value, {}).get("n", 0)] for p in OPEN_PHASES],
        measures=[[("median_days", stays.get(p.value, {}).get("median")),
                   ("mean_days", stays.get(p.value, {}).get("mean"))] for p in OPEN_PHASES],
    ))

    ref = raw["referrals"]
    n = ref["n"]
    out.append(Spec(
        "referral_first_step", "From referral to the first step", "Referrals made within the period: whether "
        "a first action and a first discussion (agenda or decision) followed, and the median number of days.",
        [("reached", "reached"), ("not_yet", "not yet")],
        [("first_action", "first action"), ("first_discussion", "first discussion")],
        [[ref["with_action"], n - ref["with_action"]], [ref["with_discussion"], n - ref["with_discussion"]]],
        row_totals=True, same_row_totals=True,
        measures=[[("median_days", ref["action_median"])], [("median_days", ref["discussion_median"])]],
    ))

    orgs = raw["actions_on_time"]
    out.append(Spec(
        "actions_on_time", "Actions done on time, per organisation", "Actions (not cancelled) due within the "
        "period whose due date has passed: done on or before it, done later, or not done.",
        [("on_time", "on time"), ("late", "late"), ("not_done", "not done")],
        [(o["organisation"], o["organisation"]) for o in orgs],
        [[o["on_time"], o["late"], o["not_done"]] for o in orgs], row_totals=True, column_totals=True,
    ))

    esc = _by([{**e, "month": e["month"][:7]} for e in raw["escalations"]], "month")
    out.append(Spec(
        "escalations", "Mandate escalations", "Actions committed in the month beyond a valid mandate: still "
        "open, or handled.",
        [("open", "open"), ("handled", "handled")], _month_rows(months),
        [[esc.get(m, {}).get("open", 0), esc.get(m, {}).get("handled", 0)] for m in month_keys],
        row_totals=True, column_totals=True,
    ))

    zrm = _by(raw["zrm"], "domain")
    domains = list(LifeDomain)
    out.append(Spec(
        "zrm_trend", "Self-sufficiency (ZRM) per life domain", "Cases with at least two assessments within the "
        "period: their latest score against their first, and the mean first and latest score (1 to 5).",
        [("improved", "improved"), ("same", "same"), ("worse", "worse")], [(d.value, d.value) for d in domains],
        [[zrm.get(d.value, {}).get(k, 0) for k in ("improved", "same", "worse")] for d in domains],
        row_totals=True, measured=None,
        measures=[[("mean_first", zrm.get(d.value, {}).get("first")),
                   ("mean_latest", zrm.get(d.value, {}).get("latest"))] for d in domains],
    ))

    sig = _by([{**s, "month": s["month"][:7]} for s in raw["signals_by_month"]], "month")
    out.append(Spec(
        "relapse_signals", "Relapse signals per month", "Relapse and lapse events reported by partner systems "
        "for the clients of these cases, by the event's own time.",
        [("relapse", "relapse"), ("lapse", "lapse")], _month_rows(months),
        [[sig.get(m, {}).get("relapse", 0), sig.get(m, {}).get("lapse", 0)] for m in month_keys],
        row_totals=True, column_totals=True,
    ))

    windows = _by(raw["without_signal"], "months")
    values = []
    for months_back in (6, 12):
        window = windows.get(months_back, {"clients": 0, "with_signal": 0})
        values.append([window["clients"] - window["with_signal"], window["with_signal"]])
    out.append(Spec(
        "without_signal", "Clients without a relapse signal", "Clients with a case open at the end of the period: "
        "without or with a relapse or lapse signal in the 6 and the 12 months before it.",
        [("without", "without a signal"), ("with", "with a signal")],
        [("6_months", "last 6 months"), ("12_months", "last 12 months")], values,
        row_totals=True, same_row_totals=True,
    ))

    aftercare = raw["aftercare"]
    out.append(Spec(
        "aftercare", "Aftercare watches completed", "Aftercare watches that ended within the period: without or "
        "with a relapse or lapse signal during the watch.",
        [("without_relapse", "without relapse"), ("with_relapse", "with relapse")],
        [("completed", "completed watches")],
        [[aftercare["n"] - aftercare["with_relapse"], aftercare["with_relapse"]]], row_totals=True,
    ))

    if area is None:  # consultations are anonymous: they have no area
        statuses = list(ConsultationStatus)
        asked: dict[str, dict[str, int]] = {}
        for item in raw["consultations"]:
            asked.setdefault(item["month"][:7], {})[item["status"]] = item["n"]
        out.append(Spec(
            "consultations", "Consultations held", "Consultations (spreekuur) asked in the month, by where they "
            "stand now: open, answered, or turned into a referral.",
            [(st.value, st.value) for st in statuses], _month_rows(months),
            [[asked.get(m, {}).get(st.value, 0) for st in statuses] for m in month_keys],
            row_totals=True, column_totals=True,
        ))
    return out


def tables(raw: dict[str, Any], area: str | None = None) -> list[OutcomeTable]:
    return [build(spec) for spec in specs(raw, area)]


def _text(cell: OutcomeCell | None) -> str:
    if cell is None:
        return ""
    return SUPPRESSED_TEXT if cell.suppressed else str(cell.value)


def to_csv(published: list[OutcomeTable]) -> str:
    """One line per published number: figure, row, column, value ("<5" where withheld)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["figure", "row", "column", "value"])
    for table in published:
        for row in table.rows:
            for column, cell in zip(table.columns, row.cells, strict=True):
                writer.writerow([table.key, row.key, column.key, _text(cell)])
            if row.total is not None:
                writer.writerow([table.key, row.key, "total", _text(row.total)])
            for measure in row.measures:
                value = SUPPRESSED_TEXT if measure.suppressed else ("" if measure.value is None else measure.value)
                writer.writerow([table.key, row.key, measure.key, value])
        if table.column_totals is not None:
            for column, cell in zip(table.columns, table.column_totals, strict=True):
                writer.writerow([table.key, "total", column.key, _text(cell)])
        if table.grand_total is not None:
            writer.writerow([table.key, "total", "total", _text(table.grand_total)])
    return buffer.getvalue()
