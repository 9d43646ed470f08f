"""A log filter that removes anything shaped like a BSN before a record is written.

Code must never log client data in the first place; this is the safety net behind that rule."""

from __future__ import annotations

import logging
import re

_NINE_DIGITS = re.compile(r"(?<!\d)(\d[ .-]?){8}\d(?!\d)")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _NINE_DIGITS.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001  (a broken format string must not break logging)
            message = str(record.msg)
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Exception text is formatted later; redact it by replacing the cached text.
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(formatted)
            record.exc_info = None
        record.msg = cleaned
        record.args = None
        return True


_installed = False


def install_log_redaction() -> None:
    """Attach the filter to every handler of the root logger, and to handlers added later
    through a filtering record factory."""
    global _installed
    if _installed:
        return
    _installed = True
    previous_factory = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous_factory(*args, **kwargs)  # type: ignore[arg-type]
        RedactingFilter().filter(record)
        return record

    logging.setLogRecordFactory(factory)
