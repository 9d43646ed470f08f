"""The expected access matrix: every route of the OpenAPI document, who may call it.

Keys are (METHOD, OpenAPI path). For each route:
- `allowed`: the callers that may do it on objects of their own conference (everyone else is
  refused with 403, or 404 where existence must not leak; lists simply don't show the object);
- `scope`: "conference" (objects or a conference in the path or body: another conference's are
  always 404, answered exactly like a non-existent id), "list" (another conference's objects
  never appear, and their count is not in `total`), "owner" (a partner system's own objects:
  another system's answer exactly like a non-existent id), or "global" (not bound to a conference).
Every refusal (403, or the policy's 404) must be in the access log, whatever the scope.

The callers (see tests/factories.py PEOPLE; all in conference A unless said otherwise):
  chair            gemeente, chair
  member           politie, member              (the test action belongs to the police)
  member_other_org zorg, member                 (the case director of conference A's case)
  liaison          politie, liaison
  privacy_officer  gemeente, privacy officer    (audit and subject access only: no case content)
  admin            gemeente, admin              (organisations, conferences, memberships: no case content);
                                                also an administrator of the municipality itself, whose
                                                identity settings and partner systems are the objects
  system           the police partner system    (by scope only: events:write, cases:read-minimal)
  webhook_system   the care partner system      (by scope only: webhooks:manage; its subscription is
                                                 "A"'s, the police system's is "B"'s)
  member_b         politie, member of conference B only (their own objects are B's)

The objects (tests/test_authz_matrix.py `_objects`), the same in both conferences: a case (in A
directed by member_other_org), a police action on it, a pending police referral, a draft
three-party agreement (parties: the municipality and addiction care; the client signed on paper,
with a scan), a legal basis, meetings (a draft agenda, a published agenda of a meeting that has
started, and a held meeting with published decisions), a subscription with a dead letter.

A new route fails test_authz_matrix until it has an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = (
    "chair",
    "member",
    "member_other_org",
    "liaison",
    "privacy_officer",
    "admin",
    "system",
    "webhook_system",
    "member_b",
)

PERSONS = frozenset(ROLES) - {"system", "webhook_system"}
WORKERS = frozenset({"chair", "member", "member_other_org", "liaison", "member_b"})  # chair, member, liaison
MEMBERS = frozenset({"chair", "member", "member_other_org", "member_b"})  # chair and members
CHAIR = frozenset({"chair"})
ADMIN = frozenset({"admin"})
PRIVACY_OFFICER = frozenset({"privacy_officer"})
NOBODY: frozenset[str] = frozenset()
# The text of an agreement: the chair, the case director and the parties' organisations (the
# municipality and addiction care). In B the police member is none of these.
AGREEMENT_TEXT = frozenset({"chair", "member_other_org"})


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    scope: str  # "conference", "list" or "global"


MATRIX: dict[tuple[str, str], Rule] = {
    # who am I (no client data; partner systems too)
    ("GET", "/api/v1/me"): Rule(frozenset(ROLES), "global"),
    # administration: organisations and identity providers (admins only), conferences, memberships
    ("GET", "/api/v1/organisations"): Rule(PERSONS, "global"),
    ("POST", "/api/v1/organisations"): Rule(ADMIN, "global"),
    ("PATCH", "/api/v1/organisations/{organisation_id}"): Rule(ADMIN, "global"),
    ("GET", "/api/v1/organisations/{organisation_id}/identity"): Rule(ADMIN, "global"),
    ("GET", "/api/v1/organisations/{organisation_id}/partner-systems"): Rule(ADMIN, "global"),
    ("POST", "/api/v1/organisations/{organisation_id}/partner-systems"): Rule(ADMIN, "global"),
    ("PATCH", "/api/v1/organisations/{organisation_id}/partner-systems/{system_id}"): Rule(ADMIN, "global"),
    # a change of issuer or keys, requested by the municipality's second administrator
    ("POST", "/api/v1/organisations/{organisation_id}/identity-changes/{change_id}/approve"): Rule(
        ADMIN, "global"
    ),
    ("POST", "/api/v1/organisations/{organisation_id}/identity-changes/{change_id}/reject"): Rule(
        ADMIN, "global"
    ),
    ("GET", "/api/v1/organisations/{organisation_id}/administrators"): Rule(ADMIN, "global"),
    ("POST", "/api/v1/organisations/{organisation_id}/administrators"): Rule(ADMIN, "global"),
    # the record of administrative changes: administrators and privacy officers (each their part)
    ("GET", "/api/v1/admin-changes"): Rule(ADMIN | PRIVACY_OFFICER, "global"),
    ("GET", "/api/v1/conferences"): Rule(PERSONS, "list"),
    ("POST", "/api/v1/conferences"): Rule(ADMIN, "global"),
    # its settings (whether it takes part in known-elsewhere questions): its administrators
    ("PATCH", "/api/v1/conferences/{conference_id}"): Rule(ADMIN, "conference"),
    ("GET", "/api/v1/conferences/{conference_id}/memberships"): Rule(PERSONS, "conference"),
    ("POST", "/api/v1/conferences/{conference_id}/memberships"): Rule(ADMIN, "conference"),
    ("GET", "/api/v1/memberships/{membership_id}/mandates"): Rule(PERSONS, "conference"),
    ("POST", "/api/v1/memberships/{membership_id}/mandates"): Rule(ADMIN, "conference"),
    # clients and referrals
    ("POST", "/api/v1/conferences/{conference_id}/clients/lookup"): Rule(MEMBERS, "conference"),
    # known elsewhere (hit/no-hit): asked like a look-up by BSN; a question is read by the chairs
    # of the asking conference and of a conference that knew the person
    ("POST", "/api/v1/conferences/{conference_id}/known-elsewhere"): Rule(MEMBERS, "conference"),
    ("GET", "/api/v1/known-elsewhere/{question_id}"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/conferences/{conference_id}/referrals"): Rule(WORKERS, "conference"),
    # a worry from the social surroundings, recorded by the chair or a member (issue 17)
    ("POST", "/api/v1/conferences/{conference_id}/concerns"): Rule(MEMBERS, "conference"),
    # the test referral comes from the police: the chair and the police's own people see it
    ("GET", "/api/v1/referrals"): Rule(frozenset({"chair", "member", "liaison", "member_b"}), "list"),
    ("GET", "/api/v1/referrals/{referral_id}"): Rule(
        frozenset({"chair", "member", "liaison", "member_b"}), "conference"
    ),
    ("POST", "/api/v1/referrals/{referral_id}/accept"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/referrals/{referral_id}/decline"): Rule(CHAIR, "conference"),
    # consultations without a file (issue 17): the test consultation is asked by the police member
    # of the addiction care institution; who asked reads and converts it, addiction care reads and
    # answers it, the chair reads it; the count is a figure for every case worker
    ("POST", "/api/v1/conferences/{conference_id}/consultations"): Rule(MEMBERS, "conference"),
    ("GET", "/api/v1/consultations"): Rule(frozenset({"chair", "member", "member_other_org", "member_b"}), "list"),
    ("GET", "/api/v1/consultations/{consultation_id}"): Rule(
        frozenset({"chair", "member", "member_other_org", "member_b"}), "conference"
    ),
    ("POST", "/api/v1/consultations/{consultation_id}/answer"): Rule(frozenset({"member_other_org"}), "conference"),
    ("POST", "/api/v1/consultations/{consultation_id}/referral"): Rule(frozenset({"member", "member_b"}), "conference"),
    ("GET", "/api/v1/conferences/{conference_id}/consultation-count"): Rule(WORKERS, "conference"),
    # cases, plans, assessments
    ("GET", "/api/v1/cases"): Rule(WORKERS, "list"),
    ("GET", "/api/v1/cases/{case_id}"): Rule(WORKERS, "conference"),
    ("PATCH", "/api/v1/cases/{case_id}"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/cases/{case_id}/transitions"): Rule(CHAIR, "conference"),
    # break-glass: the chair and members open hidden information in an emergency; never liaisons
    ("POST", "/api/v1/cases/{case_id}/break-glass"): Rule(MEMBERS, "conference"),
    # guests of a case (issue 17): the chair invites and ends; everyone on the case sees who and why
    ("POST", "/api/v1/cases/{case_id}/guests"): Rule(CHAIR, "conference"),
    ("GET", "/api/v1/cases/{case_id}/guests"): Rule(WORKERS, "conference"),
    ("POST", "/api/v1/cases/{case_id}/guests/{invitation_id}/revoke"): Rule(CHAIR, "conference"),
    # two-way aftercare (issue 17): everyone on the case reads (by labels); only people of the
    # neighbourhood team report (none among these callers: tests/test_aftercare_two_way.py), only
    # people of addiction care answer
    ("GET", "/api/v1/cases/{case_id}/aftercare-reports"): Rule(WORKERS, "conference"),
    ("POST", "/api/v1/cases/{case_id}/aftercare-reports"): Rule(NOBODY, "conference"),
    ("POST", "/api/v1/cases/{case_id}/aftercare-reports/{report_id}/reply"): Rule(frozenset({"member_other_org"}), "conference"),
    # households and legal representatives (issue 17): the chair links a household; the chair or
    # the case director (member_other_org in A) records a representative; everyone on the case reads
    ("POST", "/api/v1/conferences/{conference_id}/households"): Rule(CHAIR, "conference"),
    ("GET", "/api/v1/cases/{case_id}/household"): Rule(WORKERS, "conference"),
    ("GET", "/api/v1/cases/{case_id}/representatives"): Rule(WORKERS, "conference"),
    ("POST", "/api/v1/cases/{case_id}/representatives"): Rule(frozenset({"chair", "member_other_org"}), "conference"),
    ("GET", "/api/v1/cases/{case_id}/history"): Rule(MEMBERS, "conference"),
    # the case as a FHIR Bundle: the care part for case workers, the access-log part for the
    # privacy officer (docs/fhir.md)
    ("GET", "/api/v1/cases/{case_id}/fhir"): Rule(WORKERS | PRIVACY_OFFICER, "conference"),
    ("GET", "/api/v1/cases/{case_id}/assessments"): Rule(WORKERS, "conference"),
    # the chair, and the case director (member_other_org directs conference A's case)
    ("POST", "/api/v1/cases/{case_id}/assessments"): Rule(
        frozenset({"chair", "member_other_org"}), "conference"
    ),
    ("GET", "/api/v1/cases/{case_id}/plan"): Rule(WORKERS, "conference"),
    ("PATCH", "/api/v1/cases/{case_id}/plan"): Rule(frozenset({"chair", "member_other_org"}), "conference"),
    # actions: members commit; the owner organisation's members and liaisons update
    ("POST", "/api/v1/cases/{case_id}/actions"): Rule(MEMBERS, "conference"),
    ("GET", "/api/v1/actions"): Rule(WORKERS, "list"),
    # an action prefilled from the catalogue (the municipality's test intervention): as any action
    ("POST", "/api/v1/cases/{case_id}/actions/from-intervention"): Rule(MEMBERS, "conference"),
    # each organisation's catalogue of interventions: read by every person, kept by the
    # organisation's administrators, chairs and members (the test catalogue is the municipality's)
    ("GET", "/api/v1/organisations/{organisation_id}/interventions"): Rule(PERSONS, "global"),
    ("POST", "/api/v1/organisations/{organisation_id}/interventions"): Rule(frozenset({"chair", "admin"}), "global"),
    ("PATCH", "/api/v1/interventions/{intervention_id}"): Rule(frozenset({"chair", "admin"}), "global"),
    ("GET", "/api/v1/actions/{action_id}"): Rule(WORKERS, "conference"),
    ("PATCH", "/api/v1/actions/{action_id}"): Rule(
        frozenset({"chair", "member", "liaison", "member_b"}), "conference"
    ),
    ("GET", "/api/v1/conferences/{conference_id}/escalations"): Rule(CHAIR, "conference"),
    # your organisation's open actions (the police's action: the police's people); the privacy
    # officer and the administrator see no actions
    ("GET", "/api/v1/me/digest"): Rule(frozenset({"member", "liaison", "member_b"}), "list"),
    # reminders for you and your organisation: ids and dates only
    ("GET", "/api/v1/me/notifications"): Rule(PERSONS, "global"),
    # notes: every case worker writes and reads (what they see of them follows the labels)
    ("POST", "/api/v1/cases/{case_id}/notes"): Rule(WORKERS, "conference"),
    ("GET", "/api/v1/cases/{case_id}/notes"): Rule(WORKERS, "conference"),
    # agreements: templates hold no client data; reading for case workers, the text only for the
    # chair, the case director and the parties; making, signing and withdrawing for members
    ("GET", "/api/v1/agreement-templates"): Rule(PERSONS, "global"),
    ("GET", "/api/v1/zrm/anchors"): Rule(PERSONS, "global"),
    ("GET", "/api/v1/cases/{case_id}/agreements"): Rule(WORKERS, "conference"),
    ("POST", "/api/v1/cases/{case_id}/agreements"): Rule(MEMBERS, "conference"),
    ("GET", "/api/v1/agreements/{agreement_id}"): Rule(WORKERS, "conference"),
    ("GET", "/api/v1/agreements/{agreement_id}/print"): Rule(AGREEMENT_TEXT, "conference"),
    ("GET", "/api/v1/agreements/{agreement_id}/pdf"): Rule(AGREEMENT_TEXT, "conference"),
    ("GET", "/api/v1/agreements/{agreement_id}/client-signature/scan"): Rule(AGREEMENT_TEXT, "conference"),
    # the body signs for addiction care: only its member, with a signing mandate
    ("POST", "/api/v1/agreements/{agreement_id}/signatures"): Rule(frozenset({"member_other_org"}), "conference"),
    ("POST", "/api/v1/agreements/{agreement_id}/client-signature"): Rule(AGREEMENT_TEXT, "conference"),
    # a withdrawal is recorded by the chair or a member of a party organisation (gemeente, zorg)
    ("POST", "/api/v1/agreements/{agreement_id}/withdrawals"): Rule(AGREEMENT_TEXT, "conference"),
    # legal bases: recorded and ended by the chair; read, with the sharing overview, by case workers
    ("GET", "/api/v1/cases/{case_id}/legal-bases"): Rule(WORKERS, "conference"),
    ("POST", "/api/v1/cases/{case_id}/legal-bases"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/cases/{case_id}/legal-bases/{basis_id}/end"): Rule(CHAIR, "conference"),
    ("GET", "/api/v1/cases/{case_id}/sharing"): Rule(WORKERS, "conference"),
    # the intake checklist: read by case workers, ticked by members, the overview for the chair
    ("GET", "/api/v1/cases/{case_id}/checklist"): Rule(WORKERS, "conference"),
    ("PUT", "/api/v1/cases/{case_id}/checklist/{item}"): Rule(MEMBERS, "conference"),
    ("GET", "/api/v1/checklists"): Rule(CHAIR, "list"),
    # meetings: case workers see them; the chair plans them, edits and publishes the agenda and
    # records decisions; members see the published agenda and the published decisions
    ("GET", "/api/v1/conferences/{conference_id}/meetings"): Rule(WORKERS, "conference"),
    ("POST", "/api/v1/conferences/{conference_id}/meetings"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/conferences/{conference_id}/meetings/generate"): Rule(CHAIR, "conference"),
    ("GET", "/api/v1/meetings/{meeting_id}"): Rule(WORKERS, "conference"),
    ("POST", "/api/v1/meetings/{meeting_id}/move"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/meetings/{meeting_id}/cancel"): Rule(CHAIR, "conference"),
    ("GET", "/api/v1/meetings/{meeting_id}/agenda"): Rule(WORKERS, "conference"),
    ("GET", "/api/v1/meetings/{meeting_id}/agenda.html"): Rule(WORKERS, "conference"),
    ("GET", "/api/v1/meetings/{meeting_id}/agenda.pdf"): Rule(WORKERS, "conference"),
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/draft"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/items"): Rule(CHAIR, "conference"),
    ("DELETE", "/api/v1/meetings/{meeting_id}/agenda/items/{item_id}"): Rule(CHAIR, "conference"),
    ("PATCH", "/api/v1/meetings/{meeting_id}/agenda/items/{item_id}"): Rule(CHAIR, "conference"),
    ("PUT", "/api/v1/meetings/{meeting_id}/agenda/order"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/publish"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/reopen"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/discussion-requests"): Rule(MEMBERS, "conference"),
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/items/{item_id}/decisions"): Rule(CHAIR, "conference"),
    ("GET", "/api/v1/meetings/{meeting_id}/decisions"): Rule(WORKERS, "conference"),
    ("GET", "/api/v1/meetings/{meeting_id}/decisions.html"): Rule(WORKERS, "conference"),
    ("GET", "/api/v1/meetings/{meeting_id}/decisions.pdf"): Rule(WORKERS, "conference"),
    ("POST", "/api/v1/meetings/{meeting_id}/decisions/publish"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/calendar-feeds"): Rule(WORKERS, "conference"),
    # partner events: pushed by a system with events:write; the timeline, relapses and flags for
    # case workers (details filtered by label)
    ("POST", "/api/v1/events"): Rule(frozenset({"system"}), "global"),
    ("GET", "/api/v1/cases/{case_id}/events"): Rule(WORKERS, "conference"),
    ("GET", "/api/v1/cases/{case_id}/relapses"): Rule(WORKERS, "conference"),
    ("GET", "/api/v1/cases/{case_id}/flags"): Rule(WORKERS, "conference"),
    # client references: each organisation's own, linked by its people (or a system with
    # clients:link, which the matrix's systems lack); the test reference is the police's
    ("GET", "/api/v1/cases/{case_id}/references"): Rule(WORKERS, "conference"),
    ("POST", "/api/v1/cases/{case_id}/references"): Rule(WORKERS, "conference"),
    ("DELETE", "/api/v1/cases/{case_id}/references/{reference_id}"): Rule(
        frozenset({"member", "liaison", "member_b"}), "conference"
    ),
    # the minimal case view: a partner system with cases:read-minimal, for clients its
    # organisation holds a reference for (the police system holds the test reference)
    ("GET", "/api/v1/cases/{case_id}/minimal"): Rule(frozenset({"system"}), "global"),
    ("POST", "/api/v1/cases/minimal-lookup"): Rule(frozenset({"system"}), "global"),
    # snoozes of a kind of signal: the case director (member_other_org in A) and the chair
    # manage them, the chair and members see them
    ("GET", "/api/v1/cases/{case_id}/snoozes"): Rule(MEMBERS, "conference"),
    ("POST", "/api/v1/cases/{case_id}/snoozes"): Rule(frozenset({"chair", "member_other_org"}), "conference"),
    ("DELETE", "/api/v1/cases/{case_id}/snoozes/{snooze_id}"): Rule(
        frozenset({"chair", "member_other_org"}), "conference"
    ),
    # webhooks: a system with webhooks:manage, its own subscriptions only; dead letters: admins
    ("POST", "/api/v1/subscriptions"): Rule(frozenset({"webhook_system"}), "global"),
    ("GET", "/api/v1/subscriptions"): Rule(frozenset({"webhook_system"}), "list"),
    ("DELETE", "/api/v1/subscriptions/{subscription_id}"): Rule(frozenset({"webhook_system"}), "owner"),
    ("GET", "/api/v1/admin/dead-letters"): Rule(ADMIN, "global"),
    ("POST", "/api/v1/admin/dead-letters/{message_id}/replay"): Rule(ADMIN, "global"),
    # outcome figures (aggregates, small numbers withheld): the chair and the members (and the
    # municipality's policy staff, who are not among these callers: tests/test_outcomes.py)
    ("GET", "/api/v1/conferences/{conference_id}/outcomes"): Rule(MEMBERS, "conference"),
    ("GET", "/api/v1/conferences/{conference_id}/outcomes.csv"): Rule(MEMBERS, "conference"),
    # the access log: the privacy officer only (and no case content for them elsewhere)
    ("GET", "/api/v1/audit/log"): Rule(PRIVACY_OFFICER, "global"),
    ("GET", "/api/v1/audit/verify"): Rule(PRIVACY_OFFICER, "global"),
    ("GET", "/api/v1/audit/clients/{client_number}/report"): Rule(PRIVACY_OFFICER, "conference"),
    ("GET", "/api/v1/audit/clients/{client_number}/export"): Rule(PRIVACY_OFFICER, "conference"),
    # a client's requests under the AVG (issue 21): the privacy officer of the client's conference
    ("POST", "/api/v1/audit/clients/{client_number}/requests"): Rule(PRIVACY_OFFICER, "conference"),
    ("GET", "/api/v1/client-requests"): Rule(PRIVACY_OFFICER, "list"),
    ("GET", "/api/v1/client-requests/{request_id}"): Rule(PRIVACY_OFFICER, "conference"),
    ("POST", "/api/v1/client-requests/{request_id}/extension"): Rule(PRIVACY_OFFICER, "conference"),
    ("POST", "/api/v1/client-requests/{request_id}/corrections"): Rule(PRIVACY_OFFICER, "conference"),
    ("POST", "/api/v1/client-requests/{request_id}/answer"): Rule(PRIVACY_OFFICER, "conference"),
}

# Routes without a bearer token (and so without a policy decision). The calendar feed is a
# capability URL (a calendar app cannot send a bearer token): its random token, stored hashed,
# is the credential, and the feed holds meeting dates only (tests/test_decisions.py checks it).
PUBLIC = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/health/live"),
    ("GET", "/api/v1/health/ready"),
    ("GET", "/api/v1/calendar/{token}.ics"),
}


# --- the web client -------------------------------------------------------------------------------
# Every /web route of the application's route list (tests/routes.py app_routes), who may use it,
# checked over real HTTP with real web sessions by tests/web/test_authz_web.py; a web route without
# an entry fails tests/test_authz_matrix.py. Partner systems never sign in to the web client.
#
# `scope` for the web:
# - "conference": an object of the caller's conference in the path; allowed callers get the page
#   (200, or a redirect for a form), the others a Dutch 403 or 404 page; another conference's object
#   answers 404, exactly like an id that does not exist;
# - "list": a page listing objects: allowed callers see their conference's object on it (WEB_LIST_ITEM),
#   nobody sees another conference's;
# - "page": no object: allowed callers get the page, the others a Dutch 403 or 404 page.
# A POST is sent with the session's CSRF token and the form of WEB_FORMS (if any): allowed callers are
# not refused, the others are (403/404, or 422 where the page checks the form before the policy).

WEB_ROLES = tuple(r for r in ROLES if r in PERSONS)
EVERYONE = frozenset(WEB_ROLES)
POLICE = frozenset({"member", "liaison", "member_b"})  # the test action, notification and referral are the police's


@dataclass(frozen=True)
class WebRule:
    allowed: frozenset[str]
    scope: str  # "conference", "list" or "page"


WEB_MATRIX: dict[tuple[str, str], WebRule] = {
    ("POST", "/web/uitloggen"): WebRule(EVERYONE, "page"),
    # Mijn acties: the open actions of your own organisation (the test action is the police's)
    ("GET", "/web/acties"): WebRule(POLICE, "list"),
    ("POST", "/web/acties/{action_id}"): WebRule(frozenset({"chair", "member", "liaison", "member_b"}), "conference"),
    # cases: every case worker, what the policy lets them see
    ("GET", "/web/casussen"): WebRule(WORKERS, "list"),
    ("GET", "/web/casussen/{case_id}"): WebRule(WORKERS, "conference"),
    # the same list searched from the form's body (a name never in a URL): what the GET shows, so
    # an empty list for who sees no cases; a name only counts for the chair and members
    ("POST", "/web/casussen"): WebRule(EVERYONE, "page"),
    # the case page's changes: phase, review date, case director (the API's case:transition and
    # case:update, the chair)
    ("POST", "/web/casussen/{case_id}/fase"): WebRule(CHAIR, "conference"),
    ("POST", "/web/casussen/{case_id}/evaluatie"): WebRule(CHAIR, "conference"),
    ("POST", "/web/casussen/{case_id}/regisseur"): WebRule(CHAIR, "conference"),
    # referrals: case workers refer; the list shows the chair and the referrer's organisation theirs
    ("GET", "/web/aanmeldingen"): WebRule(EVERYONE, "page"),
    ("POST", "/web/aanmeldingen"): WebRule(WORKERS, "page"),
    # triage: the chair accepts or declines; the referrer's organisation follows its referral
    ("GET", "/web/aanmeldingen/{referral_id}"): WebRule(POLICE | CHAIR, "conference"),
    ("POST", "/web/aanmeldingen/{referral_id}/accepteren"): WebRule(CHAIR, "conference"),
    ("POST", "/web/aanmeldingen/{referral_id}/afwijzen"): WebRule(CHAIR, "conference"),
    # agreements: read by case workers; made by members; the text, the scan, signatures and
    # withdrawals for the chair, the case director and the parties (AGREEMENT_TEXT); only addiction
    # care's member signs for addiction care
    ("GET", "/web/casussen/{case_id}/overeenkomsten/nieuw"): WebRule(MEMBERS, "conference"),
    ("POST", "/web/casussen/{case_id}/overeenkomsten"): WebRule(MEMBERS, "conference"),
    ("GET", "/web/overeenkomsten/{agreement_id}"): WebRule(WORKERS, "conference"),
    ("GET", "/web/overeenkomsten/{agreement_id}/afdrukken"): WebRule(AGREEMENT_TEXT, "conference"),
    ("GET", "/web/overeenkomsten/{agreement_id}/pdf"): WebRule(AGREEMENT_TEXT, "conference"),
    ("GET", "/web/overeenkomsten/{agreement_id}/scan"): WebRule(AGREEMENT_TEXT, "conference"),
    ("POST", "/web/overeenkomsten/{agreement_id}/tekenen"): WebRule(frozenset({"member_other_org"}), "conference"),
    ("POST", "/web/overeenkomsten/{agreement_id}/handtekening-client"): WebRule(AGREEMENT_TEXT, "conference"),
    ("POST", "/web/overeenkomsten/{agreement_id}/intrekken"): WebRule(AGREEMENT_TEXT, "conference"),
    # meetings: the chair plans and prepares; case workers read what is published
    ("GET", "/web/agenda"): WebRule(EVERYONE, "page"),
    ("GET", "/web/vergaderingen"): WebRule(EVERYONE, "page"),
    ("POST", "/web/vergaderingen/plannen"): WebRule(CHAIR, "page"),
    ("GET", "/web/vergaderingen/{meeting_id}"): WebRule(WORKERS, "conference"),
    ("POST", "/web/vergaderingen/{meeting_id}/agenda/concept"): WebRule(CHAIR, "conference"),
    ("POST", "/web/vergaderingen/{meeting_id}/agenda/punten"): WebRule(CHAIR, "conference"),
    ("POST", "/web/vergaderingen/{meeting_id}/agenda/punten/{item_id}/verwijderen"): WebRule(CHAIR, "conference"),
    ("POST", "/web/vergaderingen/{meeting_id}/agenda/punten/{item_id}/terugzetten"): WebRule(CHAIR, "conference"),
    ("POST", "/web/vergaderingen/{meeting_id}/agenda/punten/{item_id}/verplaatsen"): WebRule(CHAIR, "conference"),
    ("POST", "/web/vergaderingen/{meeting_id}/agenda/punten/{item_id}/tijd"): WebRule(CHAIR, "conference"),
    ("POST", "/web/vergaderingen/{meeting_id}/agenda/publiceren"): WebRule(CHAIR, "conference"),
    ("POST", "/web/vergaderingen/{meeting_id}/agenda/heropenen"): WebRule(CHAIR, "conference"),
    ("GET", "/web/vergaderingen/{meeting_id}/besluiten"): WebRule(WORKERS, "conference"),
    ("GET", "/web/vergaderingen/{meeting_id}/vergadering"): WebRule(CHAIR, "conference"),  # meeting mode
    ("POST", "/web/vergaderingen/{meeting_id}/punten/{item_id}/besluit"): WebRule(CHAIR, "conference"),
    ("POST", "/web/vergaderingen/{meeting_id}/besluiten/publiceren"): WebRule(CHAIR, "conference"),
    ("GET", "/web/vergaderingen/{meeting_id}/agenda/afdrukken"): WebRule(WORKERS, "conference"),
    ("GET", "/web/vergaderingen/{meeting_id}/besluiten/afdrukken"): WebRule(WORKERS, "conference"),
    # notifications: your own (the test notification is the police's); marking another's read does nothing
    ("GET", "/web/meldingen"): WebRule(EVERYONE, "page"),
    ("GET", "/web/meldingen/{notification_id}"): WebRule(POLICE, "conference"),
    ("POST", "/web/meldingen/gelezen"): WebRule(EVERYONE, "page"),
    ("POST", "/web/meldingen/{notification_id}/gelezen"): WebRule(EVERYONE, "page"),
    # two-way aftercare: the neighbourhood team reports (none among these callers), addiction care replies
    ("POST", "/web/casussen/{case_id}/nazorg"): WebRule(NOBODY, "conference"),
    ("POST", "/web/casussen/{case_id}/nazorg/{report_id}/antwoord"): WebRule(frozenset({"member_other_org"}), "conference"),
    # guests of one case: the chair invites (issue 17)
    ("POST", "/web/casussen/{case_id}/gasten"): WebRule(CHAIR, "conference"),
    # the privacy officer's register of client requests (AVG)
    ("GET", "/web/privacy/verzoeken"): WebRule(PRIVACY_OFFICER, "page"),
    ("POST", "/web/privacy/verzoeken"): WebRule(PRIVACY_OFFICER, "page"),
    ("POST", "/web/privacy/verzoeken/{request_id}/verlengen"): WebRule(PRIVACY_OFFICER, "conference"),
    ("POST", "/web/privacy/verzoeken/{request_id}/antwoord"): WebRule(PRIVACY_OFFICER, "conference"),
    ("POST", "/web/privacy/verzoeken/{request_id}/correctie"): WebRule(PRIVACY_OFFICER, "conference"),
    # outcome figures (Uitkomsten): the chair and members of their own conference (and policy staff,
    # who are not among these callers: tests/web/test_outcomes_web.py)
    ("GET", "/web/uitkomsten"): WebRule(MEMBERS, "page"),
    ("GET", "/web/uitkomsten.csv"): WebRule(MEMBERS, "page"),
    ("GET", "/web/uitkomsten.json"): WebRule(MEMBERS, "page"),
    # the privacy officer's pages: the access log, the subject-access report, the export
    ("GET", "/web/privacy"): WebRule(PRIVACY_OFFICER, "page"),
    ("GET", "/web/privacy/clienten/{client_number}"): WebRule(PRIVACY_OFFICER, "conference"),
    ("GET", "/web/privacy/clienten/{client_number}/inzage"): WebRule(PRIVACY_OFFICER, "conference"),
    ("GET", "/web/privacy/clienten/{client_number}/inzage.pdf"): WebRule(PRIVACY_OFFICER, "conference"),
    ("GET", "/web/privacy/clienten/{client_number}/export"): WebRule(PRIVACY_OFFICER, "conference"),
}

# Web routes without a session: the sign-in round trip, and the start page that sends you there.
WEB_PUBLIC = {
    ("GET", "/web/"),
    ("GET", "/web/inloggen"),
    ("POST", "/web/inloggen"),
    ("GET", "/web/callback"),
}

# Which of the matrix's objects a web route's path parameter is (default: the one of the same name).
_PUBLISHED = {"meeting_id": "published_meeting_id", "item_id": "published_item_id"}
WEB_PARAMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/web/vergaderingen/{meeting_id}/agenda/heropenen"): _PUBLISHED,
    ("POST", "/web/vergaderingen/{meeting_id}/punten/{item_id}/besluit"): _PUBLISHED,
    ("POST", "/web/vergaderingen/{meeting_id}/besluiten/publiceren"): _PUBLISHED,
    ("GET", "/web/vergaderingen/{meeting_id}/agenda/afdrukken"): _PUBLISHED,
    ("GET", "/web/vergaderingen/{meeting_id}/vergadering"): _PUBLISHED,
    ("GET", "/web/vergaderingen/{meeting_id}/besluiten"): {"meeting_id": "held_meeting_id"},
    ("GET", "/web/vergaderingen/{meeting_id}/besluiten/afdrukken"): {"meeting_id": "held_meeting_id"},
}

# List pages: which object must show on the page (its id in the HTML) for the allowed callers.
WEB_LIST_ITEM = {
    "/web/acties": "action_id",
    "/web/casussen": "case_id",
}
