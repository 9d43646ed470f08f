"""Where the browser tests find Chromium: CHROMIUM_PATH if set, else Debian's package (or any
`chromium`/`chromium-browser` on PATH). Playwright's own browser builds cannot be downloaded on
these machines, so none is fetched: `make browser-deps` installs Debian's package where it may
(as root, with apt-get) and otherwise says how. Also axe-core's place, the marks that skip a
browser test without either, and the launch of Chromium under Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from app.config import PROJECT_ROOT

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_MISSING = "axe-core is not installed (run `npm install` in the project)"

HOW = ("install Debian's package (as root: apt-get install chromium) or set CHROMIUM_PATH "
       "to a Chromium or Chrome binary")


def find_chromium() -> str | None:
    given = os.environ.get("CHROMIUM_PATH")
    if given:
        return given if Path(given).is_file() and os.access(given, os.X_OK) else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def missing_reason() -> str | None:
    if find_chromium() is not None:
        return None
    given = os.environ.get("CHROMIUM_PATH")
    if given:
        return f"browser tests skipped: CHROMIUM_PATH={given} is not an executable file; {HOW}"
    return f"browser tests skipped: no Chromium found; {HOW}"


# A browser test module's pytestmark: it skips, saying why, without Chromium or axe-core.
BROWSER_MARKS = [
    pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or ""),
    pytest.mark.skipif(not AXE.exists(), reason=AXE_MISSING),
]


@asynccontextmanager
async def launched() -> AsyncIterator[Any]:
    """Headless Chromium under Playwright, closed at the end (Playwright imported only here)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=find_chromium() or "chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        await browser.close()
