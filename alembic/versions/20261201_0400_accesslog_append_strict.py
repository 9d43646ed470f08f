"""accesslog append strict: access_log_append that fails instead of answering a moved head

Revision ID: events16_01
Revises: outcomes18_01
Create Date: 2026-12-01 04:00:00+00:00

access_log_append answers a chain head that moved under the caller by inserting nothing and
returning the actual head, so the caller can seal its rows again inside the same transaction.
A single partner event is stored by one statement in its own implicit transaction (the event,
its flag, the notification, the outbox rows and its log row: app/services/events/single.py);
there a moved head must undo the whole statement, or the event would commit without its log
row. access_log_append_strict raises SQLSTATE P7513 with the actual head as DETAIL instead; the
caller seals again on that head and repeats the statement. SECURITY INVOKER: it does nothing the
caller could not do by calling access_log_append itself.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "events16_01"
down_revision: str | Sequence[str] | None = "outcomes18_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRICT = r"""
CREATE FUNCTION access_log_append_strict(p_chain smallint, p_prev text, p_rows jsonb, p_hashes text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, public AS $$
DECLARE
    head text;
BEGIN
    head := access_log_append(p_chain, p_prev, p_rows, p_hashes);
    IF head IS NOT NULL THEN
        RAISE EXCEPTION 'the access log chain % moved', p_chain USING ERRCODE = 'P7513', DETAIL = head;
    END IF;
END
$$;
"""


def upgrade() -> None:
    op.execute(STRICT)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS access_log_append_strict(smallint, text, jsonb, text)")
