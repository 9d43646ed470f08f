"""The web client: server-rendered Dutch pages, no build step.

Its infrastructure lives here, its pages in app/routers/web*.py:
  render.py   templates, Dutch filters and labels, the page and error-page helpers
  session.py  the signed-in person's web session (cookie) and the request context of a page
  csrf.py     the CSRF check of every form
  signin.py   OIDC sign-in at the person's own organisation (discovery, code exchange, ID token)
  forms.py    parsing of form values, and a refused change that leaves nothing behind
  route.py    WebRoute: redirects and errors become pages, security headers on every answer"""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATE_DIR = WEB_DIR / "templates"
