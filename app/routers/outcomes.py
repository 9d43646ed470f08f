"""Outcome figures of a conference (issue 18): aggregates with small numbers suppressed, as JSON
and as CSV. For the chair, the members and the municipality's policy staff; every read is in the
access log (about the conference, no client)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.auth.policy import Op, Target
from app.deps import GuardDep
from app.errors import UnprocessableEntity
from app.schemas.common import IsoDate
from app.schemas.outcomes import OutcomesOut
from app.services.outcomes import present, reads

router = APIRouter(tags=["outcomes"])

From = Annotated[IsoDate | None, Query(alias="from", description="First day of the period (default: the "
                                                                  "first day of the month 11 months ago).")]
To = Annotated[IsoDate | None, Query(alias="to", description="Last day of the period (default: today).")]
Area = Annotated[str | None, Query(description="Only cases in this neighbourhood (wijk).")]


async def _read(guard: GuardDep, conference_id: uuid.UUID, start: date | None, end: date | None,
                area: str | None, action: str) -> OutcomesOut:
    access = reads.outcomes_access(conference_id, action)
    await guard.require(Op.outcomes_read, Target(conference_id=conference_id), access, hidden_as="conference")
    async with guard.refusals_logged(access, UnprocessableEntity):
        filters = await reads.checked_filters(guard.session, conference_id, start=start, end=end, area=area)
    return guard.deliver(await reads.outcomes_read(guard.session, filters, action=action))


@router.get("/conferences/{conference_id}/outcomes", response_model=OutcomesOut)
async def outcomes(conference_id: uuid.UUID, guard: GuardDep, start: From = None, end: To = None,
                   area: Area = None) -> OutcomesOut:
    """The conference's outcome figures over a period (default: the last twelve months), optionally
    for one area. Every count under 5 is withheld (`value: null, suppressed: true`), and so is
    any count that would let a withheld one be recomputed from the totals."""
    return await _read(guard, conference_id, start, end, area, "read")


@router.get("/conferences/{conference_id}/outcomes.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "One line per published number."}})
async def outcomes_csv(conference_id: uuid.UUID, guard: GuardDep, start: From = None, end: To = None,
                       area: Area = None) -> Response:
    """The same figures as CSV: figure, row, column, value ("<5" where withheld)."""
    body = await _read(guard, conference_id, start, end, area, "export")
    name = f"uitkomsten-{body.period_from.isoformat()}-{body.period_to.isoformat()}.csv"
    return Response(present.to_csv(body.tables), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
