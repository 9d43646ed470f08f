"""Consent and legal bases on screen: the section "Toestemming en grondslag" of the case page
(through the agreements' read path, its access rows delivered by the Guard) and the Dutch words
the agreement pages share (statuses, labels, organisation kinds, parties)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.auth.policy import Op, authorize
from app.models.enums import AgreementStatus, Phase
from app.services.agreements import reads as agreement_reads
from app.services.agreements.templates import CLIENT, KIND_NAMES_NL, LABEL_NAMES_NL

if TYPE_CHECKING:
    from app.services.cases.lifecycle import LoadedCase
    from app.web.session import WebContext

# Short status words for badges; the print view and the PDF use the longer sentences of
# app/services/agreements/render.py.
AGREEMENT_STATUS = {
    AgreementStatus.draft: "concept",
    AgreementStatus.signed: "getekend",
    AgreementStatus.active: "getekend en geldig",
    AgreementStatus.expired: "verlopen",
    AgreementStatus.withdrawn: "ingetrokken",
    AgreementStatus.superseded: "vervangen",
}
AGREEMENT_STATUS_HINT = {
    AgreementStatus.draft: "Nog niet door iedereen getekend; er wordt nog niets op gedeeld.",
    AgreementStatus.signed: "Door iedereen getekend; de toestemming gaat in op de begindatum.",
    AgreementStatus.active: "Door iedereen getekend; informatie wordt gedeeld zoals hieronder staat.",
    AgreementStatus.expired: "De einddatum is voorbij; er wordt niets meer op gedeeld.",
    AgreementStatus.withdrawn: "De cliënt heeft de toestemming ingetrokken; er wordt niets meer op gedeeld.",
    AgreementStatus.superseded: "Vervangen door een nieuwe overeenkomst.",
}
# Every organisation kind's Dutch name (the wider ring's too: app/services/agreements/templates.py).
KIND_NAMES = dict(KIND_NAMES_NL)
LABEL_NAMES = {"general": "algemene gegevens", "health": "gezondheid", "justice": "politie en justitie"}


def party_name(party: str) -> str:
    return "de cliënt" if party == CLIENT else KIND_NAMES.get(party, party)


def kinds_nl(kinds: list[str]) -> str:
    names = [KIND_NAMES.get(k, k) for k in kinds]
    if not names:
        return "niemand"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]


def scope_lines(scope: dict[str, list[str]]) -> list[str]:
    """'Informatie over gezondheid, behandeling en terugval: met de gemeente en de politie.'"""
    return [f"{LABEL_NAMES_NL.get(label, label)}: met {kinds_nl(kinds)}."
            for label in ("general", "health", "justice") if (kinds := scope.get(label))]


def template_globals() -> dict[str, object]:
    return {"AGREEMENT_STATUS": AGREEMENT_STATUS, "AGREEMENT_STATUS_HINT": AGREEMENT_STATUS_HINT,
            "LABEL_NAMES": LABEL_NAMES, "party_name": party_name, "kinds_nl": kinds_nl, "scope_lines": scope_lines}


@dataclass(frozen=True)
class ConsentView:
    consent: agreement_reads.CaseConsent
    may_start: bool  # the link to start an agreement (the policy decides again on the form)


async def consent_section(ctx: WebContext, loaded: LoadedCase) -> ConsentView | None:
    """The case's agreements and legal bases for the case page; None (nothing read, nothing
    logged) for a reader of the case who may not read agreements, such as an invited guest."""
    if not authorize(ctx.principal, Op.agreement_read, loaded.target).allowed:
        return None
    consent = ctx.guard.deliver(await agreement_reads.case_consent(ctx.guard.session, ctx.principal, loaded.case,
                                                                   loaded.client))
    may_start = loaded.case.phase != Phase.closed and authorize(ctx.principal, Op.agreement_create,
                                                                loaded.target).allowed
    return ConsentView(consent, may_start)
