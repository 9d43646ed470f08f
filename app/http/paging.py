"""The one paging shape of the API: ?limit and ?offset in, a next link out (the services count
and page with app/services/common.py `paged`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int
    request: Request

    def next_link(self, total: int) -> str | None:
        if self.offset + self.limit >= total:
            return None
        return str(self.request.url.include_query_params(limit=self.limit, offset=self.offset + self.limit))


async def paging(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size (at most 200).")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset, request=request)


PagingDep = Annotated[Paging, Depends(paging)]
