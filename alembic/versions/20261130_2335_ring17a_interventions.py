"""Interventions (issue 17): an organisation's catalogue of standard interventions, and the
intervention an action was created from.

Revision ID: ring17a_03
Revises: webshell_01
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = 'ring17a_03'
down_revision: str | Sequence[str] | None = 'webshell_01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('intervention',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('life_domain', sa.String(length=32), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_intervention_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intervention'))
    )
    op.create_index(op.f('ix_intervention_organisation_id'), 'intervention', ['organisation_id'], unique=False)
    op.add_column('action', sa.Column('intervention_id', sa.Uuid(), nullable=True))
    op.create_index(op.f('ix_action_intervention_id'), 'action', ['intervention_id'], unique=False)
    op.create_foreign_key(op.f('fk_action_intervention_id_intervention'), 'action', 'intervention', ['intervention_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_action_intervention_id_intervention'), 'action', type_='foreignkey')
    op.drop_index(op.f('ix_action_intervention_id'), table_name='action')
    op.drop_column('action', 'intervention_id')
    op.drop_index(op.f('ix_intervention_organisation_id'), table_name='intervention')
    op.drop_table('intervention')
