"""Bulk import of historical cases, parties and confirmations into the address book: resumable, idempotent, bad rows reported."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import multiprocessing
import os
import re
import threading
from collections import Counter, deque
from collections.abc import AsyncGenerator, Callable, Collection, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Table, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake import book, domain
from services.intake.models import IntakeImport, IntakeImportReject
from services.intake.requests import ChannelIn
from shared.contracts.addresses import PostalAddress
from shared.contracts.casenumber import CaseNumber, CaseNumberText
from shared.contracts.events import AddressSource, GeoPoint, IdType, PartyKind, Stage
from shared.contracts.values import cn_mobile_e164, e164, email_address, validate_id_number
from shared.plumbing import heap
from shared.plumbing.db import Database, core_rows, table_of
from shared.plumbing.fields import field_path

COLUMNS = (
    "record",
    "name",
    "party_kind",
    "id_type",
    "id_number",
    "phone",
    "email",
    "address",
    "postcode",
    "lat",
    "lon",
    "source",
    "case_number",
    "stage",
    "role",
    "date",
    "e_delivery",
    "designated_proxy",
)
_PARTY_SOURCES = (AddressSource.household, AddressSource.civil_activity)
_NEEDS = {"party": ("address", "source"), "case": ("case_number", "date"), "confirmation": ("case_number", "address", "date")}
_FINGERPRINT_BYTES = 1 << 20
_WORKER_BYTES = 16 << 20  # smaller files are read in-process: starting workers (~1.5 s CPU each) would cost more than it saves
# Workers read batches in parallel; past a few the one process committing them is the limit.
_WORKERS = min(4, os.cpu_count() or 1)
_AHEAD = _WORKERS + 1  # batches read ahead of the commit, so no worker waits for one to commit
_MEETINGS = 3  # batches of a table that met facts already in the book before the run stops trying the straight COPY


# A party's phone, ID number, cases and addresses repeat on its rows: each is checked and parsed once (libphonenumber
# the costliest).
_e164 = lru_cache(maxsize=65536)(e164)
_id_number = lru_cache(maxsize=65536)(validate_id_number)
_case = lru_cache(maxsize=65536)(CaseNumber.parse)
_address = lru_cache(maxsize=65536)(PostalAddress.parse)
_party_id = lru_cache(maxsize=65536)(book.party_id_for)


@lru_cache(maxsize=65536)
def _point(lat: float, lon: float) -> GeoPoint:
    # Frozen, so one per place serves every row of its party; building it is a pydantic validation.
    return GeoPoint(lat=lat, lon=lon)


# Repeats on every row of its party, like the phone.
_email = lru_cache(maxsize=65536)(email_address)


class ImportRow(BaseModel):
    """One line of an import file: a party's address, a case it was in, or a confirmation it signed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    record: Literal["party", "case", "confirmation"]
    name: str = Field(min_length=1, max_length=200)
    party_kind: PartyKind = PartyKind.person
    id_type: IdType | None = None
    id_number: str | None = Field(default=None, max_length=64)
    phone: str | None = None
    email: str | None = None
    address: str | None = Field(default=None, min_length=4, max_length=300)
    postcode: str | None = Field(default=None, pattern=r"^\d{6}$")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    source: AddressSource | None = None
    case_number: CaseNumberText | None = None
    stage: Stage | None = None
    role: str | None = Field(default=None, max_length=64)
    date: dt.date | None = None
    e_delivery: str | None = Field(default=None, max_length=500, description="channel=address pairs separated by ';'")
    designated_proxy: str | None = Field(default=None, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_missing(cls, data: Any) -> Any:
        # CSV has no null: an empty cell means the value is absent.
        return {k: v for k, v in data.items() if v not in ("", None)} if isinstance(data, dict) else data

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, value: str | None) -> str | None:
        return _e164(value) if value else None

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str | None) -> str | None:
        return _email(value) if value else None

    @field_validator("e_delivery")
    @classmethod
    def _check_channels(cls, value: str | None) -> str | None:
        if value:
            channels(value)
        return value

    @model_validator(mode="after")
    def _check_record(self) -> Self:
        check_record(vars(self))
        return self


def check_record(row: dict[str, Any]) -> None:
    """Checks a row's cells against each other, completing its ID number's form and its stage; raises ValueError."""
    if row["id_number"]:
        if row["id_type"] is None:
            raise ValueError("id_type is required with id_number")
        row["id_number"] = _id_number(row["id_type"], row["id_number"])
    if not row["id_number"] and not row["phone"]:
        raise ValueError("neither id_number nor phone: the party could not be recognised in later cases")
    record = row["record"]
    missing = [name for name in _NEEDS[record] if row[name] is None]
    if missing:
        raise ValueError(f"a {record} row needs {', '.join(missing)}")
    if record == "party" and row["source"] not in _PARTY_SOURCES:
        raise ValueError(f"a party row's source is one of {', '.join(_PARTY_SOURCES)}")
    if record == "party" and row["source"] is not AddressSource.household and row["date"] is None:
        raise ValueError(f"a {row['source']} address needs the date it was used")
    if row["case_number"]:
        case_type = _case(row["case_number"]).case_type
        row["stage"] = row["stage"] or domain.STAGE_BY_CASE_TYPE.get(case_type)
        if row["stage"] is None:
            raise ValueError("stage is required: the case number's type code does not name one")
        implied = domain.stage_mismatch(case_type, row["stage"])
        if implied is not None:
            raise ValueError(f"the case number's type code says {implied}, not {row['stage']}")


def checked_row(data: dict[str, Any]) -> dict[str, Any]:
    """Returns a line's cells checked as ImportRow checks them; raises ValidationError or ValueError with ImportRow's reasons."""
    row = _plain_row(data)
    if row is None:
        # Anything the plain reading did not take is judged by ImportRow itself, so refusals read the same.
        return dict(vars(ImportRow.model_validate(data)))
    return row


def _plain_row(data: dict[str, Any]) -> dict[str, Any] | None:
    # Most lines hold plain text cells an import writes; those are read here without pydantic's per-row cost.
    row = dict(_DEFAULTS)
    try:
        for name, value in data.items():
            if value != "" and value is not None:
                row[name] = _CELLS[name](value)
        if any(row[name] is None for name in _REQUIRED):
            return None
        check_record(row)
    except (KeyError, ValueError, TypeError, OverflowError):
        return None
    return row


def _text(name: str, then: Callable[[str], Any] = str) -> Callable[[Any], Any]:
    limits = {key: getattr(item, key) for item in ImportRow.model_fields[name].metadata for key in ("min_length", "max_length", "pattern") if hasattr(item, key)}
    low, high, pattern = limits.get("min_length", 0), limits.get("max_length", float("inf")), limits.get("pattern")
    shape = re.compile(pattern) if pattern else None

    def read(value: Any) -> Any:
        # Cells with whitespace around them are left to ImportRow, which strips them.
        if type(value) is not str or value.strip() != value or not low <= len(value) <= high or (shape and not shape.match(value)):
            raise TypeError(name)
        return then(value)

    return read


def _number(name: str) -> Callable[[Any], float]:
    bounds = {key: getattr(item, key) for item in ImportRow.model_fields[name].metadata for key in ("ge", "le") if hasattr(item, key)}

    def read(value: Any) -> float:
        if type(value) is str and _DECIMAL.fullmatch(value) or type(value) in (int, float):
            number = float(value)
            if bounds["ge"] <= number <= bounds["le"]:
                return number
        raise TypeError(name)

    return read


def _enum(kind: type[StrEnum]) -> Callable[[Any], StrEnum]:
    # A dict of the members: calling the enum costs more than the rest of reading the cell.
    return {member.value: member for member in kind}.__getitem__


def _day(value: Any) -> dt.date:
    if type(value) is not str or not _ISO_DAY.fullmatch(value):
        raise TypeError("date")
    return dt.date.fromisoformat(value)


def _records(value: Any) -> str:
    if value not in ("party", "case", "confirmation") or type(value) is not str:
        raise TypeError("record")
    return value


def _with_channels(value: str) -> str:
    channels(value)
    return value


_DECIMAL = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,15})?")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_REQUIRED = [name for name, info in ImportRow.model_fields.items() if info.is_required()]
_DEFAULTS = {name: None if info.is_required() else info.get_default() for name, info in ImportRow.model_fields.items()}
_CELLS: dict[str, Callable[[Any], Any]] = {
    "record": _records,
    "name": _text("name"),
    "party_kind": _enum(PartyKind),
    "id_type": _enum(IdType),
    "id_number": _text("id_number"),
    "phone": _text("phone", _e164),
    "email": _text("email", _email),
    "address": _text("address"),
    "postcode": _text("postcode"),
    "lat": _number("lat"),
    "lon": _number("lon"),
    "source": _enum(AddressSource),
    "case_number": _text("case_number", lambda value: _case(value).text),
    "stage": _enum(Stage),
    "role": _text("role"),
    "date": _day,
    "e_delivery": _text("e_delivery", _with_channels),
    "designated_proxy": _text("designated_proxy"),
}


@lru_cache(maxsize=65536)
def channels(text: str) -> tuple[tuple[str, str], ...]:
    """Parses `sms=13800138000;email=a@example.com` into (channel, address) pairs, checked as the API checks them."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        channel, _, address = (piece.strip() for piece in part.partition("="))
        # The usual pairs, a bare mobile number or an e-mail address, read as ChannelIn reads them without building one.
        if channel == "sms" and (number := cn_mobile_e164(address)):
            pairs.append((channel, number))
            continue
        if channel == "email" and 3 <= len(address) <= 200:
            try:
                pairs.append((channel, _email(address)))
                continue
            except ValueError:
                pass  # ChannelIn words the refusal
        try:
            checked = ChannelIn(channel=channel, address=address)
        except ValidationError as error:
            reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
            raise ValueError(f"e_delivery channel {channel!r}: {reasons}") from None
        pairs.append((checked.channel.value, checked.address))
    return tuple(pairs)


@dataclass
class Batch:
    """The rows one transaction writes, keyed so a fact repeated in the batch is written once."""

    parties: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    confirmations: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0

    def add(self, row: dict[str, Any], *, now: datetime) -> None:
        """Adds the facts of one valid row."""
        name_key = domain.name_key(row["name"])
        party_id = _party_id(id_type=row["id_type"], id_number=row["id_number"], name_key=name_key, phone=row["phone"])
        assert party_id is not None  # ImportRow requires an ID number or a phone
        # A party's and a contact's first row in the batch is kept; its later rows are not built only to be dropped.
        if party_id not in self.parties:
            self.parties[party_id] = book.party_row(
                party_id=party_id, kind=row["party_kind"], name=row["name"], name_key=name_key, id_type=row["id_type"], id_number=row["id_number"], now=now
            )
        confirmed_on = row["date"] if row["record"] == "confirmation" else None
        pairs = channels(row["e_delivery"]) if row["e_delivery"] else ()
        contacts = [("phone", row["phone"]), ("email", row["email"]), *[("phone" if c == "sms" else "email", a) for c, a in pairs if c in ("sms", "email")]]
        for kind, value in contacts:
            if value and (party_id, kind, value) not in self.contacts:
                self.contacts[party_id, kind, value] = book.contact_row(party_id=party_id, kind=kind, value=value, source="import", confirmed_on=confirmed_on)
        address = _address(row["address"]) if row["address"] else None
        location = _point(row["lat"], row["lon"]) if row["lat"] is not None and row["lon"] is not None else None
        case = _case(row["case_number"]) if row["case_number"] else None
        if row["record"] == "confirmation":
            assert case and address and row["stage"] and row["date"]
            confirmation = book.confirmation_row(
                party_id=party_id,
                case=case,
                stage=row["stage"],
                address=address,
                postcode=row["postcode"],
                location=location,
                phone=row["phone"],
                e_delivery=[{"channel": channel, "address": target} for channel, target in pairs],
                designated_proxy=row["designated_proxy"],
                confirmed_on=row["date"],
                origin="import",
                now=now,
            )
            self.confirmations[confirmation["id"]] = confirmation
        elif address is not None:
            source = AddressSource.filing if row["record"] == "case" else row["source"]
            assert source is not None
            entry = book.entry_row(
                party_id=party_id,
                address=address,
                source=source,
                postcode=row["postcode"],
                location=location,
                case=case,
                stage=row["stage"],
                observed_on=row["date"],
                origin="import",
                now=now,
            )
            self.entries[entry["id"]] = entry

    def without(self, written: Mapping[str, Collection[Any]]) -> dict[str, set[Any]]:
        """Drops the facts the previous batch wrote and returns this batch's keys by table: a party's rows mostly follow each other, so its party and contact rows recur across a batch boundary."""
        kept = {}
        for table, rows in self._facts():
            for key in rows.keys() & written.get(table.name, ()):
                del rows[key]
            kept[table.name] = set(rows)
        return kept

    async def write(self, session: AsyncSession, *, straight: Collection[str] = ()) -> set[str]:
        """Writes the batch, skipping facts already in the book; on PostgreSQL through COPY, straight into the tables named in `straight` (book.copy_new). Returns those where a fact was there already."""
        postgres = session.get_bind().dialect.name == "postgresql"
        met = set()
        for table, rows in self._facts():
            if not postgres:
                await book.insert_new(session, table, rows.values())
            elif not await book.copy_new(session, table, rows.values(), straight=table.name in straight) and table.name in straight:
                met.add(table.name)
        if self.rejects:
            await book.insert_new(session, table_of(IntakeImportReject), self.rejects)
        return met

    def _facts(self) -> tuple[tuple[Table, dict[Any, dict[str, Any]]], ...]:
        return ((book.PARTY, self.parties), (book.CONTACT, self.contacts), (book.ENTRY, self.entries), (book.CONFIRMATION, self.confirmations))


def file_id(path: Path) -> str:
    """Identifies a file by its size and the hash of its first megabyte, so a rerun finds its own progress."""
    with path.open("rb") as handle:
        head = handle.read(_FINGERPRINT_BYTES)
    return hashlib.sha256(str(path.stat().st_size).encode() + b"|" + head).hexdigest()[:32]


def _reader(path: Path) -> tuple[Callable[[bytes], dict[str, Any]], int]:
    """Returns a decoder for one line of the file and the byte offset of its first record."""
    if path.suffix.lower() == ".csv":
        with path.open("rb") as handle:
            header_line = handle.readline()
        header = next(csv.reader([header_line.decode("utf-8-sig")]))
        unknown = sorted(set(header) - set(COLUMNS))
        if unknown:
            raise ValueError(f"{path.name}: unknown CSV columns {', '.join(unknown)}; expected some of {', '.join(COLUMNS)}")

        def decode_csv(line: bytes) -> dict[str, Any]:
            values = next(csv.reader([line.decode("utf-8")]))
            if len(values) != len(header):
                raise ValueError(f"expected {len(header)} cells, found {len(values)}")
            return dict(zip(header, values, strict=True))

        return decode_csv, len(header_line)

    def decode_json(line: bytes) -> dict[str, Any]:
        value = orjson.loads(line)
        if not isinstance(value, dict):
            raise ValueError("each line must be a JSON object")
        return value

    return decode_json, 0


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{field_path(e['loc']) if e['loc'] else 'row'}: {str(e['msg']).removeprefix('Value error, ')}" for e in error.errors())
    return str(error)


@dataclass(frozen=True, slots=True)
class Progress:
    """Where an import stands."""

    line: int
    byte_offset: int
    accepted: int
    rejected: int
    finished: bool
    read: int = 0  # rows read by this run, which a resumed run counts from where it resumed


def _lines(path: Path, *, offset: int, line: int) -> Iterator[tuple[int, int, bytes]]:
    """Yields (line number, offset after the line, raw line) from `offset` on, skipping blank lines."""
    with path.open("rb") as handle:
        handle.seek(offset)
        for raw in handle:
            line += 1
            offset += len(raw)
            if raw.strip():
                yield line, offset, raw


def _batches(path: Path, *, offset: int, line: int, size: int) -> Iterator[tuple[list[tuple[int, bytes]], int, int, bool]]:
    """Yields the file's lines from `offset` on in batches, each with the line and byte offset after it and whether it is the last; the last may be empty."""
    lines: list[tuple[int, bytes]] = []
    for number, after, raw in _lines(path, offset=offset, line=line):
        lines.append((number, raw))
        line, offset = number, after
        if len(lines) == size:
            yield lines, line, offset, False
            lines = []
    yield lines, line, path.stat().st_size, True


def _read_batch(path: Path, import_id: str, lines: list[tuple[int, bytes]], now: datetime) -> Batch:
    """Returns the facts and refusals of these lines; runs in a worker process for large files."""
    decode, _ = _reader(path)
    batch = Batch(rows=len(lines))
    for number, raw in lines:
        try:
            batch.add(checked_row(decode(raw)), now=now)
        except (ValueError, ValidationError) as error:
            batch.rejects.append({"import_id": import_id, "line": number, "reason": _reason(error)[:1000]})
    return batch


def _start_worker() -> None:
    """Ends this worker when the importing process ends, even when it is killed (the pool's queue would keep it waiting for ever), and sets its collector for batches."""
    parent = multiprocessing.parent_process()
    assert parent is not None, "runs in a worker process"

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()
    # A batch's rows stay alive until it is sent: with CPython's default generations the collector walked them and
    # every module object again and again, ~11 µs per row, a fifth of reading one.
    heap.settle()


async def _read(path: Path, *, import_id: str, offset: int, line: int, batch_size: int, now: Callable[[], datetime]) -> AsyncGenerator[tuple[Batch, int, int, bool]]:
    """Yields the file's batches read, in file order, with the line and byte offset after each and whether it is the last."""
    batches = _batches(path, offset=offset, line=line, size=batch_size)
    if path.stat().st_size - offset < _WORKER_BYTES:  # noqa: ASYNC240 - one stat of a local file
        for lines, last_line, last_offset, finished in batches:
            yield _read_batch(path, import_id, lines, now()), last_line, last_offset, finished
        return
    # Reading is the import's CPU-bound part: worker processes read the next batches while this one commits.
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=_WORKERS, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker) as worker:
        ahead: deque[tuple[asyncio.Future[Batch], int, int, bool]] = deque()
        for lines, last_line, last_offset, finished in batches:
            ahead.append((loop.run_in_executor(worker, _read_batch, path, import_id, lines, now()), last_line, last_offset, finished))
            while ahead and (finished or len(ahead) > _AHEAD):
                read, read_line, read_offset, read_finished = ahead.popleft()
                yield await read, read_line, read_offset, read_finished


async def run_import(database: Database, path: Path, *, now: Callable[[], datetime], batch_size: int = 2000, on_progress: Callable[[Progress], None] | None = None) -> Progress:
    """Imports a JSONL or CSV file, one transaction per batch; rerunning resumes after the last committed batch."""
    _, first_offset = _reader(path)
    import_id = file_id(path)
    async with database.sessions() as session:
        state = await session.get(IntakeImport, import_id)
    if state is None:
        state = IntakeImport(id=import_id, name=path.name, byte_offset=first_offset, line=1 if first_offset else 0, updated_at=now())
    progress = Progress(line=state.line, byte_offset=state.byte_offset, accepted=state.accepted, rejected=state.rejected, finished=state.finished)
    if state.finished:
        return progress
    read = 0
    written: dict[str, set[Any]] = {}
    # A fact already in the book (a resumed run's first batch, a file overlapping one imported before) sends its batch
    # the careful way; a table where that keeps happening goes the careful way for the rest of the run.
    met: Counter[str] = Counter()
    async with aclosing(_read(path, import_id=import_id, offset=state.byte_offset, line=state.line, batch_size=batch_size, now=now)) as batches:
        async for batch, line, offset, finished in batches:
            read += batch.rows
            written = batch.without(written)
            straight = {table for table in written if met[table] < _MEETINGS}
            committed, tables_met = await _commit(database, state, batch, line=line, byte_offset=offset, finished=finished, now=now(), straight=straight)
            met.update(tables_met)
            progress = replace(committed, read=read)
            if on_progress:
                on_progress(progress)
    return progress


async def _commit(
    database: Database, state: IntakeImport, batch: Batch, *, line: int, byte_offset: int, finished: bool, now: datetime, straight: Collection[str]
) -> tuple[Progress, set[str]]:
    # The rows and the position after them commit together: a crash resumes exactly after this batch.
    state.line, state.byte_offset, state.finished, state.updated_at = line, byte_offset, finished, now
    state.accepted += batch.rows - len(batch.rejects)
    state.rejected += len(batch.rejects)
    async with database.transaction() as session:
        # The position first: its statement opens the transaction the batch's COPY then joins.
        await session.merge(state)
        await session.flush()
        met = await batch.write(session, straight=straight)
    return Progress(line=line, byte_offset=byte_offset, accepted=state.accepted, rejected=state.rejected, finished=finished), met


async def rejects(database: Database, path: Path) -> list[IntakeImportReject]:
    """Returns the rows of a file that were refused, with line numbers and reasons."""
    table = table_of(IntakeImportReject)
    async with database.sessions() as session:
        rows = await core_rows(session, select(table).where(table.c.import_id == file_id(path)).order_by(table.c.line))
        return [IntakeImportReject(**row._mapping) for row in rows]
