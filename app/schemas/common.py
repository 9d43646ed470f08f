from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

T = TypeVar("T")

# Integer columns: a request value must fit the column it is stored in or compared with.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

NUL_DETAIL = "Text may not contain the NUL character (\\u0000), which cannot be stored; remove it."


def nul_path(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where in `value` (strings, lists, dicts: keys and values) a NUL character sits, or None.
    PostgreSQL cannot store NUL in text or jsonb, so such input is refused before it gets there."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                return (*path, key)
            found = nul_path(item, (*path, str(key)))
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple | set | frozenset):
        items: Iterable[Any] = value
        for index, item in enumerate(items):
            found = nul_path(item, (*path, index))
            if found is not None:
                return found
    return None


class Strict(BaseModel):
    """Request bodies refuse unknown fields: writing `owner_org` or `created_by` is an error,
    not silently ignored. Every field of every request body refuses text with a NUL character
    (422 naming the field), so no input reaches the database that it cannot store."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        where = nul_path(value)
        if where is not None:
            inner = "/".join(str(p) for p in where)
            raise PydanticCustomError("nul_character", NUL_DETAIL + (f" (at {inner})" if inner else ""))
        return value


class PageOut(BaseModel, Generic[T]):
    """The one pagination shape."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next: str | None = None
