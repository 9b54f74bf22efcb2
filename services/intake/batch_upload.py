"""A workbook upload as the route reads it: the multipart form's workbook, the court it names and the files that came with it, within the upload's limits."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from services.intake.workbook import file_name
from shared.plumbing.problems import Problem

WORKBOOK_FIELD = "workbook"
FILES_FIELD = "files"
COURT_FIELD = "court_id"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Limits:
    """How big a workbook and a whole upload may be, and how many files may come with it."""

    workbook_bytes: int
    upload_bytes: int
    files: int


@dataclass(frozen=True)
class BatchIntake:
    """What the upload route needs beside the Deps: the upload's limits and the most rows a sheet may have."""

    limits: Limits
    max_rows: int


@dataclass
class BatchUpload:
    """What the form carried: the workbook's bytes and name, the court named in the form (if any), and the files by their names."""

    workbook: bytes
    filename: str
    court_id: str | None
    files: list[tuple[str, UploadFile]]


def _invalid(field: str, message: str, *, status: int = 422, title: str = "Invalid request") -> Problem:
    return Problem(status, title, f"{field}: {message}", kind="validation" if status == 422 else None, errors=[{"field": field, "message": message}])


async def receive(request: Request, *, limits: Limits) -> BatchUpload:
    """Reads the form; refuses a body over the limit (413) before reading it, and a missing workbook, a NUL in a name or too many files (422)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Problem(415, "Unsupported media type", "Send the workbook as multipart/form-data: a `workbook` part and any number of `files` parts.")
    length = request.headers.get("content-length", "")
    # Uvicorn holds the body to its Content-Length, so the header bounds what is read; a body without one is not taken.
    if not length.isdigit() or int(length) > limits.upload_bytes:
        raise _invalid("body", f"an upload carries a Content-Length of at most {limits.upload_bytes:,} bytes", status=413, title="Too large")
    try:
        form = await request.form(max_files=limits.files + 1, max_fields=10)
    except HTTPException as exc:
        raise _invalid("files", f"the form cannot be read: {exc.detail}") from None
    workbook = form.get(WORKBOOK_FIELD)
    if not isinstance(workbook, UploadFile) or not workbook.filename:
        raise _invalid(WORKBOOK_FIELD, "attach the workbook (.xlsx) as the `workbook` part")
    data = await workbook.read(limits.workbook_bytes + 1)
    if len(data) > limits.workbook_bytes:
        raise _invalid(WORKBOOK_FIELD, f"larger than {limits.workbook_bytes:,} bytes", status=413, title="Too large")
    court = form.get(COURT_FIELD)
    files: list[tuple[str, UploadFile]] = []
    for index, part in enumerate(form.getlist(FILES_FIELD)):
        if not isinstance(part, UploadFile) or not part.filename:
            raise _invalid(f"files[{index}]", "each `files` part is a file with its name")
        if len(files) >= limits.files:
            raise _invalid(FILES_FIELD, f"at most {limits.files} files per workbook")
        files.append((part.filename, part))
    for field, value in [(WORKBOOK_FIELD, workbook.filename), (COURT_FIELD, court if isinstance(court, str) else ""), *((f"files[{i}]", n) for i, (n, _) in enumerate(files))]:
        if "\x00" in value:
            raise _invalid(field, "must not contain the NUL character (U+0000)")
    return BatchUpload(
        workbook=data,
        filename=file_name(workbook.filename),
        court_id=court.strip() if isinstance(court, str) and court.strip() else None,
        files=[(file_name(name), part) for name, part in files],
    )
