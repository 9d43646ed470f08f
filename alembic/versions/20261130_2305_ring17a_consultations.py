"""Consultations without a file (spreekuur, issue 17): an anonymous question to the conference or
the addiction care institution and its answer; no client column of any kind, only the link to a
referral when it was turned into one with consent.

Revision ID: ring17a_02
Revises: fhir18_01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = 'ring17a_02'
down_revision: str | Sequence[str] | None = 'fhir18_01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('consultation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('conference_id', sa.Uuid(), nullable=False),
    sa.Column('asked_by_id', sa.Uuid(), nullable=False),
    sa.Column('asking_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('addressee', sa.String(length=16), nullable=False),
    sa.Column('addressed_organisation_id', sa.Uuid(), nullable=True),
    sa.Column('question', sa.String(length=4000), nullable=False),
    sa.Column('situation', sa.String(length=4000), nullable=False),
    sa.Column('age_group', sa.String(length=16), nullable=True),
    sa.Column('substances', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('life_domains', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.String(length=4000), nullable=True),
    sa.Column('answered_by_id', sa.Uuid(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('referral_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['addressed_organisation_id'], ['organisation.id'], name=op.f('fk_consultation_addressed_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['membership.id'], name=op.f('fk_consultation_answered_by_id_membership')),
    sa.ForeignKeyConstraint(['asked_by_id'], ['membership.id'], name=op.f('fk_consultation_asked_by_id_membership')),
    sa.ForeignKeyConstraint(['asking_organisation_id'], ['organisation.id'], name=op.f('fk_consultation_asking_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_consultation_conference_id_conference')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_consultation_referral_id_referral')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation'))
    )
    op.create_index(op.f('ix_consultation_addressed_organisation_id'), 'consultation', ['addressed_organisation_id'], unique=False)
    op.create_index(op.f('ix_consultation_asked_by_id'), 'consultation', ['asked_by_id'], unique=False)
    op.create_index(op.f('ix_consultation_conference_id'), 'consultation', ['conference_id'], unique=False)
    op.create_index(op.f('ix_consultation_created_at'), 'consultation', ['created_at'], unique=False)
    op.create_index(op.f('ix_consultation_status'), 'consultation', ['status'], unique=False)


def downgrade() -> None:

    op.drop_index(op.f('ix_consultation_status'), table_name='consultation')
    op.drop_index(op.f('ix_consultation_created_at'), table_name='consultation')
    op.drop_index(op.f('ix_consultation_conference_id'), table_name='consultation')
    op.drop_index(op.f('ix_consultation_asked_by_id'), table_name='consultation')
    op.drop_index(op.f('ix_consultation_addressed_organisation_id'), table_name='consultation')
    op.drop_table('consultation')

