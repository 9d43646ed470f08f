"""Screenshots of the web client's main pages at 1280 and 390 px, written to docs/screenshots/
(linked from the README). Runs the every-page browser test (tests/web/test_every_page.py) with
SCREENSHOTS_DIR set: a real server, real sign-ins, the test world's case, meeting and log.

    .venv/bin/python scripts/screenshots.py          # needs `make browser-deps` (chromium, axe-core)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/web/test_every_page.py::test_every_page_passes_axe_and_fits_a_phone"


def main() -> int:
    env = {**os.environ, "SCREENSHOTS_DIR": str(ROOT / "docs" / "screenshots")}
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
