from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Strict(BaseModel):
    """Request bodies refuse unknown fields: writing `owner_org` or `created_by` is an error,
    not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageOut(BaseModel, Generic[T]):
    """The one pagination shape."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next: str | None = None
