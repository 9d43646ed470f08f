"""ring aftercare reports: the neighbourhood team reports during an aftercare watch, addiction care answers (issue 17)

Revision ID: ring17b_02
Revises: ring17a_01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ring17b_02'
down_revision: str | Sequence[str] | None = 'ring17a_01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('aftercare_report',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('conference_id', sa.Uuid(), nullable=False),
    sa.Column('watch_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('reported_by_id', sa.Uuid(), nullable=True),
    sa.Column('partner_event_id', sa.Uuid(), nullable=True),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reply', sa.String(length=2000), nullable=True),
    sa.Column('reply_organisation_id', sa.Uuid(), nullable=True),
    sa.Column('replied_by_id', sa.Uuid(), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_aftercare_report_case_id_case')),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], name=op.f('fk_aftercare_report_conference_id_conference')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_aftercare_report_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['partner_event_id'], ['partner_event.id'], name=op.f('fk_aftercare_report_partner_event_id_partner_event')),
    sa.ForeignKeyConstraint(['replied_by_id'], ['membership.id'], name=op.f('fk_aftercare_report_replied_by_id_membership')),
    sa.ForeignKeyConstraint(['reply_organisation_id'], ['organisation.id'], name=op.f('fk_aftercare_report_reply_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['membership.id'], name=op.f('fk_aftercare_report_reported_by_id_membership')),
    sa.ForeignKeyConstraint(['watch_id'], ['aftercare_watch.id'], name=op.f('fk_aftercare_report_watch_id_aftercare_watch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftercare_report'))
    )
    op.create_index(op.f('ix_aftercare_report_case_id'), 'aftercare_report', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_aftercare_report_case_id'), table_name='aftercare_report')
    op.drop_table('aftercare_report')
