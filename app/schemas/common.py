from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    HttpUrl,
    UrlConstraints,
    ValidationInfo,
    field_validator,
)
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


_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*")  # 12, 1.5, .5, -2.2e-311


def iso_only(value: Any) -> Any:
    """Dates and times are ISO 8601 text: pydantic would read a number (0) as seconds since 1970,
    which no client means."""
    if not isinstance(value, bool) and (
        isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value))
    ):
        raise PydanticCustomError("iso_date", "Expected an ISO 8601 date or date-time (e.g. 2026-11-30), not a number.")
    return value


IsoDate = Annotated[date, BeforeValidator(iso_only)]
IsoDateTime = Annotated[datetime, BeforeValidator(iso_only)]


def _is_temporal(annotation: Any) -> bool:
    if annotation in (date, datetime) or (isinstance(annotation, type) and issubclass(annotation, date)):
        return True
    return any(_is_temporal(arg) for arg in get_args(annotation) if arg is not type(None))


def _is_number(annotation: Any) -> bool:
    """An int or float field (or an optional one), where true/false is no answer."""
    if annotation in (int, float):
        return True
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    return bool(args) and all(_is_number(arg) for arg in args)


def _is_boolean(annotation: Any) -> bool:
    """A bool field (or an optional one), where 0, 1, "yes" or "on" is no answer."""
    if annotation is bool:
        return True
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    return bool(args) and all(arg is bool for arg in args)


def _fits_column(url: HttpUrl) -> HttpUrl:
    # The check after normalising: a trailing slash or a punycoded host makes the URL longer.
    if len(str(url)) > PROVIDER_URL_MAX:
        raise PydanticCustomError("url_too_long", f"URL should have at most {PROVIDER_URL_MAX} characters")
    return url


# An identity provider's URL (issuer, discovery document, JWKS): as long as its column holds.
PROVIDER_URL_MAX = 500
ProviderUrl = Annotated[HttpUrl, UrlConstraints(max_length=PROVIDER_URL_MAX), AfterValidator(_fits_column)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields: writing `owner_org` or `created_by` is an error,
    not silently ignored. JSON types are taken as they are: true/false is no number and a number or
text is no true/false (Pydantic would read 0 or "yes" as a boolean). Every field of every request body refuses text with a NUL character
    (422 naming the field), so no input reaches the database that it cannot store."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _dates_are_text(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and not isinstance(value, list | dict) and _is_temporal(field.annotation):
            return iso_only(value)
        if field is not None and isinstance(value, bool) and _is_number(field.annotation):
            raise PydanticCustomError("int_type", "Input should be a number, not true or false")
        if field is not None and _is_boolean(field.annotation) and not isinstance(value, bool) and value is not None:
            raise PydanticCustomError("bool_type", "Input should be true or false")
        return value

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
