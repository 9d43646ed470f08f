"""known elsewhere: hit/no-hit questions between participating conferences (issue 18)

A participation flag per conference, the asking side's question (who, why, hit or not) and the
answering side's record of a hit (its own client). No BSN and no BSN hash is stored.

Revision ID: fhir18_01
Revises: ring17b_02
Create Date: 2026-11-30 22:52:17.865605+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'fhir18_01'
down_revision: str | Sequence[str] | None = 'ring17b_02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('known_elsewhere_question',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('conference_id', sa.Uuid(), nullable=False),
    sa.Column('asked_by_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('known', sa.Boolean(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asked_by_id'], ['membership.id'], name=op.f('fk_known_elsewhere_question_asked_by_id_membership')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_known_elsewhere_question_conference_id_conference')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_known_elsewhere_question'))
    )
    op.create_index(op.f('ix_known_elsewhere_question_conference_id'), 'known_elsewhere_question', ['conference_id'], unique=False)
    op.create_table('known_elsewhere_answer',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('question_id', sa.Uuid(), nullable=False),
    sa.Column('conference_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_known_elsewhere_answer_client_id_client')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_known_elsewhere_answer_conference_id_conference')),
    sa.ForeignKeyConstraint(['question_id'], ['known_elsewhere_question.id'], name=op.f('fk_known_elsewhere_answer_question_id_known_elsewhere_question')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_known_elsewhere_answer'))
    )
    op.create_index(op.f('ix_known_elsewhere_answer_conference_id'), 'known_elsewhere_answer', ['conference_id'], unique=False)
    op.create_index(op.f('ix_known_elsewhere_answer_question_id'), 'known_elsewhere_answer', ['question_id'], unique=False)
    op.add_column('conference', sa.Column('known_elsewhere', sa.Boolean(), server_default='false', nullable=False))


def downgrade() -> None:
    op.drop_column('conference', 'known_elsewhere')
    op.drop_index(op.f('ix_known_elsewhere_answer_question_id'), table_name='known_elsewhere_answer')
    op.drop_index(op.f('ix_known_elsewhere_answer_conference_id'), table_name='known_elsewhere_answer')
    op.drop_table('known_elsewhere_answer')
    op.drop_index(op.f('ix_known_elsewhere_question_conference_id'), table_name='known_elsewhere_question')
    op.drop_table('known_elsewhere_question')
