"""The decision form of the web client (the decisions page and meeting mode share it): its field
names, reading what was submitted into a `DecisionCreate` with Dutch messages per field, and
where a service's refusal points on the form.

One decision carries a text and, on a case, any number of action rows (title, life domain, owner
organisation, assignee, due date "uiterlijk", and the mandate fields where resources are
committed), a phase change, a review date and a case director. The fields of action row i are
named `a{i}-titel`, `a{i}-eigenaar`, ...; the form says how many rows it has in `rijen`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import InvalidOperation
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.clock import clock
from app.errors import InvalidTransition, UnprocessableEntity
from app.models.enums import ClosureReason, Phase
from app.schemas.cases import ActionCreate
from app.schemas.meetings import DecisionCreate, PhaseChange
from app.web.forms import cents, int_or_none, parse_date

MAX_ROWS = 20  # DecisionCreate takes at most 20 actions
ROW_FIELDS = ("titel", "leefgebied", "eigenaar", "uitvoerder", "uiterlijk", "middel", "bedrag", "toegezegd")
# The fields that make a row count as filled in (a life domain or committer alone does not).
ROW_CONTENT = ("titel", "eigenaar", "uitvoerder", "uiterlijk", "middel", "bedrag")
DECISION_FIELDS = ("tekst", "fase", "sluitreden", "evaluatiedatum", "casusregisseur")
ACTION_FIELDS = {"title": "titel", "life_domain": "leefgebied", "owner_organisation_id": "eigenaar",
                 "assignee_id": "uitvoerder", "due_date": "uiterlijk", "resource_scope": "middel",
                 "resource_amount_cents": "bedrag", "committed_by_id": "toegezegd"}
MESSAGES = {
    "tekst": "Beschrijf het besluit (maximaal 4000 tekens).",
    "titel": "Geef de actie een titel (maximaal 200 tekens).",
    "leefgebied": "Kies een leefgebied.",
    "eigenaar": "Kies de organisatie die de actie uitvoert.",
    "uitvoerder": "Kies een uitvoerder uit de lijst.",
    "uiterlijk": "Vul een geldige datum in waarop de actie uiterlijk klaar is (dd-mm-jjjj).",
    "middel": "Kies een middel uit de lijst.",
    "bedrag": "Vul een bedrag in euro in, bijvoorbeeld 250 of 1250,50.",
    "toegezegd": "Kies wie de toezegging doet.",
    "fase": "Kies een fase uit de lijst.",
    "sluitreden": "Kies bij het afsluiten de reden van afsluiten.",
    "evaluatiedatum": "Vul een geldige evaluatiedatum in (dd-mm-jjjj), vandaag of later.",
    "casusregisseur": "Kies een casusregisseur uit de lijst (een deelnemer of de voorzitter).",
}
# What the services' refusals mean on the form (by the field they point at).
REFUSALS = {
    "eigenaar": "Deze organisatie neemt niet deel aan dit casusoverleg.",
    "uitvoerder": "De uitvoerder moet bij de organisatie horen die de actie uitvoert.",
    "uiterlijk": "Deze datum ligt vóór de opening van de casus.",
    "middel": "Kies bij een bedrag ook het middel.",
    "toegezegd": "Deze persoon neemt niet deel aan dit casusoverleg.",
    "tekst": "Bij een aanmelding legt u alleen een tekst vast; acties horen bij een casus.",
    "fase": "Deze faseovergang is vanuit de huidige fase niet mogelijk.",
    "sluitreden": "Een reden van afsluiten hoort alleen bij de fase Afgesloten.",
    "evaluatiedatum": "De evaluatiedatum ligt vóór de opening van de casus.",
    "casusregisseur": "De casusregisseur moet deelnemer of voorzitter van dit casusoverleg zijn.",
}
CASE_POINTERS = {"#/next_review_date": "evaluatiedatum", "#/case_director_id": "casusregisseur",
                 "#/closure_reason": "sluitreden", "#/actions": "tekst"}


def row_name(index: int, name: str) -> str:
    return f"a{index}-{name}"


@dataclass
class DecisionForm:
    """What was submitted (kept as typed, to render the form again) and how many action rows."""

    kept: dict[str, str] = field(default_factory=dict)
    rows: int = 1
    action_rows: list[int] = field(default_factory=list)  # the row of each action of the decision

    @classmethod
    def read(cls, form: FormData) -> DecisionForm:
        rows = min(max(int_or_none(form.get("rijen")) or 1, 1), MAX_ROWS)
        names = [*DECISION_FIELDS, *(row_name(i, n) for i in range(rows) for n in ROW_FIELDS)]
        return cls({n: str(form.get(n) or "").strip() for n in names}, rows)

    def with_row(self) -> DecisionForm:
        return DecisionForm(dict(self.kept), min(self.rows + 1, MAX_ROWS))

    def _row_filled(self, index: int) -> bool:
        return any(self.kept.get(row_name(index, n)) for n in ROW_CONTENT)

    def _action(self, index: int, errors: dict[str, str]) -> ActionCreate | None:
        value = {n: self.kept.get(row_name(index, n), "") for n in ROW_FIELDS}
        amount: int | None = None
        if value["bedrag"]:
            try:
                amount = cents(value["bedrag"])
            except (ValueError, InvalidOperation):
                errors[row_name(index, "bedrag")] = MESSAGES["bedrag"]
        try:
            return ActionCreate.model_validate({
                "title": value["titel"], "life_domain": value["leefgebied"] or None,
                "owner_organisation_id": value["eigenaar"] or None, "assignee_id": value["uitvoerder"] or None,
                "due_date": parse_date(value["uiterlijk"]) if value["uiterlijk"] else None,
                "resource_scope": value["middel"] or None, "resource_amount_cents": amount,
                "committed_by_id": value["toegezegd"] or None,
            })
        except ValidationError as exc:
            for err in exc.errors():
                name = ACTION_FIELDS.get(str(err["loc"][0]) if err["loc"] else "", "titel")
                errors.setdefault(row_name(index, name), MESSAGES[name])
            return None

    def decision(self) -> tuple[DecisionCreate | None, dict[str, str]]:
        """The decision, or the Dutch message per field (all fields checked in one round)."""
        kept, errors = self.kept, {}
        if not kept["tekst"] or len(kept["tekst"]) > 4000:
            errors["tekst"] = MESSAGES["tekst"]
        actions: list[ActionCreate] = []
        self.action_rows = []
        for index in range(self.rows):
            if self._row_filled(index) and (action := self._action(index, errors)) is not None:
                actions.append(action)
                self.action_rows.append(index)
        phase: PhaseChange | None = None
        if kept["fase"]:
            if kept["fase"] not in {p.value for p in Phase}:
                errors["fase"] = MESSAGES["fase"]
            elif kept["fase"] == Phase.closed and kept["sluitreden"] not in {r.value for r in ClosureReason}:
                errors["sluitreden"] = MESSAGES["sluitreden"]
            else:
                reason = ClosureReason(kept["sluitreden"]) if kept["fase"] == Phase.closed else None
                phase = PhaseChange(to=Phase(kept["fase"]), closure_reason=reason)
        review: date | str | None = parse_date(kept["evaluatiedatum"]) if kept["evaluatiedatum"] else None
        if isinstance(review, str) or (review is not None and review < clock.today()):
            errors["evaluatiedatum"] = MESSAGES["evaluatiedatum"]
        director: uuid.UUID | None = None
        if kept["casusregisseur"]:
            try:
                director = uuid.UUID(kept["casusregisseur"])
            except ValueError:
                errors["casusregisseur"] = MESSAGES["casusregisseur"]
        if errors:
            return None, errors
        return DecisionCreate(text=kept["tekst"], actions=actions, phase=phase,
                              next_review_date=review if isinstance(review, date) else None,
                              case_director_id=director), {}


    def refused(self, exc: UnprocessableEntity | InvalidTransition) -> dict[str, str]:
        """The form field a service's refusal points at, with its Dutch message."""
        if isinstance(exc, InvalidTransition):
            return {"fase": REFUSALS["fase"]}
        errors: list[dict[str, Any]] = exc.extra.get("errors") or [{}]
        pointer = str(errors[0].get("pointer", ""))
        parts = pointer.removeprefix("#/").split("/")
        if len(parts) == 3 and parts[0] == "actions" and parts[1].isdigit() and int(parts[1]) < len(self.action_rows):
            name = ACTION_FIELDS.get(parts[2], "titel")
            return {row_name(self.action_rows[int(parts[1])], name): REFUSALS.get(name, MESSAGES[name])}
        name = CASE_POINTERS.get(pointer, "tekst")
        return {name: REFUSALS[name]}
