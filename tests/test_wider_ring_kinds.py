"""Issue 17: the organisation kinds of the wider ring have their defaults wherever a kind decides
something: what a partner system of that kind may report, the label of what it reports (GGZ and
the general practice are care: health), their Dutch name in agreements, and their native labels."""

from __future__ import annotations

from app.auth.policy import NATIVE_READERS
from app.events.cloudevents import ALLOWED_TYPES, EventType, label_for
from app.models.enums import Label, OrganisationKind
from app.services.agreements.templates import KIND_NAMES_NL

CARE = (OrganisationKind.mental_health_care, OrganisationKind.general_practice)


def test_every_kind_has_its_defaults() -> None:
    for kind in OrganisationKind:
        assert kind in ALLOWED_TYPES, kind
        assert kind in KIND_NAMES_NL, kind


def test_ggz_and_the_general_practice_report_health_and_read_it_natively() -> None:
    for kind in CARE:
        assert label_for(kind, EventType.missed_appointment) is Label.health
        assert kind in NATIVE_READERS[Label.health]
    assert EventType.relapse in ALLOWED_TYPES[OrganisationKind.mental_health_care]
    for kind in (OrganisationKind.work_income, OrganisationKind.reintegration, OrganisationKind.education,
                 OrganisationKind.peer_support):
        assert kind not in NATIVE_READERS[Label.health]
        assert label_for(kind, EventType.missed_appointment) is Label.general
        assert EventType.relapse not in ALLOWED_TYPES[kind]
