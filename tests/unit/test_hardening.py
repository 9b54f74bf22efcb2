"""Security headers on every answer, rate limits on the surfaces without a token, and an OpenAPI document that lists every problem."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from shared.plumbing import openapi, problems
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.headers import PAGE_CSP, SecurityHeaders
from shared.plumbing.openapi import implied_statuses
from shared.plumbing.ratelimit import RateLimits, limited, missed
from shared.plumbing.settings import ApiDocs


def make_app(*, hsts: bool = False, limit: str = "3/minute", misses: str = "2/minute") -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.rate_limits = RateLimits({"edelivery": limit, "misses": misses})
    app.add_middleware(SecurityHeaders, hsts=hsts)
    problems.install(app)
    guarded = APIRouter(dependencies=[Depends(limited("edelivery"))], responses=openapi.problems(429))

    @guarded.get("/e/{token}", response_class=HTMLResponse)
    async def page(token: str) -> HTMLResponse:
        return HTMLResponse("<p>页面</p>", headers={"Content-Security-Policy": PAGE_CSP})

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str, _: Annotated[Principal, Depends(require(Role.court))]) -> dict[str, str]:
        return {"id": thing_id}

    guessed = APIRouter(dependencies=[Depends(limited("edelivery", misses="misses"))], responses=openapi.problems(429))

    @guessed.get("/link/{token}")
    async def link(token: str, request: Request) -> dict[str, str]:
        if token != "known":
            missed(request, "misses")
            raise problems.Problem(404, "Not found", "no such link")
        return {"token": token}

    app.include_router(guarded)
    app.include_router(guessed)
    openapi.install(app, docs=ApiDocs.public)
    return app


async def call(app: FastAPI, path: str, *, client: tuple[str, int] = ("10.0.0.1", 1)) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.get(path)


async def test_every_answer_carries_the_security_headers_and_pages_keep_their_policy() -> None:
    app = make_app()
    api = await call(app, "/v1/things/1")  # a 401 problem
    page = await call(app, "/e/abc")
    for response in (api, page):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers
    assert api.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["content-security-policy"] == PAGE_CSP
    assert "max-age" in (await call(make_app(hsts=True), "/e/abc")).headers["strict-transport-security"]


async def test_a_client_over_the_limit_gets_429_problem_with_retry_after_and_others_do_not() -> None:
    app = make_app(limit="3/minute")
    answers = [(await call(app, f"/e/t{i}")).status_code for i in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    refused = await call(app, "/e/again")
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "3 per 1 minute" in refused.json()["detail"]
    assert (await call(app, "/e/t0", client=("10.0.0.2", 1))).status_code == 200


async def test_an_address_that_spent_its_misses_is_refused_even_a_good_link() -> None:
    app = make_app(limit="100/minute", misses="2/minute")
    answers = [(await call(app, path)).status_code for path in ("/link/known", "/link/guess-1", "/link/guess-2", "/link/known", "/link/guess-3")]
    assert answers == [200, 404, 404, 429, 429]  # a guessed link that happened to be right would not be served now
    assert (await call(app, "/link/known", client=("10.0.0.9", 1))).status_code == 200


def test_the_document_lists_each_operations_problems_as_problem_json() -> None:
    spec = make_app().openapi()
    secured = spec["paths"]["/v1/things/{thing_id}"]["get"]["responses"]
    assert sorted(secured) == ["200", "401", "403", "404", "422", "503"]
    assert secured["404"]["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    page = spec["paths"]["/e/{token}"]["get"]["responses"]
    assert sorted(page) == ["200", "404", "422", "429"]
    assert "HTTPValidationError" not in spec["components"]["schemas"] and "Problem" in spec["components"]["schemas"]


@pytest.mark.parametrize(
    ("operation", "statuses"),
    [
        ({}, set()),
        ({"security": [{"HTTPBearer": []}]}, {401, 403, 503}),
        ({"parameters": [{"in": "path", "name": "id"}]}, {404, 422}),
        ({"parameters": [{"in": "query", "name": "limit"}]}, {422}),
        ({"requestBody": {}}, {400, 422}),
        ({"security": [{"HTTPBearer": []}], "parameters": [{"in": "path", "name": "id"}], "requestBody": {}}, {400, 401, 403, 404, 422, 503}),
    ],
)
def test_implied_statuses(operation: dict, statuses: set[int]) -> None:
    assert implied_statuses(operation) == statuses


@pytest.mark.parametrize(("docs", "status"), [(ApiDocs.public, 200), (ApiDocs.off, 404)])
async def test_who_may_read_the_document(docs: ApiDocs, status: int) -> None:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    problems.install(app)
    openapi.install(app, docs=docs)
    assert (await call(app, "/openapi.json")).status_code == status
    assert (await call(app, "/docs")).status_code == 404


async def test_a_nul_character_anywhere_in_the_input_is_a_422_naming_the_field() -> None:
    # PostgreSQL cannot store U+0000 in text or jsonb: refused before any handler runs, never a 500 from the database.
    app = FastAPI(dependencies=[Depends(problems.refuse_nul)])
    problems.install(app)

    @app.post("/v1/things/{thing_id}")
    async def put_thing(thing_id: str, body: dict[str, Any], note: str | None = None) -> dict[str, str]:
        return {"id": thing_id}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        fine = await http.post("/v1/things/a", json={"name": "张三"})
        # The six characters \u0000 (an escaped backslash in JSON) are text, not the NUL character.
        spelled_out = await http.post("/v1/things/a", json={"name": "\\u0000"})
        in_body = await http.post("/v1/things/a", json={"parties": [{"name": "张\u0000三"}]})
        in_path = await http.post("/v1/things/a%00b", json={})
        in_query = await http.post("/v1/things/a", params={"note": "x\u0000"}, json={})
    assert (fine.status_code, spelled_out.status_code) == (200, 200)
    assert [(r.status_code, [e["field"] for e in r.json()["errors"]]) for r in (in_body, in_path, in_query)] == [
        (422, ["parties[0].name"]),
        (422, ["thing_id"]),
        (422, ["note"]),
    ]
