"""Fixtures of the partner-event and webhook tests: an app whose webhook settings allow
loopback receivers (tests only), and a client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.db import DatabaseUrls
from app.main import create_app
from tests.conftest import make_settings
from tests.events.support import WEBHOOK_OVERRIDES


@pytest.fixture(scope="module")
async def events_app(
    database_urls: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    application = create_app(
        make_settings(database_urls, tmp_path_factory.mktemp("events"), **WEBHOOK_OVERRIDES)
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(events_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=events_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
