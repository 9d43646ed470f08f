"""The development identity providers' public endpoints (discovery and JWKS), one per demo
organisation. Only mounted when DEV_IDP_ENABLED (never in production)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.auth.dev_idp import DevKeyStore, discovery_document, issuer_url
from app.errors import NotFound
from app.services.demo_people import DEMO_ORGANISATIONS

router = APIRouter(prefix="/dev-idp", tags=["development identity providers"], include_in_schema=False)

_SLUGS = {o.slug for o in DEMO_ORGANISATIONS}


def _store(request: Request, slug: str) -> DevKeyStore:
    if slug not in _SLUGS:
        raise NotFound("development provider")
    store: DevKeyStore = request.app.state.dev_keys
    store.reload()
    return store


@router.get("/{slug}/.well-known/openid-configuration")
async def discovery(slug: str, request: Request) -> dict:
    _store(request, slug)
    return discovery_document(issuer_url(request.app.state.settings.public_base_url, slug))


@router.get("/{slug}/jwks.json")
async def jwks(slug: str, request: Request) -> dict:
    return _store(request, slug).public_jwks(slug)
