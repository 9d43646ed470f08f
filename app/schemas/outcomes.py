"""Outcome figures of a conference (issue 18): tables of counts with small numbers suppressed.

Aggregates only: no client number, no case id, no name. A withheld count is `value: null` with
`suppressed: true` (shown as "<5"); see app/services/outcomes/suppression.py for the rules."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field


class OutcomeCell(BaseModel):
    value: int | None = Field(description="The count; null when it is withheld.")
    suppressed: bool = Field(description="True: withheld (under 5, or so that a withheld count cannot be "
                                         "recomputed from the totals); shown as \"<5\".")


class OutcomeMeasure(BaseModel):
    """A figure derived from a row's own group (a median, a mean): withheld when that group has
    fewer than 5 members."""

    key: str
    value: float | None
    suppressed: bool


class OutcomeColumn(BaseModel):
    key: str
    title: str


class OutcomeRow(BaseModel):
    key: str
    title: str
    cells: list[OutcomeCell]
    total: OutcomeCell | None = Field(default=None, description="The row's total, where the table publishes one.")
    measures: list[OutcomeMeasure] = Field(default_factory=list)


class OutcomeTable(BaseModel):
    key: str
    title: str
    description: str
    columns: list[OutcomeColumn]
    rows: list[OutcomeRow]
    column_totals: list[OutcomeCell] | None = None
    grand_total: OutcomeCell | None = None


class OutcomesOut(BaseModel):
    conference_id: uuid.UUID
    period_from: date
    period_to: date
    area: str | None = Field(description="The neighbourhood (wijk) filter; null: every area.")
    areas: list[str] = Field(description="The areas the conference's cases are in (for the filter).")
    threshold: int = Field(description="Counts under this number are withheld.")
    generated_at: datetime
    tables: list[OutcomeTable]
    not_available: list[str] = Field(default_factory=list,
                                     description="Figures this service cannot compute yet, and why.")
