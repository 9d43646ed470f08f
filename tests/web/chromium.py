"""Where the browser tests find Chromium: CHROMIUM_PATH if set, else Debian's package (or any
`chromium`/`chromium-browser` on PATH). Playwright's own browser builds cannot be downloaded on
these machines, so none is fetched: `make browser-deps` installs Debian's package where it may
(as root, with apt-get) and otherwise says how."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
