"""The OpenAPI document tells the truth: every problem an operation can answer, and who may read the document."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from shared.plumbing.auth import Principal, authenticate
from shared.plumbing.problems import MEDIA_TYPE
from shared.plumbing.settings import ApiDocs

# Why an operation answers each problem; the text goes into the document beside the status.
REASONS: dict[int, str] = {
    400: "The request cannot be read",
    401: "No valid bearer token (missing, expired, revoked or too long-lived)",
    403: "The caller may not do this (its role, or an object that belongs to another court)",
    404: "No such object for this caller: another court's object answers exactly like a missing one",
    409: "The object's state does not allow this now",
    410: "The object is gone",
    413: "The body is larger than allowed",
    415: "The content is of a type this operation does not take",
    422: "Invalid request: each failing field is named in `errors`",
    429: "Too many requests from this address; `Retry-After` says when to try again",
    500: "A stored file no longer matches its sha256 (the operator is alerted)",
    503: "Not ready: the service is starting or a part it needs is down (or a stored file is missing)",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error as RFC 9457 problem details; `errors` names each failing field.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}, "code": {"type": "string"}},
            },
        },
    },
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem(status: int, description: str | None = None) -> dict[str, Any]:
    """Returns the OpenAPI response object of a problem answer."""
    return {"description": description or REASONS[status], "content": {MEDIA_TYPE: {"schema": _PROBLEM_REF}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Returns the `responses=` of a route for the problems particular to it (authentication, 404 and 422 are added for every route that can answer them)."""
    return {status: problem(status) for status in statuses}


def page(status: int, description: str) -> dict[str, Any]:
    """Returns the OpenAPI response object of an HTML page answer (the e-delivery page's refusals)."""
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def problem_or_page(status: int) -> dict[str, Any]:
    """Returns the OpenAPI response object of a problem that a browser asking for HTML gets as a page."""
    answer = problem(status)
    answer["content"]["text/html"] = {"schema": {"type": "string"}}
    return answer


def implied_statuses(operation: dict[str, Any]) -> set[int]:
    """Returns the problems an operation can answer by its shape: a bearer token, ids in the path, parameters or a body."""
    statuses: set[int] = set()
    if operation.get("security"):
        # 401 no valid token, 403 a role not admitted, 503 while the revoked tokens are still being read.
        statuses |= {401, 403, 503}
    parameters = operation.get("parameters", [])
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        # A body that cannot be decoded at all (not UTF-8) is refused before any field is read.
        statuses.add(400)
    return statuses


def document(app: FastAPI) -> dict[str, Any]:
    """Builds the app's OpenAPI document with every problem answer described as application/problem+json."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in sorted(implied_statuses(operation) | declared):
                documented = responses.get(str(status), {})
                # A route's own page (the e-delivery page's refusals) stays; FastAPI's default 422 body is replaced by ours.
                if status == 422 or not documented.get("content"):
                    responses[str(status)] = problem(status, documented.get("description") if status != 422 else None)
    app.openapi_schema = schema
    return schema


def install(app: FastAPI, *, docs: ApiDocs) -> None:
    """Serves /openapi.json to anyone, to token bearers, or not at all."""
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
    if docs is ApiDocs.public:

        @app.get("/openapi.json", include_in_schema=False)
        async def openapi_public() -> JSONResponse:
            return JSONResponse(app.openapi())

    elif docs is ApiDocs.token:

        @app.get("/openapi.json", include_in_schema=False)
        async def openapi_for_token_bearers(_: Annotated[Principal, Depends(authenticate)]) -> JSONResponse:
            return JSONResponse(app.openapi())
