"""audit: hash-chained access log, log anchors, anonymised cases

Revision ID: 0003_audit
Revises: 0004_events
Create Date: 2026-11-24 12:20:22.337700+00:00

The access log is chained in the database, so that no code path can write an unchained row:
a BEFORE INSERT trigger takes one of 16 chains (lanes) with a transaction-level advisory lock
(held until commit, so each chain follows commit order), gives the row the next seq (the column
has no default any more), and sets prev_hash (the row_hash of the chain's row with the highest
seq, or of the chain's last purge anchor, or 64 zeros) and row_hash = sha256(canonical text of
the row). The canonical text is documented and recomputed in
app/services/privacy/verify.py: each field as `<length>:<text>` (NULL as `~`), joined by `|`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003_audit'
down_revision: str | Sequence[str] | None = '0004_events'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAIN_FUNCTIONS = [r"""
CREATE OR REPLACE FUNCTION access_log_field(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL THEN '~' ELSE length(v)::text || ':' || v END
$$;
""", r"""
CREATE OR REPLACE FUNCTION access_log_canonical(r access_log) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT concat_ws('|',
        access_log_field(r.seq::text),
        access_log_field(r.chain::text),
        access_log_field(to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
        access_log_field(r.actor_issuer),
        access_log_field(r.actor_subject),
        access_log_field(r.actor_name),
        access_log_field(r.actor_kind),
        access_log_field(r.organisation_id::text),
        access_log_field(r.role),
        access_log_field(r.conference_id::text),
        access_log_field(r.client_number),
        access_log_field(r.case_id::text),
        access_log_field(r.resource_type),
        access_log_field(r.resource_id),
        access_log_field(r.action),
        access_log_field(r.part),
        access_log_field(r.basis),
        access_log_field(r.outcome),
        access_log_field(r.request_id),
        access_log_field(r.source_address),
        access_log_field(r.prev_hash))
$$;
""", r"""
CREATE OR REPLACE FUNCTION access_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    lanes constant integer := 16;
    lane integer := nullif(current_setting('casusoverleg.log_lane', true), '')::integer;
    candidate integer;
    previous text;
BEGIN
    IF lane IS NULL THEN
        -- Take a chain (lane) that no other open transaction holds, starting with this backend's
        -- own; the lock is held until commit, so each chain follows commit order, and up to 16
        -- transactions write the log at the same time (their commits can share one WAL flush).
        FOR i IN 0 .. lanes - 1 LOOP
            candidate := (pg_backend_pid() + i) % lanes;
            IF pg_try_advisory_xact_lock(7513, candidate) THEN
                lane := candidate;
                EXIT;
            END IF;
        END LOOP;
        IF lane IS NULL THEN
            lane := pg_backend_pid() % lanes;
            PERFORM pg_advisory_xact_lock(7513, lane);
        END IF;
        PERFORM set_config('casusoverleg.log_lane', lane::text, true);
    END IF;
    NEW.chain := lane;
    NEW.seq := nextval('access_log_seq_seq'::regclass);
    SELECT row_hash INTO previous FROM access_log WHERE chain = lane ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT row_hash INTO previous FROM access_log_anchor WHERE chain = lane ORDER BY anchored_seq DESC LIMIT 1;
        IF NOT FOUND THEN
            previous := repeat('0', 64);
        END IF;
    END IF;
    NEW.prev_hash := previous;
    NEW.row_hash := encode(sha256(convert_to(access_log_canonical(NEW), 'UTF8')), 'hex');
    RETURN NEW;
END
$$;
""", r"""
CREATE TRIGGER access_log_chain BEFORE INSERT ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_chain()
"""]


def upgrade() -> None:
    op.create_table('access_log_anchor',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('chain', sa.SmallInteger(), nullable=False),
    sa.Column('anchored_seq', sa.BigInteger(), nullable=False),
    sa.Column('row_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rows_removed', sa.Integer(), nullable=False),
    sa.Column('removed_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log_anchor'))
    )
    op.create_index(op.f('ix_access_log_anchor_anchored_seq'), 'access_log_anchor', ['anchored_seq'], unique=False)
    op.create_table('anonymised_case',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('conference_id', sa.Uuid(), nullable=False),
    sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_anonymised_case_case_id_case')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_anonymised_case_conference_id_conference')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_anonymised_case'))
    )
    op.create_index(op.f('ix_anonymised_case_conference_id'), 'anonymised_case', ['conference_id'], unique=False)
    op.add_column('access_log', sa.Column('chain', sa.SmallInteger(), server_default='0', nullable=False))
    op.create_index('ix_access_log_conference_time', 'access_log', ['conference_id', 'occurred_at'], unique=False)
    op.create_index('ix_access_log_chain_seq', 'access_log', ['chain', 'seq'], unique=False)
    for statement in CHAIN_FUNCTIONS:
        op.execute(statement)
    # The trigger alone hands out seq (under the lock), so seq order is chain order.
    op.execute("ALTER TABLE access_log ALTER COLUMN seq DROP DEFAULT")


def downgrade() -> None:
    op.execute("ALTER TABLE access_log ALTER COLUMN seq SET DEFAULT nextval('access_log_seq_seq'::regclass)")
    op.execute("DROP TRIGGER IF EXISTS access_log_chain ON access_log")
    op.execute("DROP FUNCTION IF EXISTS access_log_chain()")
    op.execute("DROP FUNCTION IF EXISTS access_log_canonical(access_log)")
    op.execute("DROP FUNCTION IF EXISTS access_log_field(text)")
    op.drop_index('ix_access_log_chain_seq', table_name='access_log')
    op.drop_index('ix_access_log_conference_time', table_name='access_log')
    op.drop_column('access_log', 'chain')
    op.drop_index(op.f('ix_anonymised_case_conference_id'), table_name='anonymised_case')
    op.drop_table('anonymised_case')
    op.drop_index(op.f('ix_access_log_anchor_anchored_seq'), table_name='access_log_anchor')
    op.drop_table('access_log_anchor')
