"""Signed checkpoints of the access log's chain heads, kept outside the database.

A keyed chain shows a changed, inserted or removed row, but not the newest rows removed: nothing
after them is left to break. So at a fixed interval (job `audit.checkpoint`,
AUDIT_CHECKPOINT_INTERVAL_SECONDS) the service verifies the rows written since the previous
checkpoint and writes the head of every chain (its newest row's seq and row_hash) to a new file
in AUDIT_CHECKPOINT_DIR, signed with an Ed25519 key derived from AUDIT_CHAIN_KEY. The folder is
the operator's: a mount the database owner cannot write (ideally write-once, or copied off the
machine). `casusoverleg audit verify` checks the log against the latest checkpoint.

File: `checkpoint-<UTC time>.json`, JSON with sorted keys: format, database, created_at, heads
({chain: [seq, row_hash]}), rows_checked, public_key (hex), signature (hex, over the same JSON
without `signature`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import derived_key
from app.clock import clock
from app.services.privacy.verify import ChainReport, verify_chain

log = logging.getLogger(__name__)

FORMAT = "casusoverleg-access-log-checkpoint/1"
PREFIX = "checkpoint-"


class CheckpointProblem(ValueError):
    """The latest checkpoint cannot be trusted (unreadable or badly signed)."""


@dataclass(frozen=True)
class Checkpoint:
    name: str
    created_at: datetime
    database: str
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)
    rows_checked: int = 0


def signing_key(secret: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(derived_key(secret, b"checkpoint signing v1"))


def public_key_hex(secret: str) -> str:
    return signing_key(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _payload(document: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in document.items() if k != "signature"}, sort_keys=True,
                      separators=(",", ":")).encode()


def write_checkpoint(folder: Path, checkpoint: Checkpoint, secret: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "format": FORMAT,
        "database": checkpoint.database,
        "created_at": checkpoint.created_at.astimezone(UTC).isoformat(),
        "heads": {str(chain): [seq, digest] for chain, (seq, digest) in sorted(checkpoint.heads.items())},
        "rows_checked": checkpoint.rows_checked,
        "public_key": public_key_hex(secret),
    }
    document["signature"] = signing_key(secret).sign(_payload(document)).hex()
    path = folder / checkpoint.name
    temporary = folder / f".{checkpoint.name}.tmp"
    with open(temporary, "x", encoding="utf-8") as out:
        json.dump(document, out, sort_keys=True, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)  # a reader sees a whole file or none
    return path


def read_checkpoint(path: Path, secret: str) -> Checkpoint:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex(secret)))
        public.verify(bytes.fromhex(document["signature"]), _payload(document))
        if document.get("format") != FORMAT:
            raise ValueError("unknown format")
        return Checkpoint(
            name=path.name,
            created_at=datetime.fromisoformat(document["created_at"]),
            database=str(document["database"]),
            heads={int(c): (int(s), str(h)) for c, (s, h) in document["heads"].items()},
            rows_checked=int(document.get("rows_checked", 0)),
        )
    except InvalidSignature:
        raise CheckpointProblem(
            f"The signature of checkpoint {path.name} does not verify: it was changed, or written "
            "with another AUDIT_CHAIN_KEY."
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointProblem(f"Checkpoint {path.name} cannot be read ({type(error).__name__}).") from None


def latest_checkpoint(folder: Path, database: str, secret: str) -> Checkpoint | None:
    """The newest checkpoint of this database in the folder (None: there is none yet)."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob(f"{PREFIX}*.json"), reverse=True):
        checkpoint = read_checkpoint(path, secret)
        if checkpoint.database == database:
            return checkpoint
    return None


async def database_name(session: AsyncSession) -> str:
    return str((await session.execute(sa.text("SELECT current_database()"))).scalar_one())


async def verify_against_checkpoint(
    session: AsyncSession,
    folder: Path,
    secret: str,
    *,
    from_seq: int | None = None,
    to_seq: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ChainReport:
    try:
        checkpoint = latest_checkpoint(folder, await database_name(session), secret)
    except CheckpointProblem as problem:
        return ChainReport(False, from_seq or 0, to_seq or 0, 0, None, str(problem))
    return await verify_chain(
        session, from_seq=from_seq, to_seq=to_seq, checkpoint=checkpoint, secret=secret, progress=progress
    )


class ChainBroken(RuntimeError):
    """Verification failed: no checkpoint is written over a broken log."""


async def publish_checkpoint(session: AsyncSession, folder: Path, secret: str) -> Path | None:
    """Verify the rows written since the latest checkpoint (against it) and write a new one with
    every chain's head. None when the log is still empty. Raises ChainBroken when the rows do
    not verify, so the job fails loudly instead of signing a changed log."""
    database = await database_name(session)
    previous = latest_checkpoint(folder, database, secret)
    if (await session.execute(sa.text("SELECT NOT EXISTS (SELECT 1 FROM access_log)"))).scalar() and (
        previous is None or not previous.heads
    ):
        return None
    from_seq = min((seq for seq, _h in previous.heads.values()), default=None) if previous else None
    report = await verify_chain(session, from_seq=from_seq, checkpoint=previous, secret=secret)
    if not report.ok:
        raise ChainBroken(f"access log broken at seq {report.first_broken_seq}: {report.problem}")
    heads = dict(previous.heads) if previous else {}
    heads.update(report.head_seqs or {})
    now = clock.now()
    name = f"{PREFIX}{now.astimezone(UTC):%Y%m%dT%H%M%S%fZ}.json"
    checkpoint = Checkpoint(name=name, created_at=now, database=database, heads=heads,
                            rows_checked=report.rows_checked)
    path = write_checkpoint(folder, checkpoint, secret)
    log.info("access-log checkpoint %s: %d chains, %d rows verified", name, len(heads), report.rows_checked)
    return path
