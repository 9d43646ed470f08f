"""The API docs page works offline: Swagger UI from the service's own static files (the
swagger-ui-bundle package), no other host named on the page."""

from __future__ import annotations

import re

import httpx

from app.config import Settings
from app.main import create_app
from tests.test_settings import SECRETS


async def test_the_docs_page_names_no_other_host_and_its_assets_are_served() -> None:
    application = create_app(Settings())  # development: the docs are served
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/api/v1/docs")
        assert page.status_code == 200 and "swagger-ui" in page.text
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page.text.replace("http://testserver", "")), (
            "the docs page names another host"
        )
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        js = [a for a in assets if a.endswith("swagger-ui-bundle.js")]
        css = [a for a in assets if a.endswith(".css")]
        assert js and css and all(a.startswith("/api/v1/docs/static/") for a in assets)
        for asset in (js[0], css[0]):
            served = await client.get(asset)
            assert served.status_code == 200 and len(served.content) > 1000
        assert (await client.get("/api/v1/docs/oauth2-redirect")).status_code == 200


def test_without_docs_there_is_no_docs_page_and_no_bundle() -> None:
    production = Settings(environment="production", dev_idp_enabled=False, load_demo_data=False,
                          docs_enabled=False, **SECRETS)
    paths = {getattr(r, "path", "") for r in create_app(production).routes}
    assert not {p for p in paths if p.startswith("/api/v1/docs")}

