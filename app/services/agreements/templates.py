"""Agreement templates: versioned files in agreements/<id>/v<N>.md, a YAML header plus Dutch text.

Every template is loaded and validated when the service starts (`load_templates`), so that a
broken template is a clear start-up error and never a surprise when someone makes an agreement.
The header is machine-readable: parties, default duration, commitments each party fills in, and
the sharing scope (which label of information may flow to which organisation kinds).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import frontmatter
import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.models.enums import Label, OrganisationKind
from app.services.agreements.readability import B1_MINIMUM, measure, template_text

CLIENT = "client"
SHAREABLE_LABELS = frozenset({Label.general.value, Label.health.value, Label.justice.value})
ORGANISATION_KINDS = frozenset(k.value for k in OrganisationKind)
_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.md$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

LABEL_NAMES_NL = {
    "general": "Algemene gegevens over de casus",
    "health": "Informatie over gezondheid, behandeling en terugval",
    "justice": "Informatie over politie en justitie",
}
KIND_NAMES_NL = {
    "municipality": "de gemeente",
    "police": "de politie",
    "addiction_care": "de verslavingszorg",
    "housing": "de woningcorporatie",
    "probation": "de reclassering",
    "public_health": "de GGD",
    "neighbourhood_team": "het sociaal wijkteam",
    "mental_health_care": "de GGZ",
    "general_practice": "de huisarts",
    "work_income": "werk en inkomen",
    "reintegration": "re-integratie",
    "education": "het onderwijs",
    "peer_support": "de ervaringsdeskundigen",
    "other": "andere partners",
}
MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
             "oktober", "november", "december")


def dutch_date(day: date) -> str:
    return f"{day.day} {MONTHS_NL[day.month - 1]} {day.year}"


class TemplateError(Exception):
    """A template file that cannot be used. The message names the file and the problem."""


def _check_scope(value: dict[str, list[str]]) -> dict[str, list[str]]:
    for label, kinds in value.items():
        if label not in SHAREABLE_LABELS:
            raise ValueError(f"unknown label {label!r} (allowed: {', '.join(sorted(SHAREABLE_LABELS))})")
        unknown = sorted(set(kinds) - ORGANISATION_KINDS)
        if unknown:
            raise ValueError(f"unknown organisation kind(s) {', '.join(unknown)} for label {label!r}")
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"an organisation kind is listed twice for label {label!r}")
    return value


class ConsentOption(BaseModel):
    """Extra consent the client may tick when the agreement is made."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=_KEY.pattern)
    label: str = Field(min_length=1)
    grants: dict[str, list[str]]

    _scope = field_validator("grants")(_check_scope)


class TemplateHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_KEY.pattern)
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    summary: str = ""
    parties: list[str] = Field(min_length=2)
    default_duration_days: int = Field(ge=1, le=1830)  # five years at most, as for any agreement
    commitments: dict[str, str]
    sharing: dict[str, list[str]]
    options: list[ConsentOption] = []

    _scope = field_validator("sharing")(_check_scope)

    @field_validator("parties")
    @classmethod
    def _parties(cls, value: list[str]) -> list[str]:
        if CLIENT not in value:
            raise ValueError("the client must be a party")
        unknown = sorted(set(value) - ORGANISATION_KINDS - {CLIENT})
        if unknown:
            raise ValueError(f"unknown party kind(s): {', '.join(unknown)}")
        if len(set(value)) != len(value):
            raise ValueError("a party is listed twice")
        return value

    @model_validator(mode="after")
    def _commitments_of_parties(self) -> TemplateHeader:
        strangers = sorted(set(self.commitments) - set(self.parties))
        if strangers:
            raise ValueError(f"commitments for non-parties: {', '.join(strangers)}")
        missing = sorted(set(self.parties) - set(self.commitments))
        if missing:
            raise ValueError(f"every party fills in a commitment; missing: {', '.join(missing)}")
        keys = [o.key for o in self.options]
        if len(set(keys)) != len(keys):
            raise ValueError("an option key is used twice")
        # Consent names its receivers one by one (issue 11): "other" is nobody in particular.
        # Version 1 files predate this rule; they stay as they were signed, for the record.
        scopes = [self.sharing, *(o.grants for o in self.options)]
        if self.version >= 2 and any("other" in kinds for scope in scopes for kinds in scope.values()):
            raise ValueError("consent must name each receiving organisation kind; 'other' is not one")
        return self

    @property
    def organisation_kinds(self) -> list[str]:
        return [p for p in self.parties if p != CLIENT]


# Plain text (Markdown), not HTML: the HTML rendering escapes it (raw HTML disabled there).
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)  # noqa: S701


@dataclass(frozen=True)
class AgreementTemplate:
    header: TemplateHeader
    body: str
    source_sha256: str
    path: Path
    _compiled: jinja2.Template = field(repr=False, compare=False)

    @property
    def key(self) -> tuple[str, int]:
        return (self.header.id, self.header.version)

    def scope(self, options: list[str]) -> dict[str, list[str]]:
        """The sharing scope with the client's ticked options added."""
        scope = {label: list(kinds) for label, kinds in self.header.sharing.items()}
        for option in self.header.options:
            if option.key in options:
                for label, kinds in option.grants.items():
                    have = scope.setdefault(label, [])
                    have.extend(k for k in kinds if k not in have)
        return {label: sorted(kinds) for label, kinds in scope.items()}

    def render(
        self,
        *,
        client_name: str,
        parties: dict[str, str],
        commitments: dict[str, str],
        starts_on: date,
        ends_on: date,
        scope: dict[str, list[str]],
        details: AgreementDetails | None = None,
    ) -> str:
        """The agreement text. Raises jinja2.UndefinedError when a placeholder has no value."""
        details = details or AgreementDetails(evaluation_on=starts_on)
        return self._compiled.render(
            client_name=client_name,
            parties=parties,
            commitments=commitments,
            starts_on=dutch_date(starts_on),
            ends_on=dutch_date(ends_on),
            sharing_lines=sharing_lines(scope),
            relapse={"wishes": details.relapse_wishes, "told": details.relapse_told},
            evaluation_on=dutch_date(details.evaluation_on),
            contact={"name": details.contact_name, "organisation": details.contact_organisation,
                     "email": details.contact_email},
            privacy_officers=list(details.privacy_officers),
        )


@dataclass(frozen=True)
class AgreementDetails:
    """The values of the sections added in version 3 of the templates (issue 21): the relapse
    plan in the client's words and who is told, the evaluation date, the named contact person
    (the case director) and how to reach the conference's privacy officer(s). Empty texts render
    the template's own fallback sentence."""

    evaluation_on: date
    relapse_wishes: str = ""
    relapse_told: str = ""
    contact_name: str = ""
    contact_organisation: str = ""
    contact_email: str = ""
    privacy_officers: tuple[str, ...] = ()


def sharing_lines(scope: dict[str, list[str]]) -> list[str]:
    lines = []
    for label in ("general", "health", "justice"):
        kinds = scope.get(label) or []
        if not kinds:
            continue
        if label == "general" and set(kinds) >= ORGANISATION_KINDS - {"other"}:
            lines.append(f"{LABEL_NAMES_NL[label]}: met alle partners van het casusoverleg.")
            continue
        names = [KIND_NAMES_NL[k] for k in kinds]
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]
        lines.append(f"{LABEL_NAMES_NL[label]}: met {joined}.")
    return lines


def parse_template(path: Path) -> AgreementTemplate:
    """Read and validate one template file; TemplateError names the file and what is wrong."""
    where = str(path)
    try:
        raw = path.read_bytes()
        post = frontmatter.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        raise TemplateError(f"{where}: cannot be read as a template with a YAML header: {exc}") from None
    if not post.metadata:
        raise TemplateError(f"{where}: the YAML header (between --- lines) is missing")
    try:
        header = TemplateHeader.model_validate(post.metadata)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'header'}: {e['msg']}" for e in exc.errors())
        raise TemplateError(f"{where}: invalid header: {problems}") from None
    match = _VERSION_FILE.match(path.name)
    if match is None or int(match.group(1)) != header.version:
        raise TemplateError(f"{where}: the file name must be v{header.version}.md for version {header.version}")
    if path.parent.name != header.id:
        raise TemplateError(f"{where}: a template with id {header.id!r} belongs in the folder {header.id}/")
    body = post.content
    if not body.strip():
        raise TemplateError(f"{where}: the agreement text is empty")
    try:
        compiled = _ENV.from_string(body)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{where}: placeholder syntax error on line {exc.lineno}: {exc.message}") from None
    template = AgreementTemplate(header, body, hashlib.sha256(raw).hexdigest(), path, compiled)
    _check_placeholders(template, where)
    _check_readability(body, where)
    return template


def _check_readability(body: str, where: str) -> None:
    """Every template is written at B1 level (Flesch-Douma >= 60, none of the formal words)."""
    result = measure(template_text(body))
    if not result.passes():
        avoid = f"; words to avoid: {', '.join(result.avoided)}" if result.avoided else ""
        raise TemplateError(
            f"{where}: the text is not at B1 level: Flesch-Douma {result.score} "
            f"(minimum {B1_MINIMUM}){avoid}"
        )


def _check_placeholders(template: AgreementTemplate, where: str) -> None:
    """Render with marked sample values: every placeholder must be known, and every party and
    commitment must appear in the text (so nobody signs a text that leaves one out)."""
    header = template.header
    parties = {k: f"[[party:{k}]]" for k in header.organisation_kinds}
    commitments = {k: f"[[commitment:{k}]]" for k in header.commitments}
    try:
        text = template.render(
            client_name="[[party:client]]",
            parties=parties,
            commitments=commitments,
            starts_on=date(2000, 1, 1),
            ends_on=date(2000, 12, 31),
            scope=template.scope([o.key for o in header.options]),
            details=AgreementDetails(
                evaluation_on=date(2000, 6, 30), relapse_wishes="[[relapse:wishes]]",
                relapse_told="[[relapse:told]]", contact_name="[[contact:name]]",
                contact_organisation="[[contact:organisation]]", contact_email="[[contact:email]]",
                privacy_officers=("[[privacy_officer]]",),
            ),
        )
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{where}: unknown placeholder: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{where}: the text cannot be rendered: {exc}") from None
    needed = ["[[party:client]]", *parties.values(), *commitments.values()]
    absent = [n.strip("[]") for n in needed if n not in text]
    if absent:
        raise TemplateError(f"{where}: the text lacks placeholders for {', '.join(absent)}")


class TemplateRegistry:
    """All templates by (id, version), validated as a whole."""

    def __init__(self, templates: dict[tuple[str, int], AgreementTemplate]) -> None:
        self._templates = templates

    def get(self, template_id: str, version: int | None = None) -> AgreementTemplate | None:
        if version is None:
            versions = [v for (i, v) in self._templates if i == template_id]
            if not versions:
                return None
            version = max(versions)
        return self._templates.get((template_id, version))

    def all(self) -> list[AgreementTemplate]:
        return [self._templates[k] for k in sorted(self._templates)]


def load_templates(directory: Path) -> TemplateRegistry:
    """Load every agreements/<id>/v<N>.md; raise TemplateError listing every broken file."""
    if not directory.is_dir():
        raise TemplateError(f"{directory}: the agreement template folder does not exist")
    templates: dict[tuple[str, int], AgreementTemplate] = {}
    problems: list[str] = []
    for path in sorted(directory.glob("*/*.md")):
        try:
            template = parse_template(path)
        except TemplateError as exc:
            problems.append(str(exc))
            continue
        templates[template.key] = template
    if problems:
        raise TemplateError("broken agreement template(s):\n  " + "\n  ".join(problems))
    if not templates:
        raise TemplateError(f"{directory}: no agreement templates found (expected <id>/v<N>.md)")
    return TemplateRegistry(templates)


def describe(template: AgreementTemplate) -> dict[str, Any]:
    h = template.header
    return {
        "id": h.id,
        "version": h.version,
        "title": h.title,
        "summary": h.summary,
        "parties": list(h.parties),
        "default_duration_days": h.default_duration_days,
        "commitments": dict(h.commitments),
        "sharing": {k: list(v) for k, v in h.sharing.items()},
        "options": [{"key": o.key, "label": o.label, "grants": o.grants} for o in h.options],
        "source_sha256": template.source_sha256,
    }
