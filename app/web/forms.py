"""Parsing of form values (Dutch notations), and the one way a page tries a change that may be
refused: inside a savepoint, so a refused change leaves nothing behind while the request's
transaction (with its access-log rows) carries on, and the page renders again from what was
submitted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession


def parse_date(value: str) -> date | str:
    """'2026-11-30' or '30-11-2026' -> a date; anything else comes back as it was, for the
    schema to refuse with its own message."""
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(value, fmt).date()  # a calendar date: no time zone involved
        except ValueError:
            continue
    return value


def int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def cents(value: str) -> int:
    """'250', '1250,50', '1.250,50' or '1250.50' euro -> cents (ValueError or InvalidOperation
    for anything else)."""
    text = value.replace("€", "").replace(" ", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    amount = Decimal(text)
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(value)
    return int(amount * 100)


@asynccontextmanager
async def refusable(session: AsyncSession) -> AsyncIterator[None]:
    """Run a change that a service may refuse (it raises an AppError): on a refusal the change's
    writes are undone to the savepoint and the objects it touched are expired, so the next read
    shows the stored state; what the request did before (its access-log rows) stays."""
    async with session.begin_nested():
        yield
