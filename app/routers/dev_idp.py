"""The development identity providers' public endpoints (discovery, JWKS, and the authorization
code flow with PKCE for the web client), one per demo organisation. Only mounted when
DEV_IDP_ENABLED (never in production)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from app.auth.dev_idp import TOKEN_LIFETIME_SECONDS, DevKeyStore, discovery_document, issuer_url, mint_token
from app.clock import clock
from app.demo.people import ALL_DEMO_ORGANISATIONS
from app.deps import SessionDep
from app.errors import NotFound
from app.services.access import dev_idp_flow as dev_flow
from app.web.render import templates

router = APIRouter(prefix="/dev-idp", tags=["development identity providers"], include_in_schema=False)

_SLUGS = {o.slug for o in ALL_DEMO_ORGANISATIONS}


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


# --- authorization code flow with PKCE (development only) ---------------------------------------

_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")
_AUTH_PARAMS = ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
                "code_challenge_method", "nonce", "scope")

def _authorization_problem(request: Request, slug: str, params: dict[str, str]) -> str | None:
    """Why this authorization request is refused (None: acceptable). Never redirects to an
    unchecked redirect URI: a bad request gets a page, not a redirect."""
    settings = request.app.state.settings
    if slug not in _SLUGS:
        return "Deze ontwikkel-identiteitsprovider bestaat niet."
    if params.get("response_type") != "code":
        return "Alleen de authorization code flow wordt ondersteund."
    if params.get("client_id") != settings.web_oidc_client_id:
        return "Onbekende client."
    base = settings.public_base_url.rstrip("/")
    if not params.get("redirect_uri", "").startswith(base + "/"):
        return "De redirect-URI hoort niet bij deze dienst."
    if params.get("code_challenge_method") != "S256" or not _CHALLENGE.match(params.get("code_challenge", "")):
        return "PKCE met code_challenge_method S256 is verplicht."
    if not params.get("state"):
        return "De state-parameter ontbreekt."
    return None


def _refusal(request: Request, reason: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "dev_idp_error.html", {"reason": reason, "user": None}, status_code=400
    )


def _issuer(request: Request, slug: str) -> str:
    return issuer_url(request.app.state.settings.public_base_url, slug)


@router.get("/{slug}/authorize", response_class=HTMLResponse)
async def authorize_page(slug: str, request: Request, session: SessionDep) -> HTMLResponse:
    params = {k: request.query_params.get(k, "") for k in _AUTH_PARAMS}
    problem = _authorization_problem(request, slug, params)
    if problem:
        return _refusal(request, problem)
    people = await dev_flow.people_of_issuer(session, _issuer(request, slug))
    org = next(o for o in ALL_DEMO_ORGANISATIONS if o.slug == slug)
    return templates.TemplateResponse(
        request, "dev_idp_authorize.html", {"org": org, "people": people, "params": params, "user": None}
    )


@router.post("/{slug}/authorize")
async def authorize_choose(slug: str, request: Request, session: SessionDep) -> Response:
    form = await request.form()
    params = {k: str(form.get(k) or "") for k in _AUTH_PARAMS}
    problem = _authorization_problem(request, slug, params)
    if problem:
        return _refusal(request, problem)
    people = {p.subject: p for p in await dev_flow.people_of_issuer(session, _issuer(request, slug))}
    person = people.get(str(form.get("subject") or ""))
    if person is None:
        return _refusal(request, "Kies een persoon uit de lijst.")
    code = await dev_flow.issue_code(
        session, slug=slug, person=person, client_id=params["client_id"], redirect_uri=params["redirect_uri"],
        code_challenge=params["code_challenge"], nonce=params["nonce"] or None,
    )
    separator = "&" if "?" in params["redirect_uri"] else "?"
    target = params["redirect_uri"] + separator + urlencode({"code": code, "state": params["state"]})
    return RedirectResponse(target, status_code=303)


def _token_error(error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=400,
                        headers={"Cache-Control": "no-store"})


@router.post("/{slug}/token")
async def token(slug: str, request: Request, session: SessionDep) -> JSONResponse:
    store = _store(request, slug)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("grant_type", "code", "redirect_uri", "code_verifier",
                                                    "client_id")}
    if values["grant_type"] != "authorization_code":
        return _token_error("unsupported_grant_type", "only authorization_code")
    if not values["code"] or not values["code_verifier"]:
        return _token_error("invalid_request", "code and code_verifier are required")
    try:
        row = await dev_flow.redeem_code(
            session, slug=slug, code=values["code"], client_id=values["client_id"],
            redirect_uri=values["redirect_uri"], code_verifier=values["code_verifier"],
        )
    except dev_flow.InvalidGrant as exc:
        return _token_error("invalid_grant", str(exc))  # the code stays used: a retry fails too
    issuer = _issuer(request, slug)
    now = clock.now().timestamp()
    access = mint_token(store, slug=slug, issuer=issuer, subject=row.subject, name=row.name, now=now)
    id_token = mint_token(store, slug=slug, issuer=issuer, subject=row.subject, name=row.name, now=now,
                          audience=row.client_id, extra={"nonce": row.nonce} if row.nonce else None)
    return JSONResponse(
        {"access_token": access, "id_token": id_token, "token_type": "Bearer",
         "expires_in": TOKEN_LIFETIME_SECONDS, "scope": "openid"},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
