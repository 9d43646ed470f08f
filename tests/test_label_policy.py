"""Need-to-know labels, decided by the policy alone (no I/O): who sees general, health,
justice and org_internal information, natively or on a sharing basis."""

from __future__ import annotations

import uuid

import pytest

from app.auth.policy import SharingBasis, label_visibility
from app.auth.principal import MembershipRef, Principal

CONFERENCE = uuid.uuid4()
ORGS = {kind: uuid.uuid4() for kind in ("municipality", "police", "addiction_care", "neighbourhood_team")}


def person(kind: str, role: str = "member", conference: uuid.UUID = CONFERENCE) -> Principal:
    org = ORGS[kind]
    return Principal(
        kind="person",
        issuer=f"https://idp.{kind}.example",
        subject=f"{kind}-{role}",
        display_name="X",
        organisation_id=org,
        organisation_kind=kind,
        memberships=(MembershipRef(uuid.uuid4(), conference, org, role),),
    )


# (label, caller kind, caller role) -> visible without any sharing basis
NATIVE = [
    ("general", "police", "member", True),
    ("general", "neighbourhood_team", "liaison", True),
    ("health", "addiction_care", "member", True),
    ("health", "addiction_care", "liaison", True),
    ("health", "police", "member", False),
    ("health", "municipality", "chair", False),
    ("health", "neighbourhood_team", "member", False),
    ("justice", "police", "member", True),
    ("justice", "municipality", "chair", True),  # the chair sees police information
    ("justice", "municipality", "member", False),
    ("justice", "addiction_care", "member", False),
    ("org_internal", "police", "member", False),
    ("org_internal", "municipality", "chair", False),
]


@pytest.mark.parametrize(("label", "kind", "role", "visible"), NATIVE)
def test_native_visibility(label: str, kind: str, role: str, visible: bool) -> None:
    owner = ORGS["addiction_care"] if label != "justice" else ORGS["police"]
    if label == "org_internal":
        owner = ORGS["neighbourhood_team"]
    shown, basis = label_visibility(
        person(kind, role), label=label, conference_id=CONFERENCE, owning_organisation_id=owner
    )
    assert shown is visible
    assert basis is None


def test_owning_organisation_always_sees_its_own_information() -> None:
    for label in ("health", "justice", "org_internal"):
        shown, _ = label_visibility(
            person("neighbourhood_team"),
            label=label,
            conference_id=CONFERENCE,
            owning_organisation_id=ORGS["neighbourhood_team"],
        )
        assert shown, label


def test_chair_of_another_conference_does_not_see_justice_information() -> None:
    chair_elsewhere = person("municipality", "chair", conference=uuid.uuid4())
    shown, _ = label_visibility(
        chair_elsewhere, label="justice", conference_id=CONFERENCE, owning_organisation_id=ORGS["police"]
    )
    assert not shown


def test_sharing_basis_opens_exactly_what_it_names() -> None:
    consent = SharingBasis(
        kind="agreement", reference="agr-1", labels_to_kinds={"health": frozenset({"municipality"})}
    )
    police, municipality = person("police"), person("municipality")
    shown, basis = label_visibility(
        municipality, label="health", conference_id=CONFERENCE, owning_organisation_id=None, bases=[consent]
    )
    assert shown and basis == "agreement:agr-1"
    # not to another organisation kind, not for another label, never for org_internal
    assert not label_visibility(
        police, label="health", conference_id=CONFERENCE, owning_organisation_id=None, bases=[consent]
    )[0]
    assert not label_visibility(
        municipality, label="justice", conference_id=CONFERENCE, owning_organisation_id=None, bases=[consent]
    )[0]
    internal = SharingBasis(
        kind="legal_basis", reference="lb-1", labels_to_kinds={"org_internal": frozenset({"municipality"})}
    )
    assert not label_visibility(
        municipality,
        label="org_internal",
        conference_id=CONFERENCE,
        owning_organisation_id=ORGS["police"],
        bases=[internal],
    )[0]
