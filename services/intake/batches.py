"""Notices from a court's workbook: the batch taken in whole, then registered a round of rows at a time through the notices' own batched path, and read back with each refused row's reasons."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import UploadFile

from services.intake import access, courts, handlers, refusals, registration, workbook
from services.intake.batch_upload import BatchUpload
from services.intake.deps import IntakeDeps
from services.intake.models import IntakeBatch, IntakeBatchRow
from services.intake.requests import NoticeIn
from services.intake.workbook import Cell, CellError, SheetNotice
from shared.plumbing import audit
from shared.plumbing.auth import Principal, Role
from shared.plumbing.documents import CHUNK
from shared.plumbing.problems import Problem, validation_problem
from shared.plumbing.runtime import Deps

log = structlog.get_logger(__name__)

PENDING, REGISTERED, DUPLICATE, REFUSED = "pending", "registered", "duplicate", "refused"
REGISTERING, DONE = "registering", "done"
# Marks a transaction that kept a batch with rows to register, so that its commit wakes this process's registrar.
TAKEN = "songda.intake.batch_taken"
# Which counter of the batch each outcome of a row adds to.
# Waiting notices registered per round, in one transaction: enough to share its statements, few enough that a round stays short.
_ROUND = 10
_COUNTERS = {REGISTERED: IntakeBatch.registered, DUPLICATE: IntakeBatch.duplicates, REFUSED: IntakeBatch.refused}


@dataclass(frozen=True)
class StoredFile:
    """A file that came with the workbook, as the document store keeps it."""

    sha256: str
    pages: int


async def submit(deps: IntakeDeps, *, principal: Principal, upload: BatchUpload, max_rows: int) -> IntakeBatch:
    """Takes a workbook upload whole or not at all: the workbook read and its shape checked, the court checked, the files stored; then the batch is kept for the worker."""
    court_id = _court_of(principal, upload.court_id)
    try:
        # Reading a large workbook takes a while; the event loop keeps serving meanwhile.
        notices = await asyncio.to_thread(workbook.read, upload.workbook, max_rows=max_rows)
    except workbook.NotAWorkbook:
        raise _refused(415, "Unsupported media type", "workbook", "not an Excel workbook (.xlsx); download the template and fill it in") from None
    except workbook.WrongShape as wrong:
        error = {"field": "workbook", "message": wrong.message, "sheet": wrong.sheet, "column": wrong.column}
        raise Problem(422, "Invalid workbook", f"workbook: {wrong.message}", kind="validation", errors=[error]) from None
    except workbook.TooManyRows as exc:
        raise _refused(413, "Too large", "workbook", str(exc)) from None
    if not notices:
        raise _refused(422, "Invalid workbook", "workbook", f"“{workbook.TASKS}”工作表中没有送达任务")
    # The court is checked before any file is stored, so a wrong court is refused as such and not as a file's fault.
    async with deps.db.transaction() as session:
        await check_court(session, principal, court_id)
    files = await _store(deps, principal=principal, court_id=court_id, upload=upload)
    return await intake_batch(deps, principal=principal, court_id=court_id, filename=upload.filename, notices=notices, files=files)


def _court_of(principal: Principal, named: str | None) -> str:
    """Returns the court a batch is for: a court's own (another named is refused), the one an overseer or a service names."""
    if principal.role is Role.court:
        if named is not None:
            access.check_submitter(principal, named)
        return principal.sub
    if named is None:
        raise _refused(422, "Invalid request", "court_id", "name the court the notices are for")
    return named


def _refused(status: int, title: str, field: str, message: str) -> Problem:
    return Problem(status, title, f"{field}: {message}", kind="validation" if status == 422 else None, errors=[{"field": field, "message": message}])


async def _store(deps: IntakeDeps, *, principal: Principal, court_id: str, upload: BatchUpload) -> dict[str, StoredFile]:
    """Stores each file of the upload as the court's document, as POST /v1/documents does; refuses two different files under one name, and a file that is not a readable PDF or OFD, naming it."""
    stored: dict[str, StoredFile] = {}
    for index, (name, part) in enumerate(upload.files):
        try:
            kept, _ = await handlers.store_document(deps, principal=principal, court_id=court_id, filename=name[:200], content=_chunks(part))
        except Problem as refused:
            raise _refused(refused.status, refused.title, f"files[{index}]", f"{name}: {refused.detail.removeprefix('file: ')}") from None
        if name in stored and stored[name].sha256 != kept.sha256:
            raise _refused(422, "Invalid document", f"files[{index}]", f"two different files are named {name}")
        stored[name] = StoredFile(sha256=kept.sha256, pages=kept.pages)
    return stored


async def _chunks(part: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await part.read(CHUNK):
        yield chunk


async def intake_batch(deps: Deps, *, principal: Principal, court_id: str, filename: str, notices: Sequence[SheetNotice], files: Mapping[str, StoredFile]) -> IntakeBatch:
    """Keeps a workbook's notices as a batch of the court's, each with the stored files its 文件名 cells name, for the worker to register."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        await check_court(session, principal, court_id)
        batch = IntakeBatch(
            id=str(uuid.uuid4()),
            court_id=court_id,
            submitter_role=principal.role.value,
            submitter=principal.sub,
            filename=filename,
            status=REGISTERING if notices else DONE,
            total=len(notices),
            created_at=now,
            finished_at=None if notices else now,
        )
        session.add(batch)
        for position, notice in enumerate(notices):
            session.add(_row(batch.id, position, notice, court_id=court_id, files=files))
        session.info[TAKEN] = bool(notices)
    log.info("batch.received", batch_id=batch.id, court_id=court_id, notices=len(notices), files=len(files))
    return batch


async def check_court(session: AsyncSession, principal: Principal, court_id: str) -> None:
    """Refuses a batch for a court the caller may not submit for, or one not registered and active."""
    if principal.role is Role.court:
        access.check_submitter(principal, court_id)
        await access.calling_court(session, principal)
        return
    court = await courts.find(session, court_id)
    if court is None or not court.active:
        raise validation_problem([{"loc": ("body", "court_id"), "msg": f"{court_id} is not a registered, active court", "type": "value_error"}])


def _row(batch_id: str, position: int, notice: SheetNotice, *, court_id: str, files: Mapping[str, StoredFile]) -> IntakeBatchRow:
    """Makes a batch row of a notice read from the workbook: its request names the court and, for each document, the stored file."""
    errors = list(notice.errors)
    payload = {**notice.payload, "court_id": court_id}
    documents = []
    for index, (document, name) in enumerate(zip(payload.get("documents", []), notice.files, strict=True)):
        stored = files.get(name) if name is not None else None
        if stored is not None:
            document = {**document, "sha256": stored.sha256, "pages": stored.pages}
        elif name is not None:
            cell = notice.cell_of(f"documents[{index}].sha256")
            errors.append(CellError(cell.sheet, cell.row, cell.column, f"documents[{index}].file", f"没有随表格上传名为“{name}”的文件"))
        documents.append(document)
    if documents:
        payload["documents"] = documents
    return IntakeBatchRow(
        batch_id=batch_id,
        position=position,
        sheet=notice.sheet,
        row=notice.row,
        court_reference=notice.court_reference,
        status=PENDING,
        payload=payload,
        cells={path: [c.sheet, c.row, c.column] for path, c in notice.cells.items()},
        errors=[e.as_dict() for e in errors],
    )


# --- Registering ----------------------------------------------------------------------------------


async def register_next(deps: Deps) -> int:
    """Registers the next waiting notices of the oldest batch together, through the notices' own batched path, their outcomes and the batch's counts in the same transaction; returns how many rows it took."""
    now = deps.clock.now()
    try:
        async with deps.db.transaction() as session:
            rows = await _next_pending(session)
            if not rows:
                return 0
            claimed = {"batch_id": rows[0].batch_id, "positions": [row.position for row in rows]}
            batch = await session.get(IntakeBatch, rows[0].batch_id)
            assert batch is not None, "a batch row outlived its batch"
            outcomes = await _register(session, batch, rows, now=now)
            for row, (status, notice_id, errors) in zip(rows, outcomes, strict=True):
                row.status, row.notice_id, row.errors = status, notice_id, [e.as_dict() for e in errors]
                session.add(row)
            await _count(session, batch.id, Counter(status for status, _, _ in outcomes), now=now)
    except IntegrityError:
        # A notice under one of the references committed between our look and our commit: the next round finds it a duplicate.
        log.info("batch.rows_raced", **claimed)
    return len(rows)


async def _next_pending(session: AsyncSession) -> list[IntakeBatchRow]:
    """Locks the next waiting rows of the oldest batch; another worker skips them (PostgreSQL), SQLite's one writer needs no lock."""
    query = (
        select(IntakeBatchRow)
        .join(IntakeBatch, col(IntakeBatch.id) == col(IntakeBatchRow.batch_id))
        .where(IntakeBatchRow.status == PENDING)
        .order_by(col(IntakeBatch.created_at), col(IntakeBatchRow.batch_id), col(IntakeBatchRow.position))
        .limit(_ROUND)
        .with_for_update(skip_locked=True, of=IntakeBatchRow)
    )
    rows = list((await session.exec(query)).all())
    # One batch per round: its rows share the submitter they are registered for.
    return [row for row in rows if row.batch_id == rows[0].batch_id]


Outcome = tuple[str, str | None, list[CellError]]


async def _register(session: AsyncSession, batch: IntakeBatch, rows: list[IntakeBatchRow], *, now: datetime) -> list[Outcome]:
    """Validates each row's request as POST /v1/notices does and registers the valid ones together; returns each row's outcome, its notice and, when refused, the errors at their cells."""
    outcomes: dict[int, Outcome] = {}
    valid: list[tuple[int, SheetNotice, NoticeIn]] = []
    for index, row in enumerate(rows):
        notice = sheet_notice(row)
        try:
            body = NoticeIn.model_validate(row.payload)
        except ValidationError as invalid:
            outcomes[index] = (REFUSED, None, [*notice.errors, *refusals.of_validation(notice, invalid.errors())])
            continue
        if notice.errors:
            outcomes[index] = (REFUSED, None, notice.errors)
            continue
        valid.append((index, notice, body))
    principal = Principal(sub=batch.submitter, role=Role(batch.submitter_role))
    registered: Sequence[registration.Outcome | Exception]
    try:
        # A failure undoes only the registrations' writes; then each notice is tried alone, so one bad notice never stops the others.
        async with session.begin_nested():
            registered = await registration.register(session, principal=principal, bodies=[body for _, _, body in valid], now=now)
    except SQLAlchemyError:
        # The database (or a concurrent registration of a reference): the rows stay pending for the next round.
        raise
    except Exception:  # noqa: BLE001 — retried notice by notice below
        registered = [await _register_alone(session, principal, row_of[2], now=now) for row_of in valid]
    for (index, notice, _), outcome in zip(valid, registered, strict=True):
        outcomes[index] = _outcome(notice, outcome)
    return [outcomes[index] for index in range(len(rows))]


async def _register_alone(session: AsyncSession, principal: Principal, body: NoticeIn, *, now: datetime) -> registration.Outcome | Exception:
    try:
        async with session.begin_nested():
            [outcome] = await registration.register(session, principal=principal, bodies=[body], now=now)
    except SQLAlchemyError:
        raise
    except Exception as exc:  # noqa: BLE001 — a notice this code cannot register is refused, so it never stops the batch or intake
        return exc
    return outcome


def _outcome(notice: SheetNotice, outcome: registration.Outcome | Exception) -> Outcome:
    if isinstance(outcome, Problem):
        return REFUSED, None, refusals.of_problem(notice, outcome)
    if isinstance(outcome, Exception):
        log.error("batch.row_failed", sheet=notice.sheet, row=notice.row, error=type(outcome).__name__)
        return REFUSED, None, [CellError(notice.sheet, notice.row, "法院编号", "", "未能登记（系统错误），请联系送达平台管理员")]
    return (REGISTERED if outcome.created else DUPLICATE), outcome.notice.id, []


def sheet_notice(row: IntakeBatchRow) -> SheetNotice:
    """Returns the notice a batch row keeps, with its cells and the errors found when the workbook was read."""
    errors = [CellError(**e) for e in row.errors]
    cells = {path: Cell(*where) for path, where in row.cells.items()}
    return SheetNotice(court_reference=row.court_reference, sheet=row.sheet, row=row.row, payload=row.payload, cells=cells, errors=errors)


async def _count(session: AsyncSession, batch_id: str, outcomes: Counter[str], *, now: datetime) -> None:
    """Adds the rows' outcomes to the batch's counts, in SQL so concurrent workers add up; the last row finishes the batch."""
    counts = {_COUNTERS[status]: _COUNTERS[status] + count for status, count in outcomes.items()}
    done = {IntakeBatch.done: IntakeBatch.done + sum(outcomes.values())}
    await session.exec(update(IntakeBatch).where(col(IntakeBatch.id) == batch_id).values(done | counts))
    finished = update(IntakeBatch).where(col(IntakeBatch.id) == batch_id, col(IntakeBatch.done) >= col(IntakeBatch.total), col(IntakeBatch.status) != DONE)
    await session.exec(finished.values(status=DONE, finished_at=now))


# --- Reading --------------------------------------------------------------------------------------


async def read_batch(deps: Deps, *, principal: Principal, batch_id: str) -> tuple[IntakeBatch, list[IntakeBatchRow]]:
    """Returns a batch and its rows: a court its own, overseers every one (their reads audited); another court's answers as missing."""
    async with deps.db.transaction() as session:
        batch = await session.get(IntakeBatch, batch_id)
        if batch is None or not principal.reaches_court(batch.court_id):
            raise Problem(404, "Not found", f"No notice batch {batch_id}.")
        rows = list((await session.exec(select(IntakeBatchRow).where(IntakeBatchRow.batch_id == batch_id).order_by(col(IntakeBatchRow.position)))).all())
        if principal.audited:
            audit.record(session, principal, action="notice_batch.read", target=batch_id, now=deps.clock.now())
    return batch, rows


def row_view(row: IntakeBatchRow) -> dict[str, Any]:
    """Returns a row as the batch's answer lists it."""
    return {
        "sheet": row.sheet,
        "row": row.row,
        "court_reference": row.court_reference,
        "status": row.status,
        "notice_id": row.notice_id,
        "errors": row.errors,
    }
