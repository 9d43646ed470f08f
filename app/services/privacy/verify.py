# SQLModel fields are typed as their Python values, which SQLAlchemy 2.1's select()/where() stubs refuse.
# mypy: disable-error-code="call-overload,arg-type,union-attr,attr-defined,operator"
"""Verification of the access log's keyed hash chains, against the latest signed checkpoint.

The application chains every row when it appends it (app/audit.py): each row joins one of the
chains (`chain`); prev_hash is the row_hash of the previous row of the same chain (or of the
chain's last purge anchor, or GENESIS), and row_hash = HMAC-SHA256 under a key derived from
AUDIT_CHAIN_KEY over the canonical text of the row (prev_hash included). The database never holds
the key. This module recomputes the chains in seq order, in batches, and names the first row where
one breaks:
- a changed row no longer matches its own row_hash, whatever the changer recomputed;
- a removed or inserted row breaks the link (prev_hash) of the next row of its chain, or its own;
- rows removed from the end of a chain leave nothing to break: the latest checkpoint
  (app/services/privacy/checkpoints.py), written outside the database, names each chain's newest
  row at its time, and a missing one is reported.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import CHAINED_COLUMNS, GENESIS, canonical_text, chain_secret, derived_key, row_hash, row_key
from app.errors import UnprocessableEntity
from app.models import AccessLogAnchor, AccessLogEntry

if TYPE_CHECKING:
    from app.services.privacy.checkpoints import Checkpoint

__all__ = ["CHAINED_COLUMNS", "GENESIS", "ChainReport", "EmptyRange", "anchor_mac", "canonical_text",
           "compute_row_hash", "verify_chain"]


def compute_row_hash(row: Any, secret: str | None = None) -> str:
    """The row_hash the service gives this row (an object with the columns as attributes)."""
    values = {c: getattr(row, c) for c in CHAINED_COLUMNS}
    return row_hash(values, row_key(secret or chain_secret()))


def anchor_mac(anchor: Mapping[str, Any], secret: str) -> str:
    """The keyed hash over a purge anchor: only the service's purge can write a valid one."""
    removed_before = anchor["removed_before"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = f"{anchor['chain']}|{anchor['anchored_seq']}|{anchor['row_hash']}|{removed_before}"
    return hmac.new(derived_key(secret, b"anchor v1"), text.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    from_seq: int
    to_seq: int
    rows_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    last_hash: str | None = None  # the row_hash of the last row checked
    # The last row_hash per chain (the signed checkpoints keep these outside the database).
    heads: dict[int, str] | None = None
    checkpoint: str | None = None  # the checkpoint checked against (its file name), if any
    head_seqs: dict[int, tuple[int, str]] | None = None  # per chain (seq, row_hash) of the last row


class EmptyRange(UnprocessableEntity):
    title = "Nothing to verify"
    type_slug = "empty-range"


@dataclass(frozen=True)
class _Break:
    seq: int
    problem: str


async def _expected_before(session: AsyncSession, chain: int, first_seq: int, secret: str) -> str | _Break:
    """What the chain's first row in the range must point to: its predecessor's row_hash in the
    chain; for the chain's first remaining row, the newest purge anchor's hash (when the service
    wrote that anchor); else GENESIS."""
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
            sa.select(
                AccessLogAnchor.chain,
                AccessLogAnchor.anchored_seq,
                AccessLogAnchor.row_hash,
                AccessLogAnchor.removed_before,
                AccessLogAnchor.mac,
            )
            .where(AccessLogAnchor.chain == chain, AccessLogAnchor.anchored_seq < first_seq)
            .order_by(AccessLogAnchor.anchored_seq.desc())
            .limit(1)
        )
    ).first()
    if anchor is None:
        return GENESIS
    if anchor.mac is None or not hmac.compare_digest(anchor.mac, anchor_mac(anchor._mapping, secret)):
        return _Break(
            first_seq,
            f"The rows before this one were removed, and the purge anchor of chain {chain} that "
            "accounts for them was not written by the service's retention purge.",
        )
    return str(anchor.row_hash)


async def _purged_through(session: AsyncSession, chain: int) -> int:
    """The highest seq of `chain` removed by the retention purge (0: none)."""
    value = (
        await session.execute(
            sa.select(sa.func.max(AccessLogAnchor.anchored_seq)).where(AccessLogAnchor.chain == chain)
        )
    ).scalar()
    return int(value or 0)


async def _missing_heads(session: AsyncSession, checkpoint: Checkpoint) -> _Break | None:
    """The checkpoint's newest row of each chain must still be there, unchanged (or purged)."""
    if not checkpoint.heads:
        return None
    seqs = [seq for seq, _hash in checkpoint.heads.values()]
    found = {
        row.seq: row
        for row in (
            await session.execute(
                sa.select(AccessLogEntry.seq, AccessLogEntry.chain, AccessLogEntry.row_hash).where(
                    AccessLogEntry.seq.in_(seqs)
                )
            )
        ).all()
    }
    breaks: list[_Break] = []
    for chain, (seq, expected) in sorted(checkpoint.heads.items()):
        row = found.get(seq)
        if row is not None and row.chain == chain and row.row_hash == expected:
            continue
        if row is None and await _purged_through(session, chain) >= seq:
            continue  # removed by the retention purge, which anchored the chain
        if row is not None:
            breaks.append(_Break(seq, f"This row differs from the one the checkpoint {checkpoint.name} recorded."))
            continue
        ends = (
            await session.execute(
                sa.select(sa.func.max(AccessLogEntry.seq)).where(AccessLogEntry.chain == chain, AccessLogEntry.seq < seq)
            )
        ).scalar()
        after = int(ends) if ends is not None else await _purged_through(session, chain)
        now = f"now ends at seq {ends}" if ends is not None else "has no rows left"
        # The first row that can be gone is the one after the chain's last remaining row.
        breaks.append(
            _Break(
                after + 1,
                f"Rows were removed from the end of the log: chain {chain} {now}, but the checkpoint "
                f"{checkpoint.name} of {checkpoint.created_at:%Y-%m-%d %H:%M:%S} UTC names seq {seq} as its "
                f"newest row; the rows of chain {chain} after seq {after} through seq {seq} are missing.",
            )
        )
    return min(breaks, key=lambda b: b.seq) if breaks else None


async def verify_chain(
    session: AsyncSession,
    *,
    from_seq: int | None = None,
    to_seq: int | None = None,
    batch_size: int = 2000,
    checkpoint: Checkpoint | None = None,
    secret: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ChainReport:
    """Recompute the chains from `from_seq` to `to_seq` (default: all). When the check runs to
    the end of the log and a checkpoint is given, rows removed since that checkpoint are found.
    `progress(rows checked, rows in range at most)` is called after each batch."""
    if from_seq is not None and to_seq is not None and from_seq > to_seq:
        raise EmptyRange("from_seq lies after to_seq.", pointer="#query:from_seq")
    secret = secret or chain_secret()
    key = row_key(secret)
    columns: Sequence[Any] = [AccessLogEntry.seq] + [getattr(AccessLogEntry, c) for c in CHAINED_COLUMNS] + [
        AccessLogEntry.row_hash
    ]
    seq = AccessLogEntry.seq
    bounds = []
    if from_seq is not None:
        bounds.append(seq >= from_seq)
    if to_seq is not None:
        bounds.append(seq <= to_seq)
    first = (await session.execute(sa.select(sa.func.min(seq), sa.func.max(seq)).where(*bounds))).one()
    tail = await _missing_heads(session, checkpoint) if checkpoint is not None and to_seq is None else None
    name = checkpoint.name if checkpoint is not None else None
    if first[0] is None:
        if tail is not None:
            return ChainReport(False, from_seq or 0, to_seq or 0, 0, tail.seq, tail.problem, checkpoint=name)
        where = (
            f" between seq {from_seq if from_seq is not None else 'start'} and "
            f"{to_seq if to_seq is not None else 'end'}"
        )
        raise EmptyRange(f"The access log has no rows{where}; there is nothing to verify.")
    low, high = int(first[0]), int(first[1])
    expected: dict[int, str] = {}
    head_seqs: dict[int, tuple[int, str]] = {}
    checked = 0
    cursor = low - 1
    last_hash: str | None = None

    def broken(at: _Break) -> ChainReport:
        if tail is not None and tail.seq < at.seq:
            at = tail
        return ChainReport(False, low, high, checked, at.seq, at.problem, last_hash, checkpoint=name)

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
                before = await _expected_before(session, row.chain, row.seq, secret)
                if isinstance(before, _Break):
                    return broken(before)
                expected[row.chain] = before
            if row.prev_hash != expected[row.chain]:
                return broken(
                    _Break(
                        row.seq,
                        "The link to the previous row is broken: a row before this one was removed "
                        "or inserted, or this row's link was changed.",
                    )
                )
            if not hmac.compare_digest(row_hash(row._mapping, key), row.row_hash or ""):
                return broken(_Break(row.seq, "This row was changed after it was written, or was not written by the service."))
            expected[row.chain] = row.row_hash
            head_seqs[row.chain] = (row.seq, row.row_hash)
            last_hash = row.row_hash
        cursor = rows[-1].seq
        if progress is not None:
            progress(checked, max(checked, high - low + 1))
    if tail is not None:
        return broken(tail)
    return ChainReport(
        True,
        low,
        high,
        checked,
        last_hash=last_hash,
        heads=dict(sorted(expected.items())),
        checkpoint=name,
        head_seqs=dict(sorted(head_seqs.items())),
    )
