# SQLModel fields are typed as their Python values, which SQLAlchemy 2.1's select()/where() stubs refuse.
# mypy: disable-error-code="call-overload,arg-type,union-attr,attr-defined,operator"
"""Verification of the access log's hash chains.

The database chains every row on insert (trigger `access_log_chain`, migration 0003_audit): each
row joins one of 16 chains (`chain`, a lane per concurrently writing transaction); prev_hash is
the row_hash of the previous row of the same chain (or of the chain's last purge anchor, or
GENESIS), and row_hash = sha256 over the canonical text of the row (seq and chain included).
This module recomputes that independently of the database, in seq order and in batches, and
names the first row where a chain breaks:
- a changed row no longer matches its own row_hash;
- a removed or inserted row breaks the link (prev_hash) of the next row of its chain, or its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import UnprocessableEntity
from app.models import AccessLogAnchor, AccessLogEntry

GENESIS = "0" * 64

# The columns that make up a row's canonical text, in order (prev_hash last).
CHAINED_COLUMNS: tuple[str, ...] = (
    "seq",
    "chain",
    "occurred_at",
    "actor_issuer",
    "actor_subject",
    "actor_name",
    "actor_kind",
    "organisation_id",
    "role",
    "conference_id",
    "client_number",
    "case_id",
    "resource_type",
    "resource_id",
    "action",
    "part",
    "basis",
    "outcome",
    "request_id",
    "source_address",
    "prev_hash",
)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def _field(value: Any) -> str:
    text = _text(value)
    return "~" if text is None else f"{len(text)}:{text}"


def canonical_text(row: Any) -> str:
    """The same text as the SQL function access_log_canonical()."""
    return "|".join(_field(getattr(row, column)) for column in CHAINED_COLUMNS)


def compute_row_hash(row: Any) -> str:
    return hashlib.sha256(canonical_text(row).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    from_seq: int
    to_seq: int
    rows_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    last_hash: str | None = None  # the row_hash of the last row checked
    # The last row_hash per chain: record these elsewhere to detect later removal of the newest rows.
    heads: dict[int, str] | None = None


class EmptyRange(UnprocessableEntity):
    title = "Nothing to verify"
    type_slug = "empty-range"


async def _expected_before(session: AsyncSession, chain: int, first_seq: int) -> str:
    """What the chain's first row in the range must point to: its predecessor's row_hash in the
    chain; for the chain's first remaining row, the newest purge anchor's hash; else GENESIS."""
    previous = (
        await session.execute(
            sa.select(AccessLogEntry.row_hash)
            .where(AccessLogEntry.chain == chain, AccessLogEntry.seq < first_seq)
            .order_by(AccessLogEntry.seq.desc())
            .limit(1)
        )
    ).first()
    if previous is not None:
        return previous[0] or ""
    anchor = (
        await session.execute(
            sa.select(AccessLogAnchor.row_hash)
            .where(AccessLogAnchor.chain == chain, AccessLogAnchor.anchored_seq < first_seq)
            .order_by(AccessLogAnchor.anchored_seq.desc())
            .limit(1)
        )
    ).first()
    return anchor[0] if anchor is not None else GENESIS


async def verify_chain(
    session: AsyncSession,
    *,
    from_seq: int | None = None,
    to_seq: int | None = None,
    batch_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> ChainReport:
    """`progress(rows checked, rows in range at most)` is called after each batch."""
    if from_seq is not None and to_seq is not None and from_seq > to_seq:
        raise EmptyRange("from_seq lies after to_seq.", pointer="#query:from_seq")
    columns: Sequence[Any] = [getattr(AccessLogEntry, c) for c in CHAINED_COLUMNS] + [AccessLogEntry.row_hash]
    seq = AccessLogEntry.seq
    bounds = []
    if from_seq is not None:
        bounds.append(seq >= from_seq)
    if to_seq is not None:
        bounds.append(seq <= to_seq)
    first = (await session.execute(sa.select(sa.func.min(seq), sa.func.max(seq)).where(*bounds))).one()
    if first[0] is None:
        where = (
            f" between seq {from_seq if from_seq is not None else 'start'} and "
            f"{to_seq if to_seq is not None else 'end'}"
        )
        raise EmptyRange(f"The access log has no rows{where}; there is nothing to verify.")
    low, high = int(first[0]), int(first[1])
    expected: dict[int, str] = {}
    checked = 0
    cursor = low - 1
    last_hash: str | None = None
    while True:
        rows = (
            await session.execute(
                sa.select(*columns).where(seq > cursor, seq <= high).order_by(seq).limit(batch_size)
            )
        ).all()
        if not rows:
            break
        for row in rows:
            checked += 1
            if row.chain not in expected:
                expected[row.chain] = await _expected_before(session, row.chain, row.seq)
            if row.prev_hash != expected[row.chain]:
                return ChainReport(
                    False,
                    low,
                    high,
                    checked,
                    row.seq,
                    "The link to the previous row is broken: a row before this one was removed "
                    "or inserted, or this row's link was changed.",
                    last_hash,
                )
            if compute_row_hash(row) != row.row_hash:
                return ChainReport(
                    False,
                    low,
                    high,
                    checked,
                    row.seq,
                    "This row was changed after it was written.",
                    last_hash,
                )
            expected[row.chain] = row.row_hash
            last_hash = row.row_hash
        cursor = rows[-1].seq
        if progress is not None:
            progress(checked, max(checked, high - low + 1))
    return ChainReport(True, low, high, checked, last_hash=last_hash, heads=dict(sorted(expected.items())))
