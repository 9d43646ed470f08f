"""A SQLAlchemy statement compiled once per process to SQL text for asyncpg, for the hot read paths
that run on the session's asyncpg connection (`RetryingSession.driver`): no statement building,
cache key or result processing per request, and asyncpg's prepared-statement cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect


@dataclass(frozen=True)
class Compiled:
    """The statement as SQL text for asyncpg, and how to fill its positional parameters: the
    request's values by name, the statement's own constants (states, keys) as compiled."""

    sql: str
    names: tuple[str, ...]
    constants: dict[str, Any]
    processors: dict[str, Any]

    @classmethod
    def of(cls, statement: sa.Select[Any], variable: set[str]) -> Compiled:
        """`variable`: the names of the parameters a request gives; every other one is a constant
        of the statement (a request's list of values goes in as an array: `= ANY(:values)`)."""
        compiled = statement.compile(dialect=asyncpg_dialect.dialect())
        # An `IN` over constants (a rule's states) becomes one parameter per value; the request's
        # own values are placeholders here, filled per request by `args`.
        state = compiled.construct_expanded_state({name: None for name in compiled.binds if name in variable})
        names = tuple(state.positiontup or ())
        processors: dict[str, Any] = {name: p for name, p in {**compiled._bind_processors, **state.processors}.items()
                                      if name in names}
        constants = {}
        for name in names:
            if name not in variable:
                value = state.parameters[name]
                constants[name] = processors[name](value) if name in processors else value
        return cls(state.statement, names, constants, processors)

    def args(self, values: dict[str, Any]) -> list[Any]:
        args = []
        for name in self.names:
            if name in self.constants:
                args.append(self.constants[name])
            else:
                value = values[name]
                processor = self.processors.get(name)
                args.append(processor(value) if processor is not None else value)
        return args


# --- JSON written by PostgreSQL in the bytes pydantic's serializer writes ----------------------


def quoted(text: str) -> sa.ColumnElement[Any]:
    """A constant text as a SQL literal of the statement (not a parameter)."""
    return sa.literal_column("'" + text.replace("'", "''") + "'")


def json_value_text(value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The JSON text of one value as pydantic's serializer writes it: a time in UTC with `Z`, and
    its microseconds only when there are any; everything else as PostgreSQL's to_json writes it
    (numbers, booleans, dates, UUIDs, strings escaped as serde_json escapes them)."""
    if isinstance(value.type, sa.DateTime):
        assert value.type.timezone, "a time without its zone has no one UTC reading"
        utc = sa.func.timezone(quoted("UTC"), value)
        micro = sa.func.to_char(utc, quoted("US"))
        text = sa.func.concat(quoted('"'), sa.func.to_char(utc, quoted('YYYY-MM-DD"T"HH24:MI:SS')),
                              sa.case((micro == quoted("000000"), quoted("")), else_=sa.func.concat(quoted("."), micro)),
                              quoted('Z"'))
        return sa.func.coalesce(text, quoted("null"))
    return sa.func.coalesce(sa.cast(sa.func.to_json(value), sa.Text), quoted("null"))


def json_object_text(values: dict[str, sa.ColumnElement[Any]], *, close: bool = True) -> sa.ColumnElement[Any]:
    """The compact JSON text of an object with these keys in this order (as a model's serializer
    writes its fields); without the closing brace when the caller adds more fields."""
    parts: list[Any] = []
    for i, (name, value) in enumerate(values.items()):
        parts += [quoted(("{" if i == 0 else ",") + f'"{name}":'), json_value_text(value)]
    if close:
        parts.append(quoted("}"))
    return sa.func.concat(*parts)
