"""A log filter that removes anything shaped like a BSN before a record is written.

Code must never log client data in the first place; this is the safety net behind that rule."""

from __future__ import annotations

import logging
import re

_NINE_DIGITS = re.compile(r"(?<!\d)(\d[ .-]?){8}\d(?!\d)")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _NINE_DIGITS.sub(REDACTED, text)


def _redact_arg(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) == 9:
        return REDACTED
    if isinstance(value, bytes | bytearray):
        return REDACTED if _NINE_DIGITS.search(value.decode("latin-1")) else value
    return value


class RedactingFilter(logging.Filter):
    """Redacts the message and its arguments in place, keeping their shape: formatters such as
    uvicorn's access log unpack `record.args` as a tuple."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[1] is not None:
            # Exception text is formatted later; format it now, redacted, and drop the original.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
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
