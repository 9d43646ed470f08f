"""Households and legal representatives (issue 17): clients of one household share one plan
coordinator (één gezin, één plan, één regisseur); a client may have a legal representative
(curator, mentor, parent or guardian) recorded with the basis of the representation, who signs
agreements instead of or beside the client. Agreements of a minor need a parent's or guardian's
signature (app/services/agreements/lifecycle.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Field, SQLModel

from app.models.base import id_field, state_field, ts_field
from app.models.enums import HouseholdRelation, RepresentativeKind


class Household(SQLModel, table=True):
    __tablename__ = "household"

    id: uuid.UUID = id_field()
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    coordinator_id: uuid.UUID = Field(foreign_key="membership.id")  # the one plan coordinator (regisseur)
    created_by_id: uuid.UUID = Field(foreign_key="membership.id")
    created_at: datetime = ts_field()


class HouseholdMember(SQLModel, table=True):
    """A client in a household; a client belongs to one household at most."""

    __tablename__ = "household_member"

    id: uuid.UUID = id_field()
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    client_id: uuid.UUID = Field(foreign_key="client.id", unique=True)
    relation: HouseholdRelation = state_field(HouseholdRelation, HouseholdRelation.other)


class ClientRepresentative(SQLModel, table=True):
    __tablename__ = "client_representative"

    id: uuid.UUID = id_field()
    client_id: uuid.UUID = Field(foreign_key="client.id", index=True)
    conference_id: uuid.UUID = Field(foreign_key="conference.id")
    kind: RepresentativeKind = state_field(RepresentativeKind, RepresentativeKind.guardian)
    name: str = Field(max_length=200)
    # The basis of the representation, required: a court order (curatele, mentorschap, voogdij)
    # or parental authority (ouderlijk gezag), with its reference.
    basis: str = Field(max_length=500)
    valid_until: date | None = None
    recorded_by_id: uuid.UUID = Field(foreign_key="membership.id")
    created_at: datetime = ts_field()
    ended_at: datetime | None = ts_field(nullable=True, default_now=False)
