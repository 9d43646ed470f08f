"""The expected access matrix: every route of the OpenAPI document, who may call it.

Keys are (METHOD, OpenAPI path). For each route:
- `allowed`: the callers that may do it on objects of their own conference (everyone else is
  refused with 403, or 404 where existence must not leak; lists simply don't show the object);
- `scope`: "conference" (objects or a conference in the path: another conference's are always
  404, answered exactly like a non-existent id), "list" (another conference's objects never
  appear, and their count is not in `total`), or "global" (not bound to a conference).

The callers (see tests/factories.py PEOPLE; all in conference A unless said otherwise):
  chair            gemeente, chair
  member           politie, member              (the test action belongs to the police)
  member_other_org zorg, member                 (the case director of conference A's case)
  liaison          politie, liaison
  privacy_officer  gemeente, privacy officer    (audit and subject access only: no case content)
  admin            gemeente, admin              (organisations, conferences, memberships: no case content)
  system           the police partner system    (by scope only: none of these routes)
  member_b         politie, member of conference B only (their own objects are B's)

A new route fails test_authz_matrix until it has an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("chair", "member", "member_other_org", "liaison", "privacy_officer", "admin", "system", "member_b")

PERSONS = frozenset(ROLES) - {"system"}
WORKERS = frozenset({"chair", "member", "member_other_org", "liaison", "member_b"})  # chair, member, liaison
MEMBERS = frozenset({"chair", "member", "member_other_org", "member_b"})  # chair and members
CHAIR = frozenset({"chair"})
ADMIN = frozenset({"admin"})
NOBODY: frozenset[str] = frozenset()


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
    ("GET", "/api/v1/conferences"): Rule(PERSONS, "list"),
    ("POST", "/api/v1/conferences"): Rule(ADMIN, "global"),
    ("GET", "/api/v1/conferences/{conference_id}/memberships"): Rule(PERSONS, "conference"),
    ("POST", "/api/v1/conferences/{conference_id}/memberships"): Rule(ADMIN, "conference"),
    ("GET", "/api/v1/memberships/{membership_id}/mandates"): Rule(PERSONS, "conference"),
    ("POST", "/api/v1/memberships/{membership_id}/mandates"): Rule(ADMIN, "conference"),
    # clients and referrals
    ("POST", "/api/v1/conferences/{conference_id}/clients/lookup"): Rule(MEMBERS, "conference"),
    ("POST", "/api/v1/conferences/{conference_id}/referrals"): Rule(WORKERS, "conference"),
    # the test referral comes from the police: the chair and the police's own people see it
    ("GET", "/api/v1/referrals"): Rule(frozenset({"chair", "member", "liaison", "member_b"}), "list"),
    ("GET", "/api/v1/referrals/{referral_id}"): Rule(
        frozenset({"chair", "member", "liaison", "member_b"}), "conference"
    ),
    ("POST", "/api/v1/referrals/{referral_id}/accept"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/referrals/{referral_id}/decline"): Rule(CHAIR, "conference"),
    # cases, plans, assessments
    ("GET", "/api/v1/cases"): Rule(WORKERS, "list"),
    ("GET", "/api/v1/cases/{case_id}"): Rule(WORKERS, "conference"),
    ("PATCH", "/api/v1/cases/{case_id}"): Rule(CHAIR, "conference"),
    ("POST", "/api/v1/cases/{case_id}/transitions"): Rule(CHAIR, "conference"),
    ("GET", "/api/v1/cases/{case_id}/history"): Rule(MEMBERS, "conference"),
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
    ("GET", "/api/v1/actions/{action_id}"): Rule(WORKERS, "conference"),
    ("PATCH", "/api/v1/actions/{action_id}"): Rule(
        frozenset({"chair", "member", "liaison", "member_b"}), "conference"
    ),
    ("GET", "/api/v1/conferences/{conference_id}/escalations"): Rule(CHAIR, "conference"),
}

# Routes without a bearer token (and so without a policy decision). The calendar feed is a
# capability URL (a calendar app cannot send a bearer token): its random token, stored hashed,
# is the credential, and the feed holds meeting dates only (tests/test_decisions.py checks it).
PUBLIC = {("GET", "/api/v1/health"), ("GET", "/api/v1/calendar/{token}.ics")}
