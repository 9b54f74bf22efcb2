"""problem+json errors: field paths, validation problems and the handlers installed on an app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from shared.contracts.values import PhoneNumber
from shared.plumbing.fields import field_path
from shared.plumbing.problems import MEDIA_TYPE, TYPE_BASE, Problem, install, validation_problem


class Contact(BaseModel):
    phones: list[PhoneNumber]


class Batch(BaseModel):
    recipients: list[Contact]


class Flexible(BaseModel):
    """A union member carries a validator: pydantic names it in the error location."""

    phones: list[PhoneNumber | int]


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("body", "recipients", 0, "phones", 1), "recipients[0].phones[1]"),
        (("body",), "body"),
        ((), "body"),
        (("query", "page"), "page"),
        (("path", "notice_id"), "notice_id"),
        (("header", "authorization"), "authorization"),
        (("body", "court_id"), "court_id"),
        (("body", 0), "[0]"),
        (("recipients", 0, "name"), "recipients[0].name"),  # model errors carry no source prefix
        (("body", "recipients", 0, "phones", 0, "function-before[_parse_at_boundary(), Phone]"), "recipients[0].phones[0]"),
        (("body", "recipients", 0, "id_number", "function-after[validate_resident_id(), str]"), "recipients[0].id_number"),
    ],
)
def test_field_path(loc: tuple[str | int, ...], path: str) -> None:
    assert field_path(loc) == path


def errors_of(model: type[BaseModel], data: dict[str, Any]) -> list[Any]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return info.value.errors()


def test_field_path_of_real_pydantic_errors() -> None:
    # A plain Annotated BeforeValidator adds no location segment of its own.
    errors = errors_of(Batch, {"recipients": [{"phones": ["13800138000", "123"]}]})
    assert [e["loc"] for e in errors] == [("recipients", 0, "phones", 1)]
    assert field_path(("body", *errors[0]["loc"])) == "recipients[0].phones[1]"


def test_field_path_drops_union_validator_segment() -> None:
    # Inside a union pydantic names the member by its validator: ('phones', 1, 'function-before[...]').
    errors = errors_of(Flexible, {"phones": ["13800138000", "not a phone"]})
    function_errors = [e for e in errors if str(e["loc"][-1]).startswith("function-before[")]
    assert function_errors, errors
    assert function_errors[0]["loc"] == ("phones", 1, "function-before[_parse_at_boundary(), Phone]")
    assert field_path(("body", *function_errors[0]["loc"])) == "phones[1]"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ({"loc": ("body", "a"), "msg": "Value error, not a phone number", "type": "value_error"}, "not a phone number"),
        ({"loc": ("body", "a"), "msg": "Field required", "type": "value_error"}, "Field required"),
        ({"loc": ("body", "a"), "msg": "bad, Value error, twice", "type": "value_error"}, "bad, Value error, twice"),
        ({"loc": ("body", "a"), "type": "value_error"}, "is invalid"),
    ],
)
def test_validation_problem_message(error: dict[str, Any], message: str) -> None:
    problem = validation_problem([error])
    assert problem.errors == [{"field": "a", "message": message, "code": "value_error"}]


def test_validation_problem_document() -> None:
    errors = [{"loc": ("body", f"f{n}"), "msg": f"Value error, m{n}", "type": "value_error"} for n in range(7)]
    problem = validation_problem([*errors, {"loc": ("body", "g"), "msg": "odd"}])
    assert problem.status == 422
    assert problem.kind == "validation"
    assert len(problem.errors) == 8
    assert problem.errors[-1] == {"field": "g", "message": "odd", "code": "invalid"}
    # The detail names only the first five.
    assert problem.detail == "f0: m0; f1: m1; f2: m2; f3: m3; f4: m4"
    body = problem.body("/v1/notices")
    assert body["type"] == TYPE_BASE + "validation"
    assert body["instance"] == "/v1/notices"
    assert body["errors"] == problem.errors


@pytest.mark.parametrize(
    ("title", "kind", "type_"),
    [("Not found", None, TYPE_BASE + "not-found"), ("Conflict", "court-reference-conflict", TYPE_BASE + "court-reference-conflict")],
)
def test_problem_type(title: str, kind: str | None, type_: str) -> None:
    body = Problem(409, title, "d", kind=kind).body("/x")
    assert body == {"type": type_, "title": title, "status": 409, "detail": "d", "instance": "/x"}


# The handlers on a real app.


def make_app() -> FastAPI:
    app = FastAPI()
    install(app)

    @app.get("/unavailable")
    async def unavailable() -> None:
        raise Problem(503, "Service unavailable", "Try again later.", headers={"Retry-After": "30"})

    @app.post("/batches")
    async def submit(batch: Batch) -> dict[str, int]:
        return {"recipients": len(batch.recipients)}

    @app.get("/pages")
    async def pages(page: int) -> dict[str, int]:
        return {"page": page}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://test") as client:
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == MEDIA_TYPE
    body = response.json()
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    return body


async def test_raised_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/unavailable")
    body = assert_problem(response, 503)
    assert response.headers["retry-after"] == "30"
    assert body == {
        "type": TYPE_BASE + "service-unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": "Try again later.",
        "instance": "/unavailable",
    }


async def test_valid_request_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/batches", json={"recipients": [{"phones": ["13800138000"]}]})
    assert response.status_code == 200
    assert response.json() == {"recipients": 1}


async def test_body_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/batches", json={"recipients": [{"phones": ["13800138000", "12345"]}, {}]})
    body = assert_problem(response, 422)
    assert body["type"] == TYPE_BASE + "validation"
    assert body["errors"] == [
        {"field": "recipients[0].phones[1]", "message": "not a valid number for its region", "code": "value_error"},
        {"field": "recipients[1].phones", "message": "Field required", "code": "missing"},
    ]
    assert body["detail"] == "recipients[0].phones[1]: not a valid number for its region; recipients[1].phones: Field required"


async def test_missing_body(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.post("/batches"), 422)
    assert [e["field"] for e in body["errors"]] == ["body"]


async def test_query_validation_error(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/pages", params={"page": "two"}), 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("page", "int_parsing")]


async def test_unknown_route(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/nowhere"), 404)
    assert body["type"] == TYPE_BASE + "not-found"
    assert body["title"] == "Not found"


async def test_wrong_method(client: httpx.AsyncClient) -> None:
    response = await client.delete("/pages")
    body = assert_problem(response, 405)
    assert body["title"] == "Method not allowed"
    assert response.headers["allow"] == "GET"
