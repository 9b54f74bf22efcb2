"""RFC 9457 problem+json errors, including validation errors that name each failing field."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.plumbing.fields import field_path

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://songda.dev/problems/"


class Problem(Exception):
    """An error answered as problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        kind: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
        page: Callable[[], HTMLResponse] | None = None,
    ) -> None:
        super().__init__(detail)
        # The same refusal as a Chinese page, for a person's browser on a page route (Accept: text/html).
        self.page = page
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind or title.lower().replace(" ", "-")
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def body(self, instance: str) -> dict[str, Any]:
        """Returns the problem document."""
        body: dict[str, Any] = {"type": TYPE_BASE + self.kind, "title": self.title, "status": self.status, "detail": self.detail, "instance": instance}
        if self.errors:
            body["errors"] = self.errors
        return body


def _message(error: Mapping[str, Any]) -> str:
    # pydantic prefixes messages from our validators with "Value error, "; the reader does not need it.
    return str(error.get("msg", "is invalid")).removeprefix("Value error, ")


def validation_problem(errors: Sequence[Mapping[str, Any]]) -> Problem:
    """Builds the 422 problem for pydantic errors."""
    items = [{"field": field_path(e.get("loc", ())), "message": _message(e), "code": e.get("type", "invalid")} for e in errors]
    detail = "; ".join(f"{i['field']}: {i['message']}" for i in items[:5])
    return Problem(422, "Invalid request", detail, kind="validation", errors=items)


def _declared(dependant: Dependant) -> tuple[set[str], bool]:
    """Returns the query parameters a route declares (its dependencies' too) and whether it reads a body."""
    names, body = {field.alias for field in dependant.query_params}, bool(dependant.body_params)
    for sub in dependant.dependencies:
        sub_names, sub_body = _declared(sub)
        names, body = names | sub_names, body or sub_body
    return names, body


def _nul_locations(value: Any, loc: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    """Returns where U+0000 occurs in a parsed JSON value: in a string, or in an object's key."""
    if isinstance(value, str):
        return [loc] if "\x00" in value else []
    found: list[tuple[str | int, ...]] = []
    members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in members:
        if isinstance(key, str) and "\x00" in key:
            found.append((*loc, key))
        found += _nul_locations(item, (*loc, key))
    return found


async def refuse_nul(request: Request) -> None:
    """Refuses U+0000 in a path or declared query parameter or anywhere in a JSON body, naming each field (422).

    PostgreSQL text and jsonb cannot hold it, so it would otherwise fail in the database as a 500.
    """
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant):
        return
    query, reads_body = _declared(dependant)
    found: list[tuple[str | int, ...]] = [("path", name) for name, value in request.path_params.items() if "\x00" in str(value)]
    found += [("query", name) for name, value in request.query_params.multi_items() if name in query and "\x00" in value]
    # A multipart body (an upload) is read by its route, which checks the fields it keeps. In JSON, U+0000 can only be
    # written as the escape \u0000 (a raw control character in a string is refused by json.loads), so a body without
    # that text is not walked: walking a court's batch of notices was 2–3% of intake's CPU.
    if reads_body and "json" in request.headers.get("content-type", "") and b"\\u0000" in await request.body():
        try:
            body = await request.json()  # already parsed (and kept) by FastAPI for a JSON body
        except ValueError:  # no body, or not JSON: the body's own validation answers
            body = None
        found += _nul_locations(body, ("body",))
    _refuse_nul_at(found)


def refuse_nul_in(value: Any, loc: tuple[str | int, ...]) -> None:
    """Raises the 422 problem naming each place of a parsed JSON value (a multipart part, say) that holds U+0000."""
    _refuse_nul_at(_nul_locations(value, loc))


def _refuse_nul_at(found: Sequence[tuple[str | int, ...]]) -> None:
    if found:
        raise validation_problem([{"loc": loc, "msg": "must not contain the NUL character (U+0000)", "type": "string_nul"} for loc in dict.fromkeys(found)])


def problem_response(problem: Problem, request: Request) -> Response:
    """Renders a Problem: as problem+json, or as its page when it has one and a browser asks for HTML."""
    if problem.page is not None and "text/html" in request.headers.get("accept", ""):
        page = problem.page()
        page.status_code = problem.status
        page.headers.update(problem.headers)
        return page
    return JSONResponse(problem.body(request.url.path), status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers)


def install(app: FastAPI) -> None:
    """Makes every error of the app answer problem+json."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(exc.errors()), request)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        title = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(Problem(exc.status_code, title, detail, headers=exc.headers), request)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
