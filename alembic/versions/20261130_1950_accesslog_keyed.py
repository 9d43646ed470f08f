"""accesslog keyed: the access log's chain keyed by the application, appended one statement per transaction

Revision ID: 0011_accesslog_keyed
Revises: 0008_faults_jobs
Create Date: 2026-11-30 19:50:00+00:00

Until now the database chained every row itself (trigger `access_log_chain`, 0003_audit) with an
unkeyed sha256, so its owner could change a row and recompute the chain with the database's own
function. From here the application computes row_hash as an HMAC under AUDIT_CHAIN_KEY, which the
database never sees (app/audit.py), and appends all rows of a transaction with one call of
`access_log_append` (SECURITY DEFINER; the application role may no longer INSERT into the table,
alembic/env.py): it locks the chain until commit, checks that the chain's head is the one the rows
were sealed on, and inserts them from arrays (unnest) with consecutive seq. `access_log_claim`
gives a database connection a chain of its own (a session-level advisory lock), so the
application can keep the head and needs one round trip per transaction.

Upgrade checks the old chain first (refuses when it is broken: investigate before sealing it
anew), then seals every existing row with the key (in chain order, from its anchor) and keys the
purge anchors. Downgrade restores the unkeyed chain and its trigger.
"""

import hashlib
import hmac
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0011_accesslog_keyed"
down_revision: str | Sequence[str] | None = "0008_faults_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LANES = 64  # app/audit.py LANES

COLUMNS = (
    "occurred_at", "actor_issuer", "actor_subject", "actor_name", "actor_kind", "organisation_id", "role",
    "conference_id", "client_number", "case_id", "resource_type", "resource_id", "action", "part", "basis",
    "outcome", "request_id", "source_address",
)
TYPES = {"occurred_at": "timestamptz", "organisation_id": "uuid", "conference_id": "uuid", "case_id": "uuid"}


def _old_functions() -> list[str]:
    """The unkeyed chain of 0003_audit (canonical text, trigger function, trigger)."""
    path = Path(__file__).with_name("20261124_1220_audit.py")
    spec = importlib.util.spec_from_file_location("_audit_0003", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.CHAIN_FUNCTIONS)


HEAD = r"""
CREATE FUNCTION access_log_head(p_chain integer) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    head text;
BEGIN
    SELECT row_hash INTO head FROM access_log WHERE chain = p_chain ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT row_hash INTO head FROM access_log_anchor WHERE chain = p_chain ORDER BY anchored_seq DESC LIMIT 1;
        IF NOT FOUND THEN
            head := repeat('0', 64);
        END IF;
    END IF;
    RETURN head;
END
$$;
"""

CLAIM = rf"""
CREATE FUNCTION access_log_claim(OUT lane smallint, OUT head text, OUT claimed boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    candidate integer;
BEGIN
    -- A chain of its own for this database connection while it lives (session-level lock
    -- 7514); the appends themselves lock the chain per transaction (7513), as the purge does.
    claimed := false;
    FOR i IN 0 .. {LANES} - 1 LOOP
        candidate := (pg_backend_pid() + i) % {LANES};
        IF pg_try_advisory_lock(7514, candidate) THEN
            lane := candidate;
            claimed := true;
            EXIT;
        END IF;
    END LOOP;
    IF lane IS NULL THEN
        lane := pg_backend_pid() % {LANES};  -- all taken: share one; the head check keeps it sound
    END IF;
    head := access_log_head(lane);
END
$$;
"""

_PARAMS = ", ".join(f"p_{c} {TYPES.get(c, 'text')}[]" for c in COLUMNS)
_INTO = ", ".join(COLUMNS)
_FROM = ", ".join(f"p_{c}" for c in COLUMNS)
_SELECT = ", ".join(f"u.{c}" for c in COLUMNS)
APPEND = rf"""
CREATE FUNCTION access_log_append(p_chain smallint, p_prev text, {_PARAMS}, p_row_hash text[])
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    head text;
BEGIN
    IF p_chain < 0 OR p_chain >= {LANES} THEN
        RAISE EXCEPTION 'no such access-log chain: %', p_chain;
    END IF;
    -- Held until commit: each chain follows commit order, and its head cannot move under us.
    PERFORM pg_advisory_xact_lock(7513, p_chain);
    head := access_log_head(p_chain);
    IF p_prev IS DISTINCT FROM head THEN
        RETURN head;  -- sealed on a stale head: nothing inserted, seal again on this one
    END IF;
    INSERT INTO access_log (seq, chain, {_INTO}, prev_hash, row_hash)
    SELECT nextval('access_log_seq_seq'::regclass), p_chain, {_SELECT},
           coalesce(lag(u.row_hash) OVER (ORDER BY u.n), p_prev), u.row_hash
    FROM unnest({_FROM}, p_row_hash) WITH ORDINALITY AS u({_INTO}, row_hash, n)
    ORDER BY u.n;
    RETURN NULL;
END
$$;
"""

APPEND_SIGNATURE = (
    "access_log_append(smallint, text, " + ", ".join(f"{TYPES.get(c, 'text')}[]" for c in COLUMNS) + ", text[])"
)

BROKEN_OLD_CHAIN = """
SELECT seq FROM (
    SELECT l.seq, l.chain, l.prev_hash, l.row_hash,
           encode(sha256(convert_to(access_log_canonical(l), 'UTF8')), 'hex') AS computed,
           lag(l.row_hash) OVER (PARTITION BY l.chain ORDER BY l.seq) AS before
    FROM access_log l
) x
WHERE x.computed IS DISTINCT FROM x.row_hash
   OR x.prev_hash IS DISTINCT FROM coalesce(
        x.before,
        (SELECT a.row_hash FROM access_log_anchor a WHERE a.chain = x.chain ORDER BY a.anchored_seq DESC LIMIT 1),
        repeat('0', 64))
ORDER BY seq LIMIT 1
"""


def _seal_existing_rows(bind: sa.engine.Connection) -> None:
    from app.audit import GENESIS, chain_secret, row_hash, row_key
    from app.services.privacy.verify import anchor_mac

    key = row_key(chain_secret())
    anchors = bind.execute(
        sa.text("SELECT id, chain, anchored_seq, row_hash, removed_before FROM access_log_anchor ORDER BY id")
    ).mappings().all()
    newest: dict[int, str] = {}
    for anchor in anchors:
        newest[anchor["chain"]] = anchor["row_hash"]
        bind.execute(
            sa.text("UPDATE access_log_anchor SET mac = :mac WHERE id = :id"),
            {"mac": anchor_mac(anchor, chain_secret()), "id": anchor["id"]},
        )
    chains = [c for (c,) in bind.execute(sa.text("SELECT DISTINCT chain FROM access_log ORDER BY chain"))]
    for chain in chains:
        prev = newest.get(chain, GENESIS)
        after = -1
        while True:
            rows = bind.execute(
                sa.text("SELECT * FROM access_log WHERE chain = :c AND seq > :after ORDER BY seq LIMIT 5000"),
                {"c": chain, "after": after},
            ).mappings().all()
            if not rows:
                break
            updates = []
            for row in rows:
                values = dict(row)
                values["prev_hash"] = prev
                prev = row_hash(values, key)
                updates.append({"seq": row["seq"], "prev": values["prev_hash"], "hash": prev})
            bind.execute(sa.text("UPDATE access_log SET prev_hash = :prev, row_hash = :hash WHERE seq = :seq"), updates)
            after = rows[-1]["seq"]


def upgrade() -> None:
    bind = op.get_bind()
    broken = bind.execute(sa.text(BROKEN_OLD_CHAIN)).scalar()
    if broken is not None:
        raise RuntimeError(
            f"the access log's chain is broken at seq {broken}: run `casusoverleg audit verify` and "
            "investigate before this migration seals the log with the key"
        )
    op.execute("DROP TRIGGER IF EXISTS access_log_chain ON access_log")
    op.execute("DROP FUNCTION IF EXISTS access_log_chain()")
    op.execute(HEAD)
    op.execute(CLAIM)
    op.execute(APPEND)
    for function in ("access_log_head(integer)", "access_log_claim()", APPEND_SIGNATURE):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
    op.add_column("access_log_anchor", sa.Column("mac", sa.String(length=64), nullable=True))
    _seal_existing_rows(bind)


RECHAIN_UNKEYED = r"""
DO $$
DECLARE
    r access_log;
    prev text;
    current_chain integer := -1;
BEGIN
    FOR r IN SELECT * FROM access_log ORDER BY chain, seq LOOP
        IF r.chain <> current_chain THEN
            current_chain := r.chain;
            SELECT row_hash INTO prev FROM access_log_anchor WHERE chain = r.chain ORDER BY anchored_seq DESC LIMIT 1;
            IF NOT FOUND THEN
                prev := repeat('0', 64);
            END IF;
        END IF;
        r.prev_hash := prev;
        prev := encode(sha256(convert_to(access_log_canonical(r), 'UTF8')), 'hex');
        UPDATE access_log SET prev_hash = r.prev_hash, row_hash = prev WHERE seq = r.seq;
    END LOOP;
END
$$;
"""


def downgrade() -> None:
    old = _old_functions()
    op.execute(f"DROP FUNCTION IF EXISTS {APPEND_SIGNATURE}")
    op.execute("DROP FUNCTION IF EXISTS access_log_claim()")
    op.execute("DROP FUNCTION IF EXISTS access_log_head(integer)")
    op.drop_column("access_log_anchor", "mac")
    op.execute(RECHAIN_UNKEYED)
    op.execute(old[2])  # the trigger function
    op.execute(old[3])  # the trigger
