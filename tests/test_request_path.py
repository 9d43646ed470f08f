"""The request path every request shares (issue 16): what its shortcuts answer is what the
framework's own path answers, byte for byte.

- A route whose first dependency is the caller answers a missing, non-bearer or oversized
  Authorization header with its 401 before it runs (app/http/dispatch.py `refusals`): the same
  status, headers and problem+json body as raising it through FastAPI's dependency solving and
  the AppError handler."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.http.dispatch import PathDispatch
from app.http.problems import url_path
from tests.test_dispatch import METHODS, _paths, _sample

AUTHORIZATIONS: tuple[dict[str, str], ...] = (
    {}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}, {"Authorization": ""},
    {"Authorization": "Bearer " + "x" * 9000},
)


def _answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, headers, response.content


async def _answers(client: httpx.AsyncClient, requests: list[tuple[str, str, dict[str, str]]]) -> list[Any]:
    return [_answer(await client.request(method, path, headers=headers)) for method, path, headers in requests]


async def test_an_early_401_is_the_answer_fastapi_gives(app: Any, client: httpx.AsyncClient) -> None:
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PathDispatch)
    paths = [_sample(p) for p in _paths(app) if p.startswith("/api/")]
    requests = [(method, path, headers) for path in paths for method in METHODS if method != "HEAD"
                for headers in AUTHORIZATIONS[:2]]
    requests += [("GET", "/api/v1/cases", headers) for headers in AUTHORIZATIONS]
    requests += [("GET", "/api/v1/cases/%3Fx%23y", {}), ("GET", "/api/v1/cases/a%5Cb", {}),
                 ("GET", "/api/v1/cases/caf%C3%A9", {})]
    early = await _answers(client, requests)
    refused_early = {id(e) for entries in dispatch._current_table().values() for e in entries if e.refusal}
    assert len(refused_early) > 60  # the API's routes without a body that start with the caller
    saved = dispatch.refusals
    try:
        dispatch.refusals = {}
        dispatch._signature = None  # rebuilt without refusals: every 401 is FastAPI's
        assert not any(e.refusal for entries in dispatch._current_table().values() for e in entries)
        late = await _answers(client, requests)
    finally:
        dispatch.refusals = saved
        dispatch._signature = None
    assert sum(1 for status, _h, _b in early if status == 401) > 300
    for request, one, other in zip(requests, early, late, strict=True):
        if 401 in (one[0], other[0]):  # (others, such as the health check's figures, may vary)
            assert one == other, request


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/cases/%3F", "/a%23b", "/a\\b", "/a\tb", "//x",
                                  "/caf\u00e9", "/a b", "/"])
def test_url_path_is_starlettes(path: str) -> None:
    from starlette.datastructures import URL

    scope = {"type": "http", "scheme": "http", "path": path, "query_string": b"q=1",
             "headers": [(b"host", b"testserver")], "server": ("testserver", 80)}
    assert url_path(scope) == URL(scope=scope).path
