"""A log filter that removes anything shaped like a BSN, and the values that database error
messages quote, before a record is written.

Code must never log client data in the first place; this is the safety net behind that rule."""

from __future__ import annotations

import logging
import re

# A BSN as people write it: nine digits in a row, or grouped 3-3-3 or 4-2-3 with one kind of
# separator. Standalone only: a hex digit (or another digit) on either side means it is part of
# a UUID, a request id or a hash, which are left alone.
_NINE_DIGITS = re.compile(
    r"(?<![0-9A-Fa-f])"
    r"(?:\d{9}|\d{3}([ .-])\d{3}\1\d{3}|\d{4}([ .-])\d{2}\2\d{3})"
    r"(?![0-9A-Fa-f])"
)
REDACTED = "[redacted]"
HIDDEN = "[value hidden]"

# Database error messages quote values even with SQLAlchemy's hide_parameters: asyncpg names the
# offending argument ("invalid input for query argument $2: 'Jansen' (...)"), PostgreSQL's
# DETAIL names key values and whole failing rows, and type errors quote the input.
_DATABASE_VALUES = (
    (re.compile(r"(invalid input for query argument \$\d+:).*"), r"\1 " + HIDDEN),
    (re.compile(r"(Key \([^)]*\))=\(.*?\)( already exists| is (?:not present|still referenced)|\.|$)"),
     r"\1=(" + HIDDEN + r")\2"),
    (re.compile(r"(Failing row contains ).*"), r"\1(" + HIDDEN + ")"),
    (re.compile(r"(invalid input (?:syntax|value) for (?:type|enum) [\w .\"]+?: ).*"), r"\1" + HIDDEN),
    (re.compile(r"(invalid UUID ).*"), r"\1" + HIDDEN),
    (re.compile(r"\[parameters: .*\]"), "[parameters hidden]"),
)


def redact(text: str) -> str:
    text = _NINE_DIGITS.sub(REDACTED, text)
    if "input" in text or "Key (" in text or "Failing row" in text or "UUID" in text or "[parameters:" in text:
        for pattern, replacement in _DATABASE_VALUES:
            text = pattern.sub(replacement, text)
    return text


def _redact_arg(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) == 9:
        return REDACTED
    if isinstance(value, bytes | bytearray):
        return REDACTED if _NINE_DIGITS.search(value.decode("latin-1")) else value
    if isinstance(value, BaseException):  # e.g. log.error("...: %s", exc): its text is data too
        return redact(str(value))
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
        record = previous_factory(*args, **kwargs)
        RedactingFilter().filter(record)
        return record

    logging.setLogRecordFactory(factory)
