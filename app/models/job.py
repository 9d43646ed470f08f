"""Scheduled work: one row per claimed job slot (exactly once across replicas), and the
notifications that jobs produce (reminders and expiry warnings; ids and dates, no client data)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, ts_field


class JobRun(SQLModel, table=True):
    """One claim of a job slot. At most one claim per slot that is not abandoned (a partial unique
    index): a run whose process died, or whose database went away, is marked abandoned and the
    slot can be claimed again (app/jobs/runner.py)."""

    __tablename__ = "job_run"
    __table_args__ = (
        sa.Index(
            "uq_job_run_slot", "job_id", "slot", unique=True,
            postgresql_where=sa.text("outcome <> 'abandoned'"),
        ),
    )

    id: uuid.UUID = id_field()
    job_id: str = Field(max_length=64)
    slot: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    instance: str = Field(max_length=128)
    started_at: datetime = ts_field()
    finished_at: datetime | None = ts_field(nullable=True, default_now=False)
    # The running process updates this while the job runs; a run without a recent heartbeat is
    # abandoned by the next catch-up on any replica.
    heartbeat_at: datetime | None = ts_field(nullable=True, default_now=False)
    outcome: str = Field(default="running", max_length=16)  # running / ok / failed / skipped / abandoned
    result: dict = json_field()


class Notification(SQLModel, table=True):
    """Something the service tells an organisation or one member: a reminder or warning from the
    scheduled jobs, or a case flagged by a partner event. Ids and dates only, never client data; at
    most one per kind, subject, day and addressee."""

    __tablename__ = "notification"
    __table_args__ = (
        sa.UniqueConstraint(
            "kind", "ref_id", "on_date", "organisation_id", "membership_id",
            name="uq_notification_once", postgresql_nulls_not_distinct=True,
        ),
        sa.Index("ix_notification_membership", "membership_id", "on_date"),
    )

    id: uuid.UUID = id_field()
    kind: str = Field(
        max_length=32
    )  # action_due_soon / action_overdue / mandate_expiring / agreement_expiring
    conference_id: uuid.UUID | None = Field(default=None, foreign_key="conference.id", index=True)
    organisation_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id", index=True)
    membership_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id")
    ref_type: str = Field(max_length=32)
    ref_id: uuid.UUID
    on_date: date
    due_on: date | None = None
    created_at: datetime = ts_field()
    read_at: datetime | None = ts_field(nullable=True, default_now=False)


class NotificationRead(SQLModel, table=True):
    """That one person (issuer and subject, across their memberships) has read a notification: an
    organisation's reminder reaches all its people, and each marks it read for themselves."""

    __tablename__ = "notification_read"

    notification_id: uuid.UUID = Field(
        sa_column=sa.Column(sa.Uuid(), sa.ForeignKey("notification.id", ondelete="CASCADE"), primary_key=True)
    )
    issuer: str = Field(primary_key=True, max_length=500)
    subject: str = Field(primary_key=True, max_length=255)
    read_at: datetime = ts_field()
