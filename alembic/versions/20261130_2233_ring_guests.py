"""ring guests: invitations of guests, peer supporters and buddies to one case (issue 17)

A change of an invitation notifies every replica like a membership change (the principal cache,
app/auth/cache.py AUTH_TABLES), so a new or revoked invitation takes effect at once.

Revision ID: ring17b_01
Revises: client21_02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ring17b_01'
down_revision: str | Sequence[str] | None = 'client21_02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('guest_invitation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('conference_id', sa.Uuid(), nullable=False),
    sa.Column('agenda_item_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('consent_agreement_id', sa.Uuid(), nullable=True),
    sa.Column('invited_by_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expiry_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_item.id'], name=op.f('fk_guest_invitation_agenda_item_id_agenda_item')),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_guest_invitation_case_id_case')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_guest_invitation_conference_id_conference')),
    sa.ForeignKeyConstraint(['consent_agreement_id'], ['agreement.id'], name=op.f('fk_guest_invitation_consent_agreement_id_agreement')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['membership.id'], name=op.f('fk_guest_invitation_invited_by_id_membership')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_guest_invitation_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guest_invitation'))
    )
    op.create_index(op.f('ix_guest_invitation_case_id'), 'guest_invitation', ['case_id'], unique=False)
    op.create_index('ix_guest_invitation_person', 'guest_invitation', ['organisation_id', 'issuer', 'subject'], unique=False)
    op.execute(
        "CREATE TRIGGER guest_invitation_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        "ON guest_invitation FOR EACH STATEMENT EXECUTE FUNCTION notify_auth_changed()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER guest_invitation_auth_changed ON guest_invitation")
    op.drop_index('ix_guest_invitation_person', table_name='guest_invitation')
    op.drop_index(op.f('ix_guest_invitation_case_id'), table_name='guest_invitation')
    op.drop_table('guest_invitation')
