"""accesslog json: access_log_append takes the rows as the JSON array of their canonical texts

Revision ID: 0011_accesslog_json
Revises: 0015_perf_case_list_index
Create Date: 2026-11-30 21:00:00+00:00

0011_accesslog_keyed passed the rows as 18 typed arrays; asyncpg checks every array element
against the Sequence ABC before encoding it (about 1 ms of the application's CPU for 50 rows).
The application already builds each row's canonical text, the JSON array of its values
(app/audit.py canonical_bytes), to hash it; it now sends those texts as one JSON array, and the
row hashes as one comma-separated text, so what is stored is exactly what was hashed. Downgrade
restores the array version.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_accesslog_json"
down_revision: str | Sequence[str] | None = "0015_perf_case_list_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LANES = 64
# Positions in the canonical JSON array (app/audit.py CHAINED_COLUMNS): 0 chain, 1..18 values, 19 prev_hash.
VALUES = (
    ("occurred_at", "timestamptz"), ("actor_issuer", None), ("actor_subject", None), ("actor_name", None),
    ("actor_kind", None), ("organisation_id", "uuid"), ("role", None), ("conference_id", "uuid"),
    ("client_number", None), ("case_id", "uuid"), ("resource_type", None), ("resource_id", None),
    ("action", None), ("part", None), ("basis", None), ("outcome", None), ("request_id", None),
    ("source_address", None),
)
_INTO = ", ".join(name for name, _type in VALUES)
_SELECT = ", ".join(
    f"(e.v ->> {i})::{cast}" if cast else f"e.v ->> {i}" for i, (_name, cast) in enumerate(VALUES, start=1)
)

APPEND = rf"""
CREATE FUNCTION access_log_append(p_chain smallint, p_prev text, p_rows jsonb, p_hashes text)
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
    SELECT nextval('access_log_seq_seq'::regclass), p_chain, {_SELECT}, e.v ->> 19, h.row_hash
    FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS e(v, n)
    JOIN unnest(string_to_array(p_hashes, ',')) WITH ORDINALITY AS h(row_hash, n) ON h.n = e.n
    ORDER BY e.n;
    RETURN NULL;
END
$$;
"""
SIGNATURE = "access_log_append(smallint, text, jsonb, text)"


def _keyed_migration():  # the array version, for the downgrade
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("20261130_1950_accesslog_keyed.py")
    spec = importlib.util.spec_from_file_location("_accesslog_keyed", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    old = _keyed_migration()
    op.execute(f"DROP FUNCTION IF EXISTS {old.APPEND_SIGNATURE}")
    op.execute(APPEND)
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    old = _keyed_migration()
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.execute(old.APPEND)
    op.execute(f"REVOKE ALL ON FUNCTION {old.APPEND_SIGNATURE} FROM PUBLIC")
