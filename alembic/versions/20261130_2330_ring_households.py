"""ring households: households with one coordinator, legal representatives and their signatures (issue 17)

Revision ID: ring17b_03
Revises: ring17a_02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ring17b_03'
down_revision: str | Sequence[str] | None = 'ring17a_02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('client_representative',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('conference_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('basis', sa.String(length=500), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_client_representative_client_id_client')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_client_representative_conference_id_conference')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['membership.id'], name=op.f('fk_client_representative_recorded_by_id_membership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_representative'))
    )
    op.create_index(op.f('ix_client_representative_client_id'), 'client_representative', ['client_id'], unique=False)
    op.create_table('household',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('conference_id', sa.Uuid(), nullable=False),
    sa.Column('coordinator_id', sa.Uuid(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_household_conference_id_conference')),
    sa.ForeignKeyConstraint(['coordinator_id'], ['membership.id'], name=op.f('fk_household_coordinator_id_membership')),
    sa.ForeignKeyConstraint(['created_by_id'], ['membership.id'], name=op.f('fk_household_created_by_id_membership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household'))
    )
    op.create_index(op.f('ix_household_conference_id'), 'household', ['conference_id'], unique=False)
    op.create_table('household_member',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_household_member_client_id_client')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_household_member_household_id_household')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_member')),
    sa.UniqueConstraint('client_id', name=op.f('uq_household_member_client_id'))
    )
    op.create_index(op.f('ix_household_member_household_id'), 'household_member', ['household_id'], unique=False)
    op.add_column('agreement_signature', sa.Column('representative_id', sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f('fk_agreement_signature_representative_id_client_representative'), 'agreement_signature', 'client_representative', ['representative_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_agreement_signature_representative_id_client_representative'), 'agreement_signature', type_='foreignkey')
    op.drop_column('agreement_signature', 'representative_id')
    op.drop_index(op.f('ix_household_member_household_id'), table_name='household_member')
    op.drop_table('household_member')
    op.drop_index(op.f('ix_household_conference_id'), table_name='household')
    op.drop_table('household')
    op.drop_index(op.f('ix_client_representative_client_id'), table_name='client_representative')
    op.drop_table('client_representative')
