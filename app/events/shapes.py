"""The payload shapes a subscription can choose. Both are id-only and both are signed per
Standard Webhooks (app/events/signing.py); the outbox stores the Standard Webhooks envelope and
delivery reshapes it per subscription.

- `standard-webhooks`: `{"type", "timestamp", "data": {ids}}`.
- `zgw-notificaties`: the VNG ZGW Notificaties API's notification (`kanaal`, `hoofdObject`,
  `resource`, `resourceUrl`, `actie`, `aanmaakdatum`, `kenmerken`), which municipal systems
  already consume. The URLs point into this API; the receiver fetches them under its own
  authorisation (a partner system: `GET /api/v1/cases/{id}/minimal` with `cases:read-minimal`).
"""

from __future__ import annotations

from typing import Any

STANDARD_WEBHOOKS = "standard-webhooks"
ZGW_NOTIFICATIES = "zgw-notificaties"

# type -> (kanaal, resource, actie, the path of the main object, the path of the resource). A case
# is named by its minimal view: the URL a partner system can read (cases:read-minimal).
CASE = "cases/{case_id}/minimal"
_ZGW: dict[str, tuple[str, str, str, str, str]] = {
    "case.phase_changed": ("casussen", "casus", "partial_update", CASE, CASE),
    "case.flagged": ("casussen", "signaal", "create", CASE, CASE),
    "aftercare.relapse": ("casussen", "signaal", "create", CASE, CASE),
    "aftercare.report": ("casussen", "nazorgmelding", "create", CASE, CASE),
    "aftercare.reply": ("casussen", "nazorgmelding", "update", CASE, CASE),
    "action.created": ("casussen", "actie", "create", CASE, CASE),
    "client.corrected": ("casussen", "correctie", "update", CASE, CASE),
    "agenda.published": ("vergaderingen", "agenda", "update", "meetings/{meeting_id}", "meetings/{meeting_id}/agenda"),
    "decisions.published": (
        "vergaderingen", "besluitenlijst", "update", "meetings/{meeting_id}", "meetings/{meeting_id}/decisions",
    ),
}


def shaped(shape: str, payload: dict[str, Any], *, base_url: str) -> dict[str, Any]:
    """The body sent to a subscription of this shape, from the stored envelope."""
    if shape != ZGW_NOTIFICATIES:
        return payload
    kind = str(payload.get("type", ""))
    data = {k: str(v) for k, v in (payload.get("data") or {}).items()}
    kanaal, resource, actie, main, own = _ZGW.get(kind, ("casusoverleg", kind, "create", "", ""))
    api = base_url.rstrip("/") + "/api/v1/"

    def url(template: str) -> str:
        try:
            return api + template.format(**data) if template else api
        except KeyError:
            return api
    return {
        "kanaal": kanaal,
        "hoofdObject": url(main),
        "resource": resource,
        "resourceUrl": url(own),
        "actie": actie,
        "aanmaakdatum": payload.get("timestamp"),
        "kenmerken": {"type": kind, **data},
    }
