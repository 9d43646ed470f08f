"""A real identity provider for tests: real RSA keys, JWKS served over real HTTP on loopback."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException

from app.auth.dev_idp import DevKeyStore, discovery_document, mint_token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestIdentityProviders:
    """Several issuers (one per slug) on one loopback HTTP server, like separate providers."""

    __test__ = False  # a fixture helper, not a test class

    def __init__(self, key_file: Path) -> None:
        self.store = DevKeyStore(key_file)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.jwks_requests: dict[str, int] = {}
        app = FastAPI()

        @app.get("/{slug}/.well-known/openid-configuration")
        async def discovery(slug: str) -> dict[str, Any]:
            return discovery_document(self.issuer(slug))

        @app.get("/{slug}/jwks.json")
        async def jwks(slug: str) -> dict[str, Any]:
            self.jwks_requests[slug] = self.jwks_requests.get(slug, 0) + 1
            if getattr(self, "down", False):
                raise HTTPException(503)
            return self.store.public_jwks(slug)

        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test identity provider did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

    def issuer(self, slug: str) -> str:
        return f"{self.base}/{slug}"

    def token(self, slug: str, subject: str, **kwargs: Any) -> str:
        from app.clock import clock

        kwargs.setdefault("now", clock.now().timestamp())
        return mint_token(self.store, slug=slug, issuer=self.issuer(slug), subject=subject, **kwargs)
