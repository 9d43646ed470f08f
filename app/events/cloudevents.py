"""The inbound contract: CloudEvents 1.0 over HTTP in structured mode (one event or a batch) and
in binary mode (`ce-*` headers, the data as the body), one type namespace, one data schema per
type, which organisation kinds may send which type, and the label and severity that follow from
the type and its origin. The NL GOV CloudEvents profile's conventions are accepted: `source` as
a URN (`urn:nld:oin:<20-digit OIN>:systeem:<name>`), `subject` as the sender's own reference,
and extension attributes (`dataref`, `sequence`, `sequencetype`, ...: lowercase letters and
digits, scalar values), which are part of the event's content hash but not interpreted.
Pure functions, no I/O."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import unquote

import orjson
from pydantic import BaseModel, ConfigDict, Field, StrictStr, StringConstraints, ValidationError, create_model

from app.models.enums import AftercareReportKind, Label, OrganisationKind
from app.schemas.common import NUL_DETAIL, nul_path

EVENT_NAMESPACE = "nl.casusoverleg.event."


class EventType(StrEnum):
    relapse = "relapse"
    lapse = "lapse"
    police_contact = "police_contact"
    nuisance_report = "nuisance_report"
    missed_appointment = "missed_appointment"
    admission = "admission"
    discharge = "discharge"
    overdose = "overdose"
    eviction_threat = "eviction_threat"
    detention = "detention"
    treatment_completed = "treatment_completed"
    # The neighbourhood team's reports during an aftercare watch (issue 17).
    aftercare_worry = "aftercare_worry"
    aftercare_missed_contact = "aftercare_missed_contact"
    aftercare_suspected_relapse = "aftercare_suspected_relapse"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


T = EventType
K = OrganisationKind

# Which organisation kind may report which type: each partner reports what it itself registers.
ALLOWED_TYPES: dict[str, frozenset[EventType]] = {
    K.police: frozenset({T.police_contact, T.nuisance_report, T.detention}),
    K.addiction_care: frozenset(
        {
            T.relapse,
            T.lapse,
            T.missed_appointment,
            T.admission,
            T.discharge,
            T.overdose,
            T.treatment_completed,
        }
    ),
    K.municipality: frozenset({T.eviction_threat, T.nuisance_report}),
    K.housing: frozenset({T.eviction_threat, T.nuisance_report}),
    K.probation: frozenset({T.missed_appointment, T.detention}),
    K.public_health: frozenset({T.overdose, T.admission, T.discharge, T.missed_appointment}),
    K.neighbourhood_team: frozenset({T.missed_appointment, T.nuisance_report, T.aftercare_worry,
                                     T.aftercare_missed_contact, T.aftercare_suspected_relapse}),
    # The wider ring (issue 17): care providers report what their own files hold; the others a
    # missed appointment at most; peer supporters report nothing as a system.
    K.mental_health_care: frozenset({T.relapse, T.lapse, T.missed_appointment, T.admission, T.discharge,
                                     T.overdose, T.treatment_completed}),
    K.general_practice: frozenset({T.missed_appointment, T.overdose, T.admission, T.discharge}),
    K.work_income: frozenset({T.missed_appointment}),
    K.reintegration: frozenset({T.missed_appointment}),
    K.education: frozenset({T.missed_appointment}),
    K.peer_support: frozenset(),
    K.other: frozenset(),
}

# The label of the origin: police and probation information is justice data, care information
# is health data (AVG art. 9 and 10); the rest is general case information.
LABEL_OF_KIND: dict[str, Label] = {
    K.police: Label.justice,
    K.probation: Label.justice,
    K.addiction_care: Label.health,
    K.public_health: Label.health,
    # GGZ and the general practice are care providers: what they report is health data.
    K.mental_health_care: Label.health,
    K.general_practice: Label.health,
}

# Types that put the case on the next meeting's agenda and notify the case director.
FLAGGING_TYPES = frozenset({T.relapse, T.overdose, T.detention, T.eviction_threat, T.missed_appointment})

FLAG_REASONS: dict[EventType, str] = {
    T.relapse: "Relapse reported by a partner",
    T.overdose: "Overdose reported by a partner",
    T.detention: "Detention reported by a partner",
    T.eviction_threat: "Eviction threat reported by a partner",
    T.missed_appointment: "Missed appointment reported by a partner",
}

SEVERITY_ORDER: tuple[str, ...] = ("low", "medium", "high", "critical")


# Types whose content carries a label of its own, whoever reports it: a suspected relapse is health
# information, also when the neighbourhood team reports it (it owns its own report).
LABEL_OF_TYPE: dict[EventType, Label] = {T.aftercare_suspected_relapse: Label.health}

# The aftercare reports of the neighbourhood team, and the kind of report each one makes.
AFTERCARE_REPORT_TYPES: dict[EventType, AftercareReportKind] = {
    T.aftercare_worry: AftercareReportKind.worry,
    T.aftercare_missed_contact: AftercareReportKind.missed_contact,
    T.aftercare_suspected_relapse: AftercareReportKind.suspected_relapse,
}


def label_for(organisation_kind: str, event_type: EventType | None = None) -> Label:
    if event_type is not None and event_type in LABEL_OF_TYPE:
        return LABEL_OF_TYPE[event_type]
    return LABEL_OF_KIND.get(organisation_kind, Label.general)


# --- data schemas, one per type ------------------------------------------------------------


Day = date  # an alias, so that a field may be called `date`


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


SubstanceName = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)]


class RelapseData(_Data):
    substances: list[SubstanceName] = Field(default_factory=list, max_length=10)
    reported_by: Literal["client", "professional", "test", "other"] | None = None


class LapseData(RelapseData):
    pass


class PoliceContactData(_Data):
    contact_kind: Literal["stop", "arrest", "incident", "welfare_check", "other"]
    incident_number: StrictStr | None = Field(default=None, max_length=64)


class NuisanceReportData(_Data):
    category: Literal["noise", "drugs", "aggression", "waste", "other"]
    reports: int = Field(default=1, ge=1, le=1000)


class MissedAppointmentData(_Data):
    appointment_kind: Literal["intake", "treatment", "medication", "probation", "other"]
    consecutive: int = Field(default=1, ge=1, le=100)


class AdmissionData(_Data):
    facility_kind: Literal["detox", "clinical", "psychiatric", "hospital", "other"]
    planned: bool = False


class DischargeData(_Data):
    facility_kind: Literal["detox", "clinical", "psychiatric", "hospital", "other"]
    against_advice: bool = False


class OverdoseData(_Data):
    substances: list[SubstanceName] = Field(default_factory=list, max_length=10)
    hospitalised: bool = False
    fatal: bool = False


class EvictionThreatData(_Data):
    stage: Literal["warning", "summons", "court_date", "eviction_date"]
    date: Day | None = None


class DetentionData(_Data):
    detention_kind: Literal["police_custody", "pre_trial", "sentence", "other"]
    expected_release: date | None = None


class TreatmentCompletedData(_Data):
    programme: StrictStr | None = Field(default=None, max_length=100)
    aftercare_planned: bool = True


class AftercareWorryData(_Data):
    concern: Literal["wellbeing", "housing", "money", "social", "other"] = "other"


class AftercareMissedContactData(_Data):
    contact_kind: Literal["home_visit", "appointment", "phone", "other"] = "other"
    consecutive: int = Field(default=1, ge=1, le=100)


class AftercareSuspectedRelapseData(_Data):
    substances: list[SubstanceName] = Field(default_factory=list, max_length=10)


DATA_SCHEMAS: dict[EventType, type[_Data]] = {
    T.relapse: RelapseData,
    T.lapse: LapseData,
    T.police_contact: PoliceContactData,
    T.nuisance_report: NuisanceReportData,
    T.missed_appointment: MissedAppointmentData,
    T.admission: AdmissionData,
    T.discharge: DischargeData,
    T.overdose: OverdoseData,
    T.eviction_threat: EvictionThreatData,
    T.detention: DetentionData,
    T.treatment_completed: TreatmentCompletedData,
    T.aftercare_worry: AftercareWorryData,
    T.aftercare_missed_contact: AftercareMissedContactData,
    T.aftercare_suspected_relapse: AftercareSuspectedRelapseData,
}


def severity_of(event_type: EventType, data: _Data) -> Severity:
    match data:
        case OverdoseData():
            return Severity.critical
        case LapseData():  # before RelapseData: a lapse is a relapse subtype in code only
            return Severity.medium
        case RelapseData():
            return Severity.high
        case DetentionData():
            return Severity.high
        case EvictionThreatData(stage=stage):
            return Severity.high if stage in ("court_date", "eviction_date") else Severity.medium
        case PoliceContactData(contact_kind=kind):
            return Severity.medium if kind in ("arrest", "incident") else Severity.low
        case NuisanceReportData(reports=n):
            return Severity.medium if n >= 3 else Severity.low
        case MissedAppointmentData(consecutive=n):
            return Severity.medium if n >= 3 else Severity.low
        case AftercareSuspectedRelapseData():
            return Severity.medium
        case AdmissionData():
            return Severity.medium
        case DischargeData(against_advice=against):
            return Severity.high if against else Severity.low
        case _:
            return Severity.low


# --- the envelope ------------------------------------------------------------------------------

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_CONTEXT_ATTRIBUTES = {
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "dataschema",
    "data",
}


# Any JSON media type: application/json or application/<something>+json, with parameters.
_JSON_MEDIA = re.compile(r"^application/(?:[a-z0-9!#$&^_.-]+\+)?json$")
# NL GOV CloudEvents profile: an OIN is 20 digits.
_OIN_SOURCE = re.compile(r"^urn:nld:oin:\d{20}(?::|$)")


def is_json_media(content_type: str) -> bool:
    return bool(_JSON_MEDIA.match(content_type.split(";", 1)[0].strip().lower()))


class Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"]
    id: StrictStr = Field(min_length=1, max_length=128)
    source: StrictStr = Field(min_length=1, max_length=256)
    type: StrictStr = Field(min_length=1, max_length=128)
    subject: StrictStr = Field(min_length=1, max_length=128)
    time: StrictStr = Field(max_length=40)
    datacontenttype: StrictStr | None = Field(default=None, max_length=200)
    dataschema: StrictStr | None = Field(default=None, max_length=500)
    data: dict[str, Any]


@dataclass(frozen=True)
class EventError:
    index: int
    pointer: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "pointer": self.pointer, "detail": self.detail}


@dataclass(slots=True)  # not frozen: built per event of a batch, and frozen fields cost a call each
class ParsedEvent:
    index: int
    source: str
    event_id: str
    type: EventType
    subject: str
    occurred_at: datetime
    data: dict[str, Any]
    severity: Severity
    payload_hash: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def same_payload(self, stored_hash: str) -> bool:
        """Whether an event stored with `stored_hash` had this event's content (a replay): its
        hash is this one's, or, for events stored before the hash was built with orjson, the
        standard library's canonical text of this content (they differ only in how a float with
        an exponent is written, e.g. 1e-05 and 0.00001)."""
        return stored_hash == self.payload_hash or stored_hash == legacy_payload_hash(self.raw)


def payload_hash(raw: dict[str, Any]) -> str:
    """Hash of the event as sent, key order and whitespace aside: a replay hashes the same. The
    canonical text is orjson's compact, key-sorted JSON (the standard library's, byte for byte,
    for strings, integers, booleans and null; about ten times faster); an integer beyond 64 bits,
    which orjson does not write, takes the standard library's."""
    try:
        canonical = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return legacy_payload_hash(raw)
    return hashlib.sha256(canonical).hexdigest()


def legacy_payload_hash(raw: dict[str, Any]) -> str:
    """The hash of events stored before `payload_hash` used orjson (see `same_payload`)."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _ptr(index: int, batch: bool, *parts: object) -> str:
    prefix = f"#/{index}" if batch else "#"
    tail = "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return f"{prefix}/{tail}" if tail else (prefix if batch else "#/")


# The envelope with the data schema of its type, per type name as sent: an event of a known type
# without extension attributes is validated in one pydantic call (`_parse_valid`).
_TYPED_ENVELOPES: dict[str, tuple[EventType, type[Envelope]]] = {
    EVENT_NAMESPACE + t.value: (t, create_model(f"{DATA_SCHEMAS[t].__name__}Event", __base__=Envelope,
                                                data=(DATA_SCHEMAS[t], ...)))
    for t in EventType
}


def _parse_valid(
    raw: dict[str, Any], index: int, organisation_kind: str, latest: datetime
) -> ParsedEvent | None:
    """The parsed event when `raw` is a valid event of a known type that the organisation may
    send, with no attribute beyond the context attributes and no NUL; None when anything is off
    (or merely unusual, like an extension attribute): `parse_event`'s checks one by one then
    decide, and name every problem. What this accepts they accept, with the same result."""
    typed = _TYPED_ENVELOPES.get(raw.get("type"))
    if typed is None or not raw.keys() <= _CONTEXT_ATTRIBUTES:
        return None
    event_type, model = typed
    if event_type not in ALLOWED_TYPES.get(organisation_kind, ()):
        return None
    try:
        envelope = model.model_validate(raw)
    except ValidationError:
        return None
    if envelope.datacontenttype is not None and not is_json_media(envelope.datacontenttype):
        return None
    if envelope.source.startswith("urn:nld:oin:") and not _OIN_SOURCE.match(envelope.source):
        return None
    if not _RFC3339.match(envelope.time):
        return None
    try:
        occurred_at = datetime.fromisoformat(envelope.time.upper())
    except ValueError:
        return None
    if occurred_at > latest:
        return None
    data: Any = envelope.data
    return ParsedEvent(
        index=index,
        source=envelope.source,
        event_id=envelope.id,
        type=event_type,
        subject=envelope.subject,
        occurred_at=occurred_at,
        data=data.model_dump(mode="json"),
        severity=severity_of(event_type, data),
        payload_hash=payload_hash(raw),
        raw=raw,
    )


def parse_event(
    raw: Any, *, index: int, batch: bool, organisation_kind: str, now: datetime, max_future: timedelta,
    may_hold_nul: bool = True,
) -> ParsedEvent | list[EventError]:
    """Validate one structured-mode CloudEvent; returns the parsed event or its errors.
    Error details never echo the input: it may hold personal data. `may_hold_nul=False`: the
    caller knows no string in `raw` holds a NUL (JSON text without the escape \\u0000 cannot)."""
    if isinstance(raw, dict) and not may_hold_nul:
        valid = _parse_valid(raw, index, organisation_kind, now + max_future)
        if valid is not None:
            return valid
    if not isinstance(raw, dict):
        return [EventError(index, _ptr(index, batch), "An event must be a JSON object.")]
    nul_at = nul_path(raw) if may_hold_nul else None
    if nul_at is not None:
        return [EventError(index, _ptr(index, batch, *nul_at), NUL_DETAIL)]
    errors: list[EventError] = []
    if "data_base64" in raw:
        errors.append(EventError(index, _ptr(index, batch, "data_base64"), "Binary data is not accepted."))
    for name, value in raw.items():
        if name in _CONTEXT_ATTRIBUTES or name == "data_base64":
            continue
        if not _EXTENSION_NAME.match(name):
            errors.append(
                EventError(index, _ptr(index, batch, name), "Not a valid CloudEvents attribute name.")
            )
        elif not isinstance(value, str | int | bool) or isinstance(value, float):
            errors.append(
                EventError(index, _ptr(index, batch, name), "An extension attribute must be a scalar.")
            )
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            errors.append(
                EventError(index, _ptr(index, batch, *err.get("loc", ())), err.get("msg", "invalid"))
            )
        return errors
    if envelope.datacontenttype is not None and not is_json_media(envelope.datacontenttype):
        errors.append(
            EventError(index, _ptr(index, batch, "datacontenttype"), "The data must be JSON (a JSON media type).")
        )
    if envelope.source.startswith("urn:nld:oin:") and not _OIN_SOURCE.match(envelope.source):
        errors.append(
            EventError(index, _ptr(index, batch, "source"), "An OIN in urn:nld:oin:<OIN>:... has 20 digits.")
        )
    if errors:
        return errors
    if (
        not envelope.type.startswith(EVENT_NAMESPACE)
        or envelope.type[len(EVENT_NAMESPACE) :] not in EventType.__members__
    ):
        return [
            EventError(
                index,
                _ptr(index, batch, "type"),
                f"Unknown event type; types are {EVENT_NAMESPACE}<name>, name one of "
                + ", ".join(t.value for t in EventType)
                + ".",
            )
        ]
    event_type = EventType(envelope.type[len(EVENT_NAMESPACE) :])
    if event_type not in ALLOWED_TYPES.get(organisation_kind, frozenset()):
        return [
            EventError(
                index,
                _ptr(index, batch, "type"),
                f"An organisation of kind {organisation_kind} does not report {event_type.value}.",
            )
        ]
    occurred_at: datetime | None = None
    if _RFC3339.match(envelope.time):
        try:
            occurred_at = datetime.fromisoformat(envelope.time.upper())
        except ValueError:
            occurred_at = None
    if occurred_at is None:
        errors.append(EventError(index, _ptr(index, batch, "time"), "time must be an RFC 3339 timestamp."))
    elif occurred_at > now + max_future:
        errors.append(
            EventError(
                index,
                _ptr(index, batch, "time"),
                f"time lies more than {int(max_future.total_seconds())} seconds in the future.",
            )
        )
    schema = DATA_SCHEMAS[event_type]
    data: _Data | None = None
    try:
        data = schema.model_validate(envelope.data)
    except ValidationError as exc:
        for err in exc.errors():
            errors.append(
                EventError(index, _ptr(index, batch, "data", *err.get("loc", ())), err.get("msg", "invalid"))
            )
    if errors or data is None or occurred_at is None:
        return errors
    return ParsedEvent(
        index=index,
        source=envelope.source,
        event_id=envelope.id,
        type=event_type,
        subject=envelope.subject,
        occurred_at=occurred_at,
        data=data.model_dump(mode="json"),
        severity=severity_of(event_type, data),
        payload_hash=payload_hash(raw),
        raw=raw,
    )


# --- binary mode -------------------------------------------------------------------------------

CE_PREFIX = "ce-"
# What this service needs of every event; `subject` and `time` are optional in CloudEvents but
# required here (the client reference, the moment it happened).
_BINARY_REQUIRED = ("specversion", "id", "source", "type", "subject", "time")


def binary_pointer(pointer: str) -> str:
    """Where an attribute of a binary-mode event came from: a header, or (the data) the body."""
    if pointer == "#/data" or pointer.startswith("#/data/"):
        return "#" + pointer[len("#/data") :] if pointer != "#/data" else "#/"
    if pointer == "#/datacontenttype":
        return "#header:content-type"
    if pointer.startswith("#/") and pointer != "#/":
        return f"#header:{CE_PREFIX}{pointer[2:]}"
    return pointer


def binary_event(
    headers: Iterable[tuple[str, str]], content_type: str, data: Any
) -> dict[str, Any] | list[EventError]:
    """The structured form of a binary-mode event: attributes from the `ce-*` headers
    (percent-decoded, as the HTTP binding says), datacontenttype from Content-Type, and the
    body as data. Returns the event or the errors, each naming its header."""
    errors: list[EventError] = []
    attributes: dict[str, Any] = {}
    for name, value in headers:
        lower = name.lower()
        if not lower.startswith(CE_PREFIX):
            continue
        attribute = lower[len(CE_PREFIX) :]
        if attribute in attributes:
            errors.append(EventError(0, f"#header:{lower}", "The header appears more than once."))
            continue
        if attribute in ("data", "data_base64", "datacontenttype"):
            errors.append(
                EventError(0, f"#header:{lower}", "Not a header in binary mode (the body is the data).")
            )
            continue
        attributes[attribute] = unquote(value)
    for attribute in _BINARY_REQUIRED:
        if attribute not in attributes:
            errors.append(EventError(0, f"#header:{CE_PREFIX}{attribute}", f"The header {CE_PREFIX}{attribute} is missing."))
    version = attributes.get("specversion")
    if version is not None and version != "1.0":
        errors.append(
            EventError(0, f"#header:{CE_PREFIX}specversion", "Unknown specversion: this service reads CloudEvents 1.0.")
        )
    if not is_json_media(content_type):
        errors.append(EventError(0, "#header:content-type", "The body must be JSON (a JSON media type)."))
    if errors:
        return errors
    return {**attributes, "datacontenttype": content_type.strip(), "data": data}
