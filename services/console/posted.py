"""Reading a posted form, which routes do themselves: a declared form body would be read a second time by the NUL check every route runs."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import FormData, UploadFile


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
