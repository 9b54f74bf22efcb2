"""Reading a posted form, which routes do themselves: a declared form body would be read a second time by the NUL check every route runs."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from services.console.errors import PageError


async def submitted(request: Request) -> FormData:
    """Returns the posted form (parsed once: Starlette keeps it on the request)."""
    return await request.form()


def answer(form: FormData, name: str, *, longest: int) -> str:
    """Returns a text answer with its whitespace tidied, cut at `longest`; a file or a missing field is empty."""
    value = form.get(name)
    return " ".join(value.split())[:longest] if isinstance(value, str) else ""


def file_of(form: FormData, name: str) -> UploadFile | None:
    """Returns a form's file part, if one was chosen."""
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def refuse_larger(request: Request, limit: int, message: str) -> None:
    """Refuses a body whose declared length passes `limit` (or that declares none) with a 413 page, before the body is read."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > limit:
        raise PageError(413, "文件过大", message)
