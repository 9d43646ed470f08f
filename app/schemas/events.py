from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.schemas.common import Strict

OutboundType = Literal[
    "case.phase_changed", "case.flagged", "action.created", "agenda.published", "decisions.published",
    "aftercare.relapse", "aftercare.report", "aftercare.reply", "client.corrected",
]


PayloadShape = Literal["standard-webhooks", "zgw-notificaties"]


class SubscriptionCreate(Strict):
    url: str = Field(min_length=8, max_length=2000)
    event_types: list[OutboundType] = Field(min_length=1, max_length=10)
    secret: str | None = Field(
        default=None,
        max_length=200,
        description="whsec_ + base64 of 24-64 random bytes; generated when absent.",
    )
    payload_shape: PayloadShape = Field(
        default="standard-webhooks",
        description="standard-webhooks: {type, timestamp, data}; zgw-notificaties: the VNG ZGW Notificaties "
        "shape (kanaal, hoofdObject, resource, resourceUrl, actie, aanmaakdatum, kenmerken). Both id-only, "
        "both signed per Standard Webhooks.",
    )


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    payload_shape: PayloadShape = "standard-webhooks"
    active: bool
    disabled_reason: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="Shown once: keep it to verify the webhook-signature header.")


class DeadLetterOut(BaseModel):
    id: uuid.UUID
    webhook_id: str
    subscription_id: uuid.UUID
    type: str
    attempts: int
    created_at: datetime
    dead_at: datetime | None
    last_status: int | None
    last_error: str | None


class EventReceipt(BaseModel):
    id: str
    source: str
    event: uuid.UUID
    received_at: datetime


class EventBatchReceipt(BaseModel):
    receipts: list[EventReceipt]


class TimelineItem(BaseModel):
    id: uuid.UUID
    occurred_at: datetime
    label: str | None
    hidden: bool
    type: str | None
    severity: str | None
    organisation_id: uuid.UUID | None
    data: dict[str, Any] | None
    received_at: datetime | None
    basis: str | None = None


class PeriodCount(BaseModel):
    period: str
    relapses: int
    lapses: int


class RelapseHistory(BaseModel):
    items: list[TimelineItem]
    restricted: bool = Field(description="True when relapse information of this case is health information "
                             "you may not see: the figures then count nothing, whether or not there is any.")
    total_relapses: int
    total_lapses: int
    last_relapse_at: datetime | None
    days_since_last_relapse: int | None
    last_lapse_at: datetime | None
    per_month: list[PeriodCount]
    per_quarter: list[PeriodCount]


class FlagOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: str | None
    reason: str | None
    label: str | None
    severity: str | None
    created_at: datetime
    hidden: bool
    count: int | None = Field(default=None, description="How many signals of this kind folded into the flag.")
    last_seen_at: datetime | None = None


class SnoozeCreate(Strict):
    kind: str = Field(min_length=1, max_length=32, description="A flag-raising kind of signal, e.g. missed_appointment.")
    until: date = Field(description="The last day on which such signals are held back.")
    reason: str = Field(min_length=1, max_length=500)


class SnoozeOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: str
    until: date
    reason: str
    created_by_id: uuid.UUID
    created_at: datetime
    active: bool
    ended_at: datetime | None = None
    ended_reason: str | None = None


