"""Data classification: the need-to-know label of every response field that carries client data.

One place, next to the models. `tests/test_classification.py` walks every response schema of the
API and fails for a field that is neither metadata (ids, dates, versions, statuses, counts: see
`is_metadata`), nor a nested schema (classified in its own right), nor listed here. So a new field
that carries client information cannot reach a response without someone deciding its label.

What the rules mean (applied by app/auth/policy.py `NeedToKnow.sees` in the read paths):
- a `Label` value: the field always carries that label (substances are health);
- BY_DOMAIN: the row's life domain decides (mental health, physical health and substance use are
  health; justice is justice; the rest general) unless the row records another label;
- BY_ROW: the row carries its own label column (notes, assessments, events, flags, reasons);
- BY_BASIS: shown only with the basis or consent that permits it (agreement texts, sharing scopes);
- PRIVACY_OFFICER: access-log and subject-access data, only for the privacy officer's routes.
"""

from __future__ import annotations

import re

from app.models.enums import Label

BY_DOMAIN = "by_domain"
BY_ROW = "by_row"
BY_BASIS = "by_basis"
PRIVACY_OFFICER = "privacy_officer"

RULES = frozenset({*(label.value for label in Label), BY_DOMAIN, BY_ROW, BY_BASIS, PRIVACY_OFFICER})

# Response schemas that carry no client data at all (administration, identity, infrastructure).
NOT_CLIENT_DATA = frozenset({
    "ChainReportOut", "ConferenceOut", "DeadLetterOut", "EventBatchReceipt", "EventReceipt",
    "GeneratedMeetings", "MandateOut", "MeOut", "MembershipOut", "MembershipRefOut",
    "OrganisationIdentityOut", "OrganisationOut", "PartnerSystemOut", "SubscriptionCreated",
    "SubscriptionOut", "TemplateOut", "CalendarFeedOut", "MeetingOut", "BreakGlassOut",
    # administrative changes: who changed which organisation's identity settings or memberships
    "AdminChangeOut", "IdentityChangeOut", "OrganisationAdminOut",
    # the score descriptions of the ZRM per life domain: metadata, the same for every client
    "ZrmAnchorsOut", "ZrmDomainAnchorsOut", "ZrmScoreAnchorOut",
    # how many consultations a conference had: figures, no content
    "ConsultationCountOut",
    # an organisation's catalogue of interventions: the same for every client
    "InterventionOut",
    # outcome figures (app/services/outcomes/): counts over groups of cases with every count under
    # 5 withheld and complementary counts withheld so none can be recomputed, means and medians
    # only where the count they are taken over is published, row keys that are months, phases,
    # life domains or partner organisations; never a client number, case id or name. Aggregates,
    # not client data.
    "OutcomesOut", "OutcomeTable", "OutcomeRow", "OutcomeCell", "OutcomeColumn", "OutcomeMeasure",
})

_METADATA = re.compile(
    r"^(id|.*_id|.*_ids|.*_at|.*_on|.*_date|version|status|hidden|total|limit|offset|next|position|"
    r"count|.*_count|label|basis|phase|priority|overdue|restricted|substances_hidden|text_hidden|"
    r"complete|done|removed|added_by_chair|time_box_minutes|total_minutes|meeting_minutes|over_time|"
    r"published|in_force|addressed_to_you|ref_type|allowed_transitions|automatic|key|whole|"
    r"signed_in_person|template_version|text_hash|template_sha256|scan_content_type|scan_size|"
    r"scan_sha256|coverage|first|latest|change|period|relapses|lapses|total_relapses|total_lapses|"
    r"days_since_last_relapse|ad_hoc|moved_from|agenda_status|client_number|closure_reason|"
    r"organisation_kinds|party|code|entity_type|operation|signed_parties|missing_parties)$"
)


def is_metadata(field: str) -> bool:
    """Names that say what a field is about without carrying client content."""
    return bool(_METADATA.match(field))


CLASSIFICATION: dict[str, dict[str, str]] = {
    "CaseDetail": {
        "client_name": Label.identity,
        "client_date_of_birth": Label.identity,
        # that the client needs plain language: everyone who writes to or about them must know
        "client_plain_language": Label.general,
        "area": Label.general,  # the neighbourhood (wijk): process information for the conference
        "substances": Label.health,
    },
    "ActionOut": {
        "title": BY_DOMAIN,
        "description": BY_DOMAIN,
        "life_domain": BY_DOMAIN,
        "note": BY_DOMAIN,
        "resource_scope": BY_DOMAIN,
        "resource_amount_cents": BY_DOMAIN,
    },
    "GoalOut": {"life_domain": BY_DOMAIN, "description": BY_DOMAIN},
    "PlanOut": {"client_goals": Label.general},  # the client's own words; narrowed by phase
    "AssessmentOut": {"scores": Label.health},
    "DomainTrend": {"life_domain": Label.health},
    "NoteOut": {"text": BY_ROW},
    "TimelineItem": {"type": BY_ROW, "severity": BY_ROW, "data": BY_ROW},
    "FlagOut": {"kind": BY_ROW, "reason": BY_ROW, "severity": BY_ROW},
    "Reason": {"text": BY_ROW, "detail": BY_ROW},
    "AgendaItemOut": {"client_name": Label.identity, "kind": Label.general},
    "DecisionOut": {"text": Label.general, "phase_from": Label.general, "phase_to": Label.general},  # decisions are recorded for the whole conference
    # who reported a worry from the social surroundings is a third person: identity, like a name
    "ReferralOut": {"reason": Label.general, "decline_reason": Label.general, "kind": Label.general,
                    "reporter": Label.identity, "reporter_relation": Label.general},
    # The web's triage page: the referrer is staff (general); the client's name and date of birth
    # are shown to the chair of the referral's conference only (app/services/cases/reads.py).
    "ReferralView": {"reason": Label.general, "decline_reason": Label.general, "kind": Label.general,
                     "reporter": Label.identity, "reporter_relation": Label.general,
                     "referred_by_name": Label.general, "referred_by_role": Label.general,
                     "referring_organisation_name": Label.general, "client_name": Label.identity,
                     "client_date_of_birth": Label.identity},
    # A consultation is anonymous by construction (no client; names, BSNs and dates of birth are
    # refused in its texts): professional content, read by who asked and whom it asks.
    "ConsultationOut": {name: Label.general for name in (
        "addressee", "question", "situation", "age_group", "substances", "life_domains", "answer")},
    "ChangeOut": {"actor_name": Label.general, "changes": Label.general},  # free text only as "changed"
    "ChecklistItemOut": {"title": Label.general},  # the checklist's own item names
    "ClientLookupOut": {"bsn_masked": Label.identity},
    "ReferenceOut": {"reference": Label.org_internal},
    "AgreementOut": {
        "title": Label.general, "parties": BY_BASIS, "scope": BY_BASIS, "effective_scope": BY_BASIS, "rendered_text": BY_BASIS,
        "commitments": BY_BASIS, "options": BY_BASIS, "relapse_wishes": BY_BASIS, "relapse_told": BY_BASIS,
    },
    "AgreementSummary": {"title": Label.general, "parties": BY_BASIS, "scope": BY_BASIS, "effective_scope": BY_BASIS},
    "SignatureOut": {"signer_name": Label.general, "attested_by_name": Label.general},
    "LegalBasisOut": {"article": Label.general, "justification": BY_BASIS, "scope": BY_BASIS},
    "SharingBasisOut": {"kind": Label.general, "title": Label.general, "reference": Label.general, "scope": BY_BASIS, "justification": BY_BASIS},
    "NotificationOut": {"kind": Label.general},  # ids, dates and what kind of reminder: no content
    "AccessLogOut": {
        name: PRIVACY_OFFICER
        for name in ("seq", "actor_issuer", "actor_subject", "actor_name", "actor_kind", "role",
                     "resource_type", "action", "part", "outcome", "source_address", "prev_hash", "row_hash")
    },
    "AccessReportEntry": {
        name: PRIVACY_OFFICER
        for name in ("organisation_name", "role", "person", "action", "resource_type", "part", "outcome")
    },
    "AccessReportOut": {"conference_name": PRIVACY_OFFICER, "plain_language": PRIVACY_OFFICER},
    "ClientExportOut": {"client": PRIVACY_OFFICER, "references": PRIVACY_OFFICER,
                        "referrals": PRIVACY_OFFICER, "cases": PRIVACY_OFFICER, "kinds": PRIVACY_OFFICER},
    # Everything held about a client, for the client (subject access, issue 21).
    "HeldItem": {"kind": PRIVACY_OFFICER, "kind_nl": PRIVACY_OFFICER, "summary": PRIVACY_OFFICER},
    "SharedWith": {"organisation_name": PRIVACY_OFFICER},
    "DiscussionRequestOut": {},
    # A client's requests under the AVG and the corrections made on them: the privacy officer's
    # register (issue 21).
    "ClientRequestOut": {name: PRIVACY_OFFICER for name in (
        "kind", "channel", "on_behalf_of", "description", "extension_reason", "extended_until", "decision",
        "answer")},
    "CorrectionOut": {"field": PRIVACY_OFFICER, "old_value": PRIVACY_OFFICER, "new_value": PRIVACY_OFFICER},
    # What a partner system reads with cases:read-minimal: its own references, the case director's
    # organisation and role (app/services/partners/).
    "MinimalCase": {"references": Label.org_internal, "case_director_organisation": Label.general,
                    "case_director_role": Label.general},
    # A snooze of a kind of signal, read only by the case director and the chair (Op.snooze_read):
    # its kind and the director's reason are process information of that case. Not yet shaped by
    # the signal's label (noted in issue 11's closing note).
    "SnoozeOut": {"kind": Label.general, "reason": Label.general, "until": Label.general,
                  "active": Label.general, "ended_reason": Label.general},
    "PeriodCount": {},
    # Known elsewhere (hit/no-hit): whether a person identified by BSN is known in another
    # conference, and where; only to the member who asked (docs/known-elsewhere.md).
    "KnownElsewhereOut": {"known": Label.identity},
    "KnownConference": {"name": Label.identity, "chair_contact": Label.general},
    "KnownElsewhereQuestionOut": {"asking_conference": Label.general, "asked_by": Label.general,
                                  "known": Label.identity},
    # Guests of a case (issue 17): who was invited, from which organisation, why; the reason is
    # written by the chair for everyone on the case (process information, like a referral reason).
    "GuestInvitationOut": {"kind": Label.general, "organisation_name": Label.general,
                           "display_name": Label.general, "reason": Label.general},
    "GuestReadOut": {"part": Label.general, "outcome": Label.general},
    # The neighbourhood team's aftercare reports: kind and note carry the report's label (a
    # suspected relapse is health, owned by the reporter); the answer is the institution's health
    # information (shared with the team by the nazorg agreement).
    "AftercareReportOut": {"kind": BY_ROW, "note": BY_ROW, "reply": Label.health,
                           "via_partner_event": Label.general, "answered": Label.general,
                           "reply_hidden": Label.general, "reply_basis": Label.general},
    # Households: which cases belong together, their relation and whether a member is a minor
    # (process information of the conference); representatives: who (identity) and on which basis.
    "HouseholdOut": {"coordinator_name": Label.general},
    "HouseholdMemberOut": {"relation": Label.general, "minor": Label.general},
    "RepresentativeOut": {"kind": Label.general, "name": Label.identity, "basis": Label.general,
                          "valid_until": Label.general},
}


def _referenced(obj: object, schemas: dict, found: set[str]) -> None:
    if isinstance(obj, dict):
        ref = obj.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in found:
                found.add(name)
                _referenced(schemas.get(name, {}), schemas, found)
        for value in obj.values():
            _referenced(value, schemas, found)
    elif isinstance(obj, list):
        for value in obj:
            _referenced(value, schemas, found)


def _is_nested(prop: dict) -> bool:
    """A property that is another schema (or a list, map or optional of one): classified on its own."""
    if "$ref" in prop:
        return True
    for key in ("items", "additionalProperties"):
        if isinstance(prop.get(key), dict) and _is_nested(prop[key]):
            return True
    options = prop.get("anyOf") or prop.get("oneOf") or []
    real = [o for o in options if o.get("type") != "null"]
    return bool(real) and all(_is_nested(o) for o in real)


def unclassified(openapi: dict) -> list[str]:
    """`Schema.field` of every response field that carries data and has no classification."""
    schemas: dict = openapi.get("components", {}).get("schemas", {})
    in_responses: set[str] = set()
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                if str(code).startswith("2"):
                    _referenced(response, schemas, in_responses)
    problems = []
    for name in sorted(in_responses):
        schema = schemas.get(name, {})
        if name in NOT_CLIENT_DATA or "enum" in schema:
            continue
        declared = CLASSIFICATION.get(name, {})
        for field, prop in schema.get("properties", {}).items():
            if field in declared:
                if declared[field] not in RULES:
                    problems.append(f"{name}.{field}: unknown rule {declared[field]!r}")
                continue
            if is_metadata(field) or _is_nested(prop):
                continue
            problems.append(f"{name}.{field}")
    return problems
