"""Parsing a CloudEvent: the one-call validation of a plain valid event (app/events/cloudevents.py)
gives exactly what the checks one by one give, and leaves everything else to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.events.cloudevents import EVENT_NAMESPACE, RelapseData, parse_event

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _event(type_: str = "relapse", **changes: Any) -> dict[str, Any]:
    data = {"relapse": {"substances": [" ghb "], "reported_by": "professional"},
            "missed_appointment": {"appointment_kind": "treatment", "consecutive": 3},
            "eviction_threat": {"stage": "court_date", "date": "2026-12-20"},
            "overdose": {}}[type_]
    event = {"specversion": "1.0", "id": "a-1", "source": "urn:nld:oin:00000001234567890000:systeem:epd",
             "type": EVENT_NAMESPACE + type_, "subject": "ZRG-1", "time": "2026-12-01T10:00:00Z", "data": data}
    event.update(changes)
    return {k: v for k, v in event.items() if v is not None}


CASES: list[tuple[str, dict[str, Any]]] = [
    ("plain", _event()),
    ("other types", _event("missed_appointment")),
    ("a date in the data", _event("eviction_threat")),
    ("defaults only", _event("overdose")),
    ("lower-case z and fractions", _event(time="2026-12-01t10:00:00.123456789z")),
    ("an offset", _event(time="2026-12-01T11:00:00+01:00")),
    ("a JSON media type", _event(datacontenttype="application/vnd.x+json; charset=utf-8")),
    ("another URI as source", _event(source="https://epd.example/zorg")),
    ("an integer beyond 64 bits", _event(data={"substances": [], "reported_by": "client"}, big=2**70)),
    ("an extension attribute", _event(sequence="7")),
    ("a short OIN", _event(source="urn:nld:oin:123:systeem:epd")),
    ("not a JSON media type", _event(datacontenttype="text/plain")),
    ("too far in the future", _event(time="2026-12-01T12:10:00Z")),
    ("no zone", _event(time="2026-12-01T10:00:00")),
    ("not a date", _event(time="2026-02-30T10:00:00Z")),
    ("an unknown field in the data", _event(data={"substances": [], "extra": 1})),
    ("a number as id", _event(id=7)),
    ("a type the sender does not report", _event("eviction_threat") | {"type": EVENT_NAMESPACE + "detention"}),
    ("an unknown type", _event(type=EVENT_NAMESPACE + "unknown")),
    ("another version", _event(specversion="0.3")),
    ("binary data", _event(data_base64="AAAA")),
    ("no subject", {k: v for k, v in _event().items() if k != "subject"}),
]


@pytest.mark.parametrize(("name", "raw"), CASES, ids=[name for name, _ in CASES])
@pytest.mark.parametrize("batch", [False, True])
def test_one_call_and_one_by_one_agree(name: str, raw: dict[str, Any], batch: bool) -> None:
    args: dict[str, Any] = {"index": 3, "batch": batch, "organisation_kind": "addiction_care", "now": NOW,
                            "max_future": timedelta(seconds=300)}
    fast = parse_event(dict(raw), may_hold_nul=False, **args)  # a plain valid event: one call
    checked = parse_event(dict(raw), may_hold_nul=True, **args)  # always the checks one by one
    assert fast == checked, name
    if not isinstance(fast, list):
        assert fast.raw == raw and fast.payload_hash == checked.payload_hash  # type: ignore[union-attr]


def test_a_plain_valid_event_takes_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    def one_by_one(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("validated field by field")

    monkeypatch.setattr(RelapseData, "model_validate", one_by_one)
    parsed = parse_event(_event(), index=0, batch=True, organisation_kind="addiction_care", now=NOW,
                         max_future=timedelta(seconds=300), may_hold_nul=False)
    assert not isinstance(parsed, list) and parsed.data == {"substances": ["ghb"], "reported_by": "professional"}
    with pytest.raises(AssertionError, match="field by field"):
        parse_event(_event(sequence="7"), index=0, batch=True, organisation_kind="addiction_care", now=NOW,
                    max_future=timedelta(seconds=300), may_hold_nul=False)
