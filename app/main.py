"""create_app(): wiring only (routers, middleware, error handlers, lifespan)."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.audit import use_chain_secret
from app.auth.cache import AuthChangeListener, PrincipalCache, connect_kwargs_of, watch_local_commits
from app.auth.dev_idp import DevKeyStore
from app.auth.identity import development_issuer_organisations
from app.auth.tokens import KeyCache, TokenValidator
from app.config import Settings, get_settings
from app.db import DEFAULT_DB_NAME, Database, HealthProbe, Timeouts, ensure_database, resolve_urls
from app.deps import bearer_refusal, current_principal, get_guard, lane_for
from app.http.dispatch import install_dispatch
from app.http.docs import install_docs
from app.http.middleware import RequestContextMiddleware, install_middleware_stack
from app.http.openapi import install_openapi
from app.http.problems import install_error_handlers
from app.logs import configure_logging
from app.routers import API_PREFIX, LANES, register_routers
from app.services.agreements.templates import load_templates
from app.web.render import web_error_page

log = logging.getLogger(__name__)



async def _refuse_development_issuers(db: Database) -> None:
    """Production trusts no development identity provider, including ones registered earlier."""
    async with db.sessions() as session:
        found = await development_issuer_organisations(session)
    if found:
        await db.dispose()
        raise RuntimeError(
            "refusing to start in production: organisations registered with a development identity "
            "provider (http:// or /dev-idp/): " + ", ".join(sorted(found))
        )


WARM_FREEZE_SECONDS = 30.0


def _freeze_warm() -> None:
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        urls = resolve_urls(settings)
        if not settings.database_url:
            await ensure_database(urls.owner, DEFAULT_DB_NAME)
        use_chain_secret(settings.audit_chain_key)  # the access log's writer seals with this key
        app.state.db = Database(urls.app, pool_size=settings.db_pool_size, timeouts=Timeouts.from_settings(settings))
        app.state.health = HealthProbe(urls.app, timeout=settings.health_timeout_seconds)
        app.state.owner_url = urls.owner
        if not settings.is_development:
            await _refuse_development_issuers(app.state.db)
        listener = None
        if settings.auth_cache_seconds > 0:
            listener = AuthChangeListener(app.state.principal_cache, connect_kwargs_of(app.state.db.engine))
            await listener.start()
        scheduler = None
        if settings.scheduler_enabled:
            from app.jobs.scheduler import create_scheduler

            scheduler = create_scheduler(app.state.db, settings)
            scheduler.start()
        refresher = None
        if settings.metrics_enabled and settings.metrics_port:
            from app.http.observability import refresh_forever

            refresher = asyncio.create_task(refresh_forever(app.state.db))
        # What start-up built (routes, models, templates, the schema) lives as long as the
        # process: out of the collector's way, so a full collection walks only what requests made
        # (a full collection over everything paused a request now and then for ~150 ms).
        gc.collect()
        gc.freeze()
        # Once more when the first requests have built what every later one reuses (the route
        # table, FastAPI's and pydantic's lazy parts, prepared statements, cached principals):
        # some 28,000 objects that made each full collection pause a request for 8-17 ms (1-2 %
        # of agenda drafts). Once only: an object frozen and dropped later is still freed by its
        # reference count, but a cycle among frozen objects would never be collected.
        warm = asyncio.get_running_loop().call_later(WARM_FREEZE_SECONDS, _freeze_warm)
        try:
            yield
        finally:
            warm.cancel()
            if refresher is not None:
                refresher.cancel()
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            if listener is not None:
                await listener.stop()
            await app.state.health.close()
            await app.state.db.dispose()

    docs = settings.docs_served
    app = FastAPI(
        title="casusoverleg",
        version="0.1.0",
        description="Coordination service for the municipal approach to complex substance problems.",
        openapi_url=f"{API_PREFIX}/openapi.json" if docs else None,
        docs_url=None,  # served from the service's own files below (app/http/docs.py)
        redoc_url=None,
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry hooks off: they asked the OpenTelemetry API on every
        # request whether a provider was configured, and this service exports nothing (README).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    # Validated tokens and their principals; on only while the lifespan's listener is connected.
    app.state.principal_cache = PrincipalCache(settings.auth_cache_seconds)
    watch_local_commits(app.state.principal_cache)
    # Every agreement template is validated now: a broken one stops the start with its file named.
    app.state.agreement_templates = load_templates(settings.agreements_dir)
    app.state.token_validator = TokenValidator(
        key_cache=KeyCache(
            ttl_seconds=settings.jwks_cache_ttl_seconds,
            refetch_min_interval=settings.jwks_refetch_min_interval_seconds,
            timeout=settings.jwks_fetch_timeout_seconds,
        ),
        leeway=settings.jwt_leeway_seconds,
        max_token_bytes=settings.max_authorization_header_bytes,
        max_lifetime_seconds=settings.token_max_lifetime_system_seconds,
        refuse_development_issuers=not settings.is_development,
    )
    if settings.dev_idp_enabled:
        app.state.dev_keys = DevKeyStore(settings.data_dir / "dev-idp" / "keys.json")
    install_error_handlers(app, html_page=web_error_page)
    install_openapi(app, principal=(current_principal, get_guard))
    register_routers(app, settings)
    if docs:
        install_docs(app, API_PREFIX)
    if settings.metrics_served_on_public_port:
        from app.routers import metrics

        app.include_router(metrics.router)
    # After every route: the app router's routing by table (app/http/dispatch.py); a route that
    # starts with the caller answers a missing bearer token's 401 before it runs.
    dispatch = install_dispatch(app, refusals={get_guard: bearer_refusal, current_principal: bearer_refusal},
                                lanes={endpoint: functools.partial(lane_for, endpoint) for endpoint in LANES})
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes, html_page=web_error_page,
                       prefixes=(API_PREFIX,), dispatch=dispatch)
    install_middleware_stack(app)
    return app
