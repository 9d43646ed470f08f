"""The case page's own changes (issue 15): a phase transition, the next review date and the case
director, for whom the policy lets change the case (the API's Op.case_transition and
Op.case_update: the chair).

What was submitted is read into the API's own schemas (`Transition`, `CaseUpdate`) with a Dutch
message per field, all fields in one round; the version the page showed is sent as If-Match to
the API's own check (`check_if_match`), and the services of app/services/cases/lifecycle.py decide
the rest exactly as for the API. A service's refusal is shown at the field it points at."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from starlette.datastructures import FormData

from app.auth.policy import Op, authorize
from app.clock import clock
from app.errors import InvalidTransition, UnprocessableEntity
from app.models.enums import ClosureReason, Phase, Role
from app.schemas.cases import CaseUpdate, Transition
from app.services.access import web_sessions as web_auth
from app.services.common import etag_of
from app.services.words import CLOSURE_REASONS, PHASES
from app.web.forms import int_or_none, parse_date
from app.web.render import nl_date

if TYPE_CHECKING:
    from app.models import Membership
    from app.schemas.cases import CaseDetail
    from app.services.cases.lifecycle import LoadedCase
    from app.web.session import WebContext

# Each form of the section: its path under /web/casussen/{id}/ and its fields.
FORMS: dict[str, tuple[str, ...]] = {
    "fase": ("fase", "sluitreden"),
    "evaluatie": ("evaluatiedatum",),
    "regisseur": ("casusregisseur",),
}
OPERATION = {"fase": Op.case_transition, "evaluatie": Op.case_update, "regisseur": Op.case_update}
# What the access log says was changed (the API's rows: part "phase" for a transition).
PART = {"fase": "phase", "evaluatie": None, "regisseur": None}
MESSAGES = {
    "fase": "Kies de fase waar de casus naartoe gaat.",
    "sluitreden": "Kies bij het afsluiten de reden van afsluiten.",
    "evaluatiedatum": "Vul een geldige evaluatiedatum in (dd-mm-jjjj), vandaag of later.",
    "casusregisseur": "Kies een casusregisseur uit de lijst (een deelnemer of de voorzitter).",
}
# What the services' refusals mean on the form (by the field they point at).
REFUSALS = {
    "fase": "Deze faseovergang is vanuit de huidige fase niet mogelijk.",
    "sluitreden": "Een reden van afsluiten hoort alleen bij de fase Afgesloten.",
    "evaluatiedatum": "De evaluatiedatum ligt vóór de opening van de casus.",
    "casusregisseur": "De casusregisseur moet deelnemer of voorzitter van dit casusoverleg zijn.",
}
CLOSED = "Een afgesloten casus kan niet meer worden gewijzigd."
POINTERS = {"#/closure_reason": "sluitreden", "#/next_review_date": "evaluatiedatum",
            "#/case_director_id": "casusregisseur"}
# The notice after a change (the redirect names the form, never a value).
DONE = {"fase": "De fase is gewijzigd.", "evaluatie": "De evaluatiedatum is opgeslagen.",
        "regisseur": "De casusregisseur is opgeslagen."}
# The element id of each field on the case page (the error summary links to it).
FIELD_IDS = {name: name for names in FORMS.values() for name in names}


@dataclass(frozen=True)
class CaseChanges:
    """What the case page offers its reader to change; the policy decides again on the POST."""

    version: int
    phase: bool  # may move the case to another phase
    update: bool  # may set the review date and the case director
    next_phases: list[str]
    directors: list[Membership]
    organisation_names: dict[uuid.UUID, str]
    today: str


def _may(ctx: WebContext, op: Op, loaded: LoadedCase) -> bool:
    return authorize(ctx.principal, op, loaded.target).allowed


async def case_changes(ctx: WebContext, loaded: LoadedCase, detail: CaseDetail) -> CaseChanges | None:
    """The section "Casus bijwerken" of the case page, or None for who may change nothing (and for
    a closed case: it has no next phase and is changed no more)."""
    if detail.phase == Phase.closed:
        return None
    phase = _may(ctx, Op.case_transition, loaded) and bool(detail.allowed_transitions)
    update = _may(ctx, Op.case_update, loaded)
    if not (phase or update):
        return None
    session = ctx.guard.session
    people = await web_auth.conference_people(session, loaded.case.conference_id) if update else []
    organisations = await web_auth.conference_organisations(session, loaded.case.conference_id) if update else []
    return CaseChanges(
        version=detail.version, phase=phase, update=update,
        next_phases=[p.value for p in detail.allowed_transitions],
        directors=[p for p in people if p.role in (Role.member, Role.chair)],
        organisation_names={o.id: o.name for o in organisations}, today=clock.today().isoformat(),
    )


@dataclass
class CaseForm:
    """One submitted form of the section, kept as typed to render it again."""

    name: str
    kept: dict[str, str] = field(default_factory=dict)
    version: int | None = None

    @classmethod
    def read(cls, name: str, form: FormData) -> CaseForm:
        return cls(name, {n: str(form.get(n) or "").strip() for n in FORMS[name]},
                   int_or_none(form.get("versie")))

    @property
    def if_match(self) -> str | None:
        """The version the page showed, as the API's If-Match (None: the form did not carry it)."""
        return etag_of(self.version) if self.version is not None else None

    def change(self) -> tuple[Transition | CaseUpdate | None, dict[str, str]]:
        """The API's request body for this form, or the Dutch message per field."""
        kept, errors = self.kept, {}
        if self.name == "fase":
            if kept["fase"] not in {p.value for p in Phase}:
                errors["fase"] = MESSAGES["fase"]
            closing = kept["fase"] == Phase.closed
            if closing and kept["sluitreden"] not in {r.value for r in ClosureReason}:
                errors["sluitreden"] = MESSAGES["sluitreden"]
            if errors:
                return None, errors
            return Transition(to=Phase(kept["fase"]),
                              closure_reason=ClosureReason(kept["sluitreden"]) if closing else None), {}
        if self.name == "evaluatie":
            review = parse_date(kept["evaluatiedatum"]) if kept["evaluatiedatum"] else ""
            if not isinstance(review, date) or review < clock.today():
                return None, {"evaluatiedatum": MESSAGES["evaluatiedatum"]}
            return CaseUpdate(next_review_date=review), {}
        try:
            return CaseUpdate(case_director_id=uuid.UUID(kept["casusregisseur"])), {}
        except ValueError:
            return None, {"casusregisseur": MESSAGES["casusregisseur"]}

    def refused(self, exc: UnprocessableEntity | InvalidTransition) -> dict[str, str]:
        """The field a service's refusal points at, with its Dutch message."""
        first = FORMS[self.name][0]
        if isinstance(exc, InvalidTransition):
            return {first: REFUSALS["fase"] if self.name == "fase" else CLOSED}
        pointer = str((exc.extra.get("errors") or [{}])[0].get("pointer", ""))
        name = POINTERS.get(pointer, first)
        return {name: REFUSALS[name]} if name in FORMS[self.name] else {first: REFUSALS[first]}

    def compare(self, current: CaseDetail, directors: list[Membership],
                current_director: str) -> list[tuple[str, str, str]]:
        """The conflict page's rows: (what, your version, the version stored now), in words."""
        kept = self.kept
        if self.name == "fase":
            rows = [("Fase", PHASES.get(kept["fase"], kept["fase"]), PHASES.get(current.phase, current.phase))]
            if kept["fase"] == Phase.closed or current.closure_reason:
                rows.append(("Reden van afsluiten", CLOSURE_REASONS.get(kept["sluitreden"], "—"),
                             CLOSURE_REASONS.get(current.closure_reason or "", "—")))
            return rows
        if self.name == "evaluatie":
            review = parse_date(kept["evaluatiedatum"])
            return [("Volgende evaluatie", nl_date(review) if isinstance(review, date) else kept["evaluatiedatum"],
                     nl_date(current.next_review_date))]
        named = next((p.display_name for p in directors if str(p.id) == kept["casusregisseur"]), "—")
        return [("Casusregisseur", named, current_director or "Nog niet benoemd")]

    def reapplicable(self, current: CaseDetail) -> bool:
        """Whether "my version" can still be saved on the stored one (a phase only where the
        lifecycle allows it from the phase the case is in now)."""
        if current.phase == Phase.closed:
            return False
        return self.name != "fase" or self.kept["fase"] in {p.value for p in current.allowed_transitions}
