"""The address book's storage: rows for parties, addresses, contacts and confirmations, and reading one party back."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

import asyncpg
from sqlalchemy import JSON, ScalarSelect, Table, TextualSelect, func, literal_column, select, text, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake.domain import AddressFact, ConfirmationFact, KnownParty
from services.intake.models import IntakeAddressEntry, IntakeConfirmation, IntakeContact, IntakeParty
from shared.contracts.addresses import PostalAddress
from shared.contracts.casenumber import CaseNumber
from shared.contracts.events import AddressSource, Consent, Contact, GeoPoint, Stage
from shared.plumbing.db import Database, alone, core_rows, driver_connection, insert_ignoring_duplicates, table_of

# Ids derive from content under this namespace, so importing or confirming the same fact twice
# produces the same row and the second insert is a no-op.
_NAMESPACE = uuid.UUID("5f0d6d2e-8d0a-4c7e-9a53-3b1f2c6e7a10")
_NAMESPACE_BYTES = _NAMESPACE.bytes
_CHUNK = 1000

PARTY = table_of(IntakeParty)
CONTACT = table_of(IntakeContact)
ENTRY = table_of(IntakeAddressEntry)
CONFIRMATION = table_of(IntakeConfirmation)


@asynccontextmanager
async def reading(database: Database) -> AsyncIterator[AsyncSession]:
    """Opens a session for reads and an audit entry, writing the entry on success; on PostgreSQL without BEGIN and COMMIT."""
    if not database.is_postgres:
        # SQLite's engine opens every transaction with BEGIN IMMEDIATE, which autocommit would leave open.
        async with database.transaction() as session:
            yield session
        return
    # Each statement commits alone: the reads need no common snapshot (by ID number they are one statement) and the
    # audit entry is the only write, written last, so a lookup that fails before it has shown nothing.
    async with database.each_alone() as session:
        yield session


def content_id(*parts: object) -> str:
    """Returns the stable id of a fact made of these parts: the UUID 5 of them joined by "|" in _NAMESPACE."""
    # uuid.uuid5 by hand, on the hex digest: an import makes one or two ids per row, and the UUID object was most of their cost.
    hexed = hashlib.sha1(_NAMESPACE_BYTES + "|".join(["" if p is None else str(p) for p in parts]).encode()).hexdigest()
    return f"{hexed[:8]}-{hexed[8:12]}-5{hexed[13:16]}-{_VARIANT[hexed[16]]}{hexed[17:20]}-{hexed[20:32]}"


# The 17th hex digit of a UUID carries its variant (RFC 4122: binary 10xx), the 13th its version (5).
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def party_id_for(*, id_type: str | None, id_number: str | None, name_key: str, phone: str | None) -> str | None:
    """Returns a party's id: from its ID number, else from name and phone, else None (nothing to recognise it by later)."""
    if id_number:
        return content_id("id", id_type, id_number)
    return content_id("name-phone", name_key, phone) if phone else None


def party_row(*, party_id: str, kind: str, name: str, name_key: str, id_type: str | None, id_number: str | None, now: datetime) -> dict[str, Any]:
    """Returns an intake_party row."""
    return {"id": party_id, "kind": kind, "name": name, "name_key": name_key, "id_type": id_type, "id_number": id_number, "created_at": now}


def _place(address: PostalAddress, postcode: str | None, location: GeoPoint | None) -> dict[str, Any]:
    return {
        "text": address.text,
        "address_key": address.key,
        "province": address.province,
        "city": address.city,
        "district": address.district,
        "postcode": postcode,
        "lat": location.lat if location else None,
        "lon": location.lon if location else None,
    }


def entry_row(
    *,
    party_id: str,
    address: PostalAddress,
    source: AddressSource,
    postcode: str | None = None,
    location: GeoPoint | None = None,
    case: CaseNumber | None = None,
    stage: Stage | None = None,
    observed_on: date | None,
    origin: str,
    now: datetime,
) -> dict[str, Any]:
    """Returns an intake_address_entry row; the same fact recorded twice has the same id."""
    case_key = case.key if case else None
    return {
        "id": content_id("entry", party_id, address.key, source, case_key, observed_on),
        "party_id": party_id,
        "source": str(source),
        **_place(address, postcode, location),
        "case_key": case_key,
        "case_number": case.text if case else None,
        "stage": str(stage) if stage else None,
        "observed_on": observed_on,
        "origin": origin,
        "recorded_at": now,
    }


def confirmation_row(
    *,
    party_id: str,
    case: CaseNumber,
    stage: Stage,
    address: PostalAddress,
    postcode: str | None,
    location: GeoPoint | None,
    phone: str | None,
    e_delivery: Sequence[dict[str, Any]],
    designated_proxy: str | None,
    confirmed_on: date,
    origin: str,
    now: datetime,
) -> dict[str, Any]:
    """Returns an intake_confirmation row; the same confirmation submitted twice has the same id."""
    # Each consent's channel and address, with its form's terms only where they are not the default (so ids made before forms were kept stay).
    channels = list(e_delivery)
    return {
        "id": content_id("confirmation", party_id, case.key, stage, address.key, postcode, phone, channels, designated_proxy, confirmed_on),
        "party_id": party_id,
        "case_key": case.key,
        "case_number": case.text,
        "stage": str(stage),
        **_place(address, postcode, location),
        "phone": phone,
        "e_delivery": channels,
        "designated_proxy": designated_proxy,
        "confirmed_on": confirmed_on,
        "origin": origin,
        "recorded_at": now,
    }


def contact_row(*, party_id: str, kind: str, value: str, source: str, confirmed_on: date | None = None, worked_on: date | None = None) -> dict[str, Any]:
    """Returns an intake_contact row."""
    return {"party_id": party_id, "kind": kind, "value": value, "source": source, "confirmed_on": confirmed_on, "worked_on": worked_on}


async def insert_new(session: AsyncSession, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Inserts rows, skipping those already present (by primary key), in statements of bounded size."""
    batch: list[dict[str, Any]] = []
    statement = insert_ignoring_duplicates(session, table)
    for row in rows:
        batch.append(row)
        if len(batch) == _CHUNK:
            await session.exec(statement, params=batch)
            batch = []
    if batch:
        await session.exec(statement, params=batch)


async def copy_new(session: AsyncSession, table: Table, rows: Collection[dict[str, Any]], *, straight: bool = False) -> bool:
    """Inserts rows, skipping those already present, on PostgreSQL through COPY; returns whether they went straight into the table.

    `straight` tries one COPY into the table itself, in a savepoint: what PostgreSQL's COPY costs, for rows that are
    all new. When one is there already the savepoint is rolled back and the rows go the careful way, as they do
    without `straight`: COPY into a staging table, then one INSERT … SELECT … ON CONFLICT DO NOTHING.
    """
    if not rows:
        return straight
    connection = await driver_connection(session)
    # Raw statements see SQLAlchemy's transaction only once it has run a statement itself; outside it they would commit alone.
    assert connection is not None and connection.is_in_transaction(), "copy_new runs after the transaction's first statement"
    staging, columns = f"staging_{table.name}", [column.name for column in table.columns]
    encoded = [column.name for column in table.columns if isinstance(column.type, JSON)]
    if encoded:
        rows = [row | {name: json.dumps(row[name]) for name in encoded} for row in rows]
    # itemgetter makes each record in C: a comprehension per row was a fifth of the committing process's CPU.
    records = list(map(itemgetter(*columns), rows))
    if straight:
        try:
            # Nested in the caller's transaction, asyncpg's transaction is a savepoint.
            async with connection.transaction():
                await connection.copy_records_to_table(table.name, records=records, columns=columns)
            return True
        except asyncpg.UniqueViolationError:
            pass
    # Per connection, emptied at each commit: created once, not for every batch.
    await connection.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" (LIKE "{table.name}") ON COMMIT DELETE ROWS')
    await connection.copy_records_to_table(staging, records=records, columns=columns)
    await connection.execute(f'INSERT INTO "{table.name}" SELECT * FROM "{staging}" ON CONFLICT DO NOTHING')
    return False


async def mark_contact(session: AsyncSession, *, party_id: str, kind: str, value: str, source: str, confirmed_on: date | None = None, worked_on: date | None = None) -> None:
    """Records a contact, moving its confirmed and worked dates forward only."""
    await insert_new(session, CONTACT, [contact_row(party_id=party_id, kind=kind, value=value, source=source)])
    key = (CONTACT.c.party_id == party_id) & (CONTACT.c.kind == kind) & (CONTACT.c.value == value)
    for column, day in (("confirmed_on", confirmed_on), ("worked_on", worked_on)):
        if day is not None:
            col = CONTACT.c[column]
            await session.exec(update(CONTACT).where(key & ((col.is_(None)) | (col < day))).values({column: day}))


def _known(row: Any, phones: Iterable[str] = ()) -> KnownParty:
    return KnownParty(party_id=row.id, name=row.name, id_type=row.id_type, id_number=row.id_number, phones=frozenset(phones))


async def find_party(session: AsyncSession, party_id: str) -> KnownParty | None:
    """Returns a party by id."""
    rows = await core_rows(session, select(PARTY).where(PARTY.c.id == party_id))
    return _known(rows[0]) if rows else None


async def find_by_name_and_phones(session: AsyncSession, *, name_key: str, phones: Sequence[str]) -> list[KnownParty]:
    """Returns the parties with this name that share at least one of these phone numbers."""
    if not phones:
        return []
    query = (
        select(PARTY, func.min(CONTACT.c.value).label("phone"))
        .join(CONTACT, CONTACT.c.party_id == PARTY.c.id)
        .where(PARTY.c.name_key == name_key, CONTACT.c.kind == "phone", CONTACT.c.value.in_(list(phones)))
        .group_by(*PARTY.c)
    )
    return [_known(row, [row.phone]) for row in await core_rows(session, query)]


@dataclass(frozen=True, slots=True)
class PartyBook:
    """Everything the address book holds about one party."""

    facts: list[AddressFact]
    confirmations: list[ConfirmationFact]
    contacts: list[Contact]


def _location(row: dict[str, Any]) -> GeoPoint | None:
    return GeoPoint(lat=row["lat"], lon=row["lon"]) if row["lat"] is not None and row["lon"] is not None else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _moment(text: str) -> datetime:
    # PostgreSQL writes the offset into JSON; SQLite stores UTC without one.
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_PARTY_COLUMNS = ("id", "name", "id_type", "id_number")
_ENTRY_COLUMNS = ("text", "source", "postcode", "lat", "lon", "case_key", "case_number", "stage", "observed_on")
_CONFIRMATION_COLUMNS = ("id", "case_key", "case_number", "stage", "text", "postcode", "lat", "lon", "e_delivery", "confirmed_on", "recorded_at")
_CONTACT_COLUMNS = ("kind", "value", "source", "confirmed_on", "worked_on")


def _as_json(table: Table, names: Sequence[str], *, postgres: bool, many: bool) -> ScalarSelect[Any]:
    """Returns a subquery giving the party's rows of `table` (or its one row) as JSON objects of these columns."""
    # SQLite keeps JSON columns as text: json() embeds them as JSON, not as a quoted string.
    columns = [table.c[n] if postgres or not isinstance(table.c[n].type, JSON) else func.json(table.c[n]) for n in names]
    pairs: list[Any] = []
    for name, column in zip(names, columns, strict=True):
        pairs += [literal_column(f"'{name}'"), column]
    row = func.json_build_object(*pairs) if postgres else func.json_object(*pairs)
    key = table.c.id if table is PARTY else table.c.party_id
    value = (func.json_agg(row, type_=JSON) if postgres else func.json_group_array(row, type_=JSON)) if many else type_coerce(row, JSON)
    # Written as the text statement's parameter, which compiling the Core tree then leaves as it is.
    return select(value).where(key == literal_column(":party_id")).scalar_subquery()


@cache
def _party_query(postgres: bool) -> TextualSelect:
    # One statement, one round trip: the party and everything the book holds about it. Built with Core once and
    # kept as text, whose cache key is its string: the Core tree's key cost more per lookup than running it.
    query = select(
        _as_json(PARTY, _PARTY_COLUMNS, postgres=postgres, many=False).label("party"),
        _as_json(ENTRY, _ENTRY_COLUMNS, postgres=postgres, many=True).label("entries"),
        _as_json(CONFIRMATION, _CONFIRMATION_COLUMNS, postgres=postgres, many=True).label("confirmations"),
        _as_json(CONTACT, _CONTACT_COLUMNS, postgres=postgres, many=True).label("contacts"),
    )
    dialect = postgresql.dialect(paramstyle="named") if postgres else sqlite.dialect(paramstyle="named")
    return text(str(query.compile(dialect=dialect))).columns(party=JSON, entries=JSON, confirmations=JSON, contacts=JSON)


@cache
def _party_sql() -> str:
    # The PostgreSQL statement in asyncpg's numbered parameters; each_alone's connections decode its json columns.
    return str(_party_query(True)).replace(":party_id", "$1")


async def read_party(session: AsyncSession, party_id: str) -> tuple[KnownParty | None, PartyBook]:
    """Returns a party by id and its address entries, confirmations and contacts, read in one statement."""
    connection = alone(session)
    if connection is not None:
        # An address lookup's read: straight to asyncpg (db.alone).
        party, entries, confirmations, contacts = await connection.fetchrow(_party_sql(), party_id)
    else:
        postgres = session.get_bind().dialect.name == "postgresql"
        result = await session.exec(_party_query(postgres), params={"party_id": party_id})  # type: ignore[call-overload]
        party, entries, confirmations, contacts = result.one()
    known = KnownParty(party_id=party["id"], name=party["name"], id_type=party["id_type"], id_number=party["id_number"]) if party else None
    facts = [
        AddressFact(
            address=PostalAddress.parse(row["text"]),
            source=AddressSource(row["source"]),
            postcode=row["postcode"],
            location=_location(row),
            case_key=row["case_key"],
            case_number=row["case_number"],
            stage=Stage(row["stage"]) if row["stage"] else None,
            observed_on=_day(row["observed_on"]),
        )
        for row in entries or ()
    ]
    return known, PartyBook(
        facts=facts,
        confirmations=[confirmation_fact(_stored_confirmation(row)) for row in confirmations or ()],
        contacts=[
            Contact(kind=row["kind"], value=row["value"], source=row["source"], confirmed_on=_day(row["confirmed_on"]), worked_on=_day(row["worked_on"])) for row in contacts or ()
        ],
    )


async def load_book(session: AsyncSession, party_id: str) -> PartyBook:
    """Reads a party's address entries, confirmations and contacts."""
    return (await read_party(session, party_id))[1]


def _stored_confirmation(row: dict[str, Any]) -> SimpleNamespace:
    """Returns a confirmation read as JSON as its row reads: dates and the recording time parsed."""
    return SimpleNamespace(**row | {"confirmed_on": date.fromisoformat(row["confirmed_on"]), "recorded_at": _moment(row["recorded_at"])})


def confirmation_fact(row: Any) -> ConfirmationFact:
    """Turns a stored confirmation (a row, or one read as JSON) into what resolution ranks."""
    consent = tuple(Consent.model_validate({**c, "source_case": row.case_number, "confirmed_on": row.confirmed_on}) for c in row.e_delivery)
    return ConfirmationFact(
        confirmation_id=row.id,
        case_key=row.case_key,
        confirmed_on=row.confirmed_on,
        recorded_at=row.recorded_at,
        address=AddressFact(
            address=PostalAddress.parse(row.text),
            source=AddressSource.confirmation,
            postcode=row.postcode,
            location=_location({"lat": row.lat, "lon": row.lon}),
            case_key=row.case_key,
            case_number=row.case_number,
            stage=Stage(row.stage),
            observed_on=row.confirmed_on,
            e_delivery_consent=bool(consent),
        ),
        consent=consent,
    )
