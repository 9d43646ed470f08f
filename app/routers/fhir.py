"""One case as a FHIR R4 Bundle for care systems (docs/fhir.md)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.auth.policy import Op
from app.deps import GuardDep
from app.services.cases import lifecycle as case_service
from app.services.cases.reads import case_access
from app.services.fhir.export import FHIR_JSON, bundle_json, case_bundle

router = APIRouter(tags=["fhir"])

BUNDLE_SCHEMA = {
    "type": "object",
    "description": "A FHIR Bundle of type collection: Patient, CarePlan, Goal, Task, Consent, AuditEvent.",
    "required": ["resourceType", "type"],
    "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]},
                   "type": {"type": "string", "enum": ["collection"]},
                   "entry": {"type": "array", "items": {"type": "object"}}},
}


@router.get("/cases/{case_id}/fhir", response_class=Response,
            responses={200: {"description": "The case as a FHIR Bundle (collection).",
                             "content": {FHIR_JSON: {"schema": BUNDLE_SCHEMA}}}})
async def case_fhir(case_id: uuid.UUID, guard: GuardDep) -> Response:
    """The case as a FHIR Bundle for a care system: CarePlan with a Goal per life domain, a Task
    per action, a Consent per agreement (case workers, by need to know) and an AuditEvent per
    access-log row of the client (the privacy officer). What you may not see is left out."""
    loaded = await case_service.load_case(guard.session, case_id)
    access = case_access(loaded, "export", part="fhir")
    await guard.require(Op.case_export, loaded.target, access)
    async with guard.refusals_logged(access):
        bundle = guard.deliver(await case_bundle(guard.session, guard.principal, loaded))
    return Response(bundle_json(bundle), media_type=FHIR_JSON)
