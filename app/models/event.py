"""Partner events (signalen) pushed by partner systems, what they set in motion (case flags,
aftercare watches, notifications), and the outbound side: webhook subscriptions and the outbox."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import StateColumn, id_field, json_field, text_array_field, ts_field
from app.models.enums import AftercareReportKind


class PartnerEvent(SQLModel, table=True):
    """One CloudEvent as received. `occurred_at` is the event's own time (CloudEvents `time`);
    timelines and 'time since' figures use it, never the arrival time."""

    __tablename__ = "partner_event"
    __table_args__ = (
        # Idempotency key. Scoped to the sending organisation so that one partner cannot claim
        # (and so block or probe) another partner's event ids by reusing its `source`.
        sa.UniqueConstraint("organisation_id", "source", "event_id", name="uq_partner_event_origin"),
        sa.Index("ix_partner_event_case_time", "case_id", "occurred_at"),
        sa.Index("ix_partner_event_client_type_time", "client_id", "type", "occurred_at"),
    )

    id: uuid.UUID = id_field()
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    partner_system_id: uuid.UUID | None = Field(default=None, foreign_key="partner_system.id")
    source: str = Field(max_length=256)
    event_id: str = Field(max_length=128)
    type: str = Field(max_length=32)  # short name: relapse, police_contact, ...
    subject_reference: str = Field(max_length=128)
    client_id: uuid.UUID = Field(foreign_key="client.id")
    case_id: uuid.UUID | None = Field(default=None, foreign_key="case.id")
    occurred_at: datetime = ts_field(default_now=False)
    received_at: datetime = ts_field()
    label: str = Field(max_length=16)
    severity: str = Field(max_length=16)
    data: dict = json_field()
    payload_hash: str = Field(max_length=64)


class CaseFlag(SQLModel, table=True):
    """A case put forward for the next meeting's agenda. The meetings module reads the open ones
    (cleared_at is null) and clears them once discussed."""

    __tablename__ = "case_flag"
    __table_args__ = (
        sa.Index("ix_case_flag_case_time", "case_id", "created_at"),  # the agenda's range scan
        # One open flag per kind and case: concurrent events insert with ON CONFLICT DO NOTHING.
        sa.Index(
            "uq_case_flag_open", "case_id", "kind", unique=True,
            postgresql_where=sa.text("cleared_at IS NULL"),
        ),
    )

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id")
    kind: str = Field(max_length=32)  # the event type that raised it
    reason: str = Field(max_length=200)
    label: str = Field(default="general", max_length=16)
    severity: str = Field(default="high", max_length=16)
    source_event_id: uuid.UUID | None = Field(default=None, foreign_key="partner_event.id")
    created_at: datetime = ts_field()
    cleared_at: datetime | None = ts_field(nullable=True, default_now=False)
    # Repeats of the same kind fold into the open flag (as incident tools fold alerts): how many
    # signals it stands for, the event time of the latest, and when the case director was last
    # told (a repeat beyond `events_fold_window_hours` of that tells them again).
    count: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    last_seen_at: datetime | None = ts_field(nullable=True, default_now=False)
    notified_at: datetime | None = ts_field(nullable=True, default_now=False)


class SignalSnooze(SQLModel, table=True):
    """The case director holds back one kind of signal for a case until a date, with a reason:
    such events go on the timeline but raise no flag and notify no one. A critical event (an
    overdose) is never held back and ends every snooze of the case."""

    __tablename__ = "signal_snooze"
    __table_args__ = (
        sa.Index("uq_signal_snooze_active", "case_id", "kind", unique=True,
                 postgresql_where=sa.text("ended_at IS NULL")),
    )

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    kind: str = Field(max_length=32)
    until: date
    reason: str = Field(max_length=500)
    created_by_id: uuid.UUID = Field(foreign_key="membership.id")
    created_at: datetime = ts_field()
    ended_at: datetime | None = ts_field(nullable=True, default_now=False)
    ended_reason: str | None = Field(default=None, max_length=16)  # lifted / expired / broken
    broken_by_event_id: uuid.UUID | None = Field(default=None, foreign_key="partner_event.id")


class AftercareWatch(SQLModel, table=True):
    """After a completed treatment, with the client's consent, the neighbourhood team keeps an
    eye on things for a while: a relapse in this window reaches them too."""

    __tablename__ = "aftercare_watch"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    client_id: uuid.UUID = Field(foreign_key="client.id")
    started_at: datetime = ts_field(default_now=False)
    ends_at: datetime = ts_field(default_now=False)
    source_event_id: uuid.UUID | None = Field(default=None, foreign_key="partner_event.id")
    created_at: datetime = ts_field()


class Subscription(SQLModel, table=True):
    """A partner system's webhook endpoint and the notification types it wants."""

    __tablename__ = "webhook_subscription"

    id: uuid.UUID = id_field()
    partner_system_id: uuid.UUID = Field(foreign_key="partner_system.id", index=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    url: str = Field(max_length=2000)
    event_types: list[str] = text_array_field()
    # The body's shape: standard-webhooks or zgw-notificaties (app/events/shapes.py).
    payload_shape: str = Field(
        default="standard-webhooks", max_length=24, sa_column_kwargs={"server_default": "standard-webhooks"}
    )
    # The Standard Webhooks secret ("whsec_" + base64), sealed at rest (app/crypto.py).
    secret: str = Field(max_length=400)
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = ts_field()
    deleted_at: datetime | None = ts_field(nullable=True, default_now=False)


class OutboxMessage(SQLModel, table=True):
    """One notification to one subscription, written in the transaction of the change it tells
    about. The delivery worker claims due rows with FOR UPDATE SKIP LOCKED."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.Index(
            "ix_outbox_message_due",
            "next_attempt_at",
            postgresql_where=sa.text("delivered_at IS NULL AND dead_at IS NULL"),
        ),
    )

    id: uuid.UUID = id_field()
    subscription_id: uuid.UUID = Field(foreign_key="webhook_subscription.id", index=True)
    type: str = Field(max_length=64)
    payload: dict = json_field()
    created_at: datetime = ts_field()
    next_attempt_at: datetime = ts_field()
    attempts: int = 0
    delivered_at: datetime | None = ts_field(nullable=True, default_now=False)
    dead_at: datetime | None = ts_field(nullable=True, default_now=False)
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)


class AftercareReport(SQLModel, table=True):
    """What the neighbourhood team reports to the addiction care institution during an aftercare
    watch (worry, a missed contact, a suspected relapse), through the web client or as a partner
    event, and the institution's answer (issue 17). The report is owned by the reporting
    organisation and carries the label of its kind; the answer is health information of the
    institution, which the nazorg agreement shares with the neighbourhood team."""

    __tablename__ = "aftercare_report"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    conference_id: uuid.UUID = Field(foreign_key="conference.id")
    watch_id: uuid.UUID = Field(foreign_key="aftercare_watch.id")
    kind: AftercareReportKind = Field(default=AftercareReportKind.worry,
                                      sa_type=StateColumn(AftercareReportKind, 24), nullable=False)
    label: str = Field(default="general", max_length=16)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    reported_by_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id")  # None: a partner system
    partner_event_id: uuid.UUID | None = Field(default=None, foreign_key="partner_event.id")
    observed_on: date
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = ts_field()
    reply: str | None = Field(default=None, max_length=2000)
    reply_organisation_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id")
    replied_by_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id")
    replied_at: datetime | None = ts_field(nullable=True, default_now=False)
