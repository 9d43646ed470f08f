"""The API docs page (Swagger UI) from the service's own static files: the assets of the
swagger-ui-bundle package, so the page works without internet and names no other host."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path


def install_docs(app: FastAPI, prefix: str) -> None:
    """GET {prefix}/docs, its OAuth2 redirect page and {prefix}/docs/static/ (the bundle's files).
    Called only when the docs are served (Settings.docs_served); the app has docs_url=None."""
    static = f"{prefix}/docs/static"
    redirect = f"{prefix}/docs/oauth2-redirect"
    app.mount(static, StaticFiles(directory=str(swagger_ui_path)), name="docs-static")

    @app.get(f"{prefix}/docs", include_in_schema=False, response_class=HTMLResponse)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or f"{prefix}/openapi.json",
            title=f"{app.title} – API",
            oauth2_redirect_url=redirect,
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon-32x32.png",
        )

    @app.get(redirect, include_in_schema=False, response_class=HTMLResponse)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
