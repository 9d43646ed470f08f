"""auth notify: organisation, membership, partner_system and organisation_admin changes notify every replica

Each replica caches validated tokens and their principals (app/auth/cache.py) and LISTENs on
this channel; a statement-level trigger notifies on commit of any change, TRUNCATE included.

Revision ID: 0015_perf_auth_notify
Revises: 0008_faults_agreements
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_perf_auth_notify"
down_revision: str | Sequence[str] | None = "0008_faults_agreements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "casusoverleg_auth_changed"  # app.auth.cache.AUTH_CHANNEL
TABLES = ("organisation", "membership", "partner_system", "organisation_admin")  # app.auth.cache.AUTH_TABLES


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION notify_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_auth_changed ON {table}")
    op.execute("DROP FUNCTION notify_auth_changed()")
