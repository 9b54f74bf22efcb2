"""Registering notices in batches: each checked and resolved as POST /v1/notices would, the batch read and written in a few statements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy import select as select_rows
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake import access, book, courts, domain, firms, notices, resolution
from services.intake.book import CONFIRMATION, CONTACT, ENTRY, PARTY
from services.intake.domain import AddressFact, KnownParty
from services.intake.models import IntakeCourt, IntakeDocument, IntakeFirm, IntakeNotice, IntakeRecipient
from services.intake.requests import NoticeIn
from services.intake.resolution import Identity, Resolution
from shared.contracts import topics
from shared.contracts.addresses import PostalAddress
from shared.contracts.casenumber import CaseNumber
from shared.contracts.events import AddressSource, Contact, GeoPoint, MatchMethod, PartyMatch, Stage
from shared.plumbing import outbox
from shared.plumbing.auth import Principal, Role
from shared.plumbing.clock import local_date
from shared.plumbing.db import core_rows, table_of
from shared.plumbing.problems import Problem, validation_problem

SOURCE = "songda/intake"
NOTICE = table_of(IntakeNotice)
RECIPIENT = table_of(IntakeRecipient)


@dataclass(frozen=True, slots=True)
class Registered:
    """A notice a request named: newly registered, or the one registered before under its reference."""

    notice: notices.Notice
    created: bool


Outcome = Registered | Problem


async def register(session: AsyncSession, *, principal: Principal, bodies: Sequence[NoticeIn], now: datetime) -> list[Outcome]:
    """Registers the notices inside the caller's transaction, each refused or found a duplicate on its own; returns one outcome per body, in order."""
    if not bodies:
        return []
    registry = await _courts(session, principal, bodies)
    uploaded = await _uploaded(session, bodies)
    earlier = await _by_reference(session, bodies)
    outcomes: list[Outcome] = []
    new: list[notices.NewNotice] = []
    for body in bodies:
        try:
            payload = body.model_dump(mode="json") | {"court_name": _registered_name(body, registry.get(body.court_id), principal)}
            payload["documents"] = _stored_documents(body, uploaded)
            key = (body.court_id, body.court_reference)
            if key in earlier:
                outcomes.append(Registered(_same_or_conflict(earlier[key], domain.fingerprint(payload)), created=False))
                continue
        except Problem as refused:
            outcomes.append(refused)
            continue
        notice = notices.unresolved_notice(payload, now=now)
        # A reference repeated later in the same batch is a resubmission of this one.
        earlier[key] = notice
        new.append(notice)
        outcomes.append(Registered(notice, created=True))
    if new:
        await _resolve_and_save(session, new, now=now)
    return outcomes


async def _courts(session: AsyncSession, principal: Principal, bodies: Sequence[NoticeIn]) -> dict[str, IntakeCourt]:
    """Reads the registry entries of the courts the batch names; a court token is refused whole unless its court is registered and active."""
    if principal.role is Role.court:
        court = await access.calling_court(session, principal)
        return {court.id: court}
    wanted = {body.court_id for body in bodies}
    return {court.id: court for court in await session.exec(select(IntakeCourt).where(col(IntakeCourt.id).in_(wanted)))}


def _registered_name(body: NoticeIn, court: IntakeCourt | None, principal: Principal) -> str:
    """Returns the court's name from the registry, refusing an unknown court, a case of another court and a name that differs."""
    if court is None or not court.active:
        raise _invalid("court_id", f"{body.court_id} is not a registered, active court")
    case = CaseNumber.parse(body.case_number)
    if not courts.owns_case(court, case):
        if principal.role is Role.court:
            raise access.not_your_case(case, court)
        raise _invalid("case_number", access.not_its_case(case, court))
    if body.court_name is not None and body.court_name != court.name:
        raise _invalid("court_name", f"court {court.id} is registered as {court.name}")
    return court.name


async def _uploaded(session: AsyncSession, bodies: Sequence[NoticeIn]) -> dict[tuple[str, str], IntakeDocument]:
    """Reads, in one query, the stored files the batch's documents name, by court and sha256."""
    court_ids = {body.court_id for body in bodies}
    hashes = {document.sha256 for body in bodies for document in body.documents}
    query = select(IntakeDocument).where(col(IntakeDocument.court_id).in_(court_ids), col(IntakeDocument.sha256).in_(hashes))
    return {(row.court_id, row.sha256): row for row in await session.exec(query)}


def _stored_documents(body: NoticeIn, uploaded: Mapping[tuple[str, str], IntakeDocument]) -> list[dict[str, Any]]:
    """Returns the notice's documents with what the store knows of each file; refuses one the court never uploaded, or whose pages differ."""
    errors, documents = [], []
    for index, document in enumerate(body.documents):
        row = uploaded.get((body.court_id, document.sha256))
        if row is None:
            errors.append(
                {
                    "loc": ("body", "documents", index, "sha256"),
                    "msg": f"no document {document.sha256} uploaded by court {body.court_id}: upload it to /v1/documents first",
                    "type": "value_error",
                }
            )
            continue
        if document.pages is not None and document.pages != row.pages:
            errors.append({"loc": ("body", "documents", index, "pages"), "msg": f"the file has {row.pages} pages, not {document.pages}", "type": "value_error"})
            continue
        documents.append({"title": document.title, "kind": document.kind, "sha256": row.sha256, "pages": row.pages, "size": row.size, "content_type": row.content_type})
    if errors:
        raise validation_problem(errors)
    return documents


async def _by_reference(session: AsyncSession, bodies: Sequence[NoticeIn]) -> dict[tuple[str, str], notices.Notice]:
    """Reads, in one query, the notices registered before under the batch's references."""
    wanted = {(body.court_id, body.court_reference) for body in bodies}
    query = select(IntakeNotice).where(
        col(IntakeNotice.court_id).in_({court_id for court_id, _ in wanted}), col(IntakeNotice.court_reference).in_({reference for _, reference in wanted})
    )
    found = {(notice.court_id, notice.court_reference): notice for notice in await session.exec(query)}
    return {key: notice for key, notice in found.items() if key in wanted}


def _same_or_conflict(existing: notices.Notice, fingerprint: str) -> notices.Notice:
    if existing.fingerprint != fingerprint:
        raise Problem(
            409,
            "Conflict",
            f"Court reference {existing.court_reference} was already used for a different notice ({existing.id}).",
            kind="court-reference-conflict",
        )
    return existing


def _invalid(field: str, message: str) -> Problem:
    return validation_problem([{"loc": ("body", field), "msg": message, "type": "value_error"}])


# --- Recipients against the address book ---------------------------------------------------------


async def _resolve_and_save(session: AsyncSession, new: list[notices.NewNotice], *, now: datetime) -> None:
    """Resolves every recipient of the new notices in order against the book read once, then writes notices, recipients, book rows and events in bulk."""
    identities = [_identity(r) for notice in new for r in notice.notice["recipients"]]
    known = await _Book.read(session, identities, now=now)
    agreements = await _agreements(session, new)
    recipient_rows: list[dict[str, Any]] = []
    for notice in new:
        recipient_rows += _resolve(known, notice, agreements, now=now)
    await known.save(session)
    await session.exec(insert(NOTICE), params=[notice.row() for notice in new])
    await session.exec(insert(RECIPIENT), params=recipient_rows)
    for notice in new:
        envelope = notices.registered_event(notice).envelope(source=SOURCE, subject=notice.id, time=now, correlationid=notice.correlation_id)
        outbox.add(session, envelope, topic=topics.INTAKE_EVENTS, now=now)


def _identity(recipient: dict[str, Any]) -> Identity:
    phones = [p["e164"] for p in recipient["phones"]]
    return Identity(name=recipient["name"], kind=recipient["kind"], id_type=recipient.get("id_type"), id_number=recipient.get("id_number"), phones=phones)


def _resolve(known: _Book, notice: notices.NewNotice, agreements: dict[str, domain.FirmAgreement], *, now: datetime) -> list[dict[str, Any]]:
    """Resolves a notice's recipients, remembering what it says of each party for the recipients after it; returns its intake_recipient rows."""
    scope, today = notices.case_scope(notice), local_date(now)
    recipients, rows = [], []
    for recipient in notice.notice["recipients"]:
        found = known.match_or_record(_identity(recipient), now=now)
        facts = notices.notice_facts(recipient, notice=notice)
        resolved = known.resolve(found, scope=scope, notice_facts=facts, today=today)
        agreement = domain.covering_agreement(agreements, firm_uscc=(recipient.get("lawyer") or {}).get("firm_uscc"), court_id=notice.court_id, on=today)
        through_firm = [domain.firm_consent(agreement, court_name=notice.court_name, case_number=notice.case_number)] if agreement else []
        consent = notices.merged_consent(notices.given_consent(recipient, notice=notice), through_firm, resolved.consent)
        recipients.append({**recipient, **notices.resolved_fields(replace(resolved, consent=consent))})
        if found.party_id is not None:
            known.remember(found.party_id, recipient, facts, now=now)
        rows.append({"id": recipient["recipient_id"], "notice_id": notice.id, "party_id": found.party_id})
    notice.notice = {**notice.notice, "recipients": recipients}
    return rows


async def _agreements(session: AsyncSession, new: Sequence[notices.NewNotice]) -> dict[str, domain.FirmAgreement]:
    """Returns, in one query, the registry entries of the firms whose lawyers represent the recipients."""
    usccs = {uscc for notice in new for r in notice.notice["recipients"] if (uscc := (r.get("lawyer") or {}).get("firm_uscc"))}
    if not usccs:
        return {}
    found = await session.exec(select(IntakeFirm).where(col(IntakeFirm.uscc).in_(usccs)))
    return {firm.uscc: firms.agreement_of(firm) for firm in found}


@dataclass
class _Party:
    known: KnownParty
    name_key: str


class _Book:
    """The address book of the parties a batch may name, read in a few queries and kept in step with what the batch adds, so each recipient sees what the ones before it recorded."""

    def __init__(self) -> None:
        self.parties: dict[str, _Party] = {}
        self.entries: dict[str, dict[str, AddressFact]] = {}
        self.confirmations: dict[str, list[domain.ConfirmationFact]] = {}
        self.contacts: dict[str, dict[tuple[str, str], Contact]] = {}
        self.new_parties: list[dict[str, Any]] = []
        self.new_entries: list[dict[str, Any]] = []
        self.new_contacts: list[dict[str, Any]] = []

    @classmethod
    async def read(cls, session: AsyncSession, identities: Sequence[Identity], *, now: datetime) -> _Book:
        """Reads every party an identity could match or record, and their entries, confirmations and contacts."""
        self = cls()
        by_id = {content for i in identities if i.id_number and (content := book.party_id_for(id_type=i.id_type, id_number=i.id_number, name_key=i.name_key, phone=None))}
        # The id a new party would be recorded under may already be taken by one the lookups below miss; its book is then read too.
        would_record = {
            content
            for i in identities
            if not i.id_number and i.phones and (content := book.party_id_for(id_type=i.id_type, id_number=None, name_key=i.name_key, phone=i.phones[0]))
        }
        parties = list(await core_rows(session, select_rows(PARTY).where(PARTY.c.id.in_(by_id | would_record))))
        named = [i for i in identities if not i.id_number and i.phones]
        if named:
            by_name = (
                select_rows(PARTY)
                .join(CONTACT, CONTACT.c.party_id == PARTY.c.id)
                .where(PARTY.c.name_key.in_({i.name_key for i in named}), CONTACT.c.kind == "phone", CONTACT.c.value.in_({p for i in named for p in i.phones}))
                .distinct()
            )
            parties += await core_rows(session, by_name)
        for row in parties:
            self.parties[row.id] = _Party(KnownParty(party_id=row.id, name=row.name, id_type=row.id_type, id_number=row.id_number), name_key=row.name_key)
        await self._read_books(session, list(set(self.parties) | would_record))
        return self

    async def _read_books(self, session: AsyncSession, party_ids: list[str]) -> None:
        for party_id in party_ids:
            self.entries[party_id], self.confirmations[party_id], self.contacts[party_id] = {}, [], {}
        if not party_ids:
            return
        for row in await core_rows(session, select_rows(ENTRY).where(ENTRY.c.party_id.in_(party_ids))):
            self.entries[row.party_id][row.id] = _fact(row._mapping)
        for row in await core_rows(session, select_rows(CONFIRMATION).where(CONFIRMATION.c.party_id.in_(party_ids))):
            self.confirmations[row.party_id].append(book.confirmation_fact(row))
        for row in await core_rows(session, select_rows(CONTACT).where(CONTACT.c.party_id.in_(party_ids))):
            self.contacts[row.party_id][(row.kind, row.value)] = Contact(kind=row.kind, value=row.value, source=row.source, confirmed_on=row.confirmed_on, worked_on=row.worked_on)

    def match_or_record(self, identity: Identity, *, now: datetime) -> PartyMatch:
        """Finds the known party as resolution.match_or_record does, or records a new one when there is something to recognise it by."""
        found = self._match(identity)
        if found.method is not MatchMethod.new or (row := resolution.new_party(identity, now=now)) is None:
            return found
        party_id = row["id"]
        if party_id not in self.parties:
            self.new_parties.append(row)
            self.parties[party_id] = _Party(KnownParty(party_id=party_id, name=identity.name, id_type=identity.id_type, id_number=identity.id_number), name_key=identity.name_key)
            self.entries.setdefault(party_id, {})
            self.confirmations.setdefault(party_id, [])
            self.contacts.setdefault(party_id, {})
        return resolution.recorded(found, party_id)

    def _match(self, identity: Identity) -> PartyMatch:
        if identity.id_number:
            party_id = book.party_id_for(id_type=identity.id_type, id_number=identity.id_number, name_key=identity.name_key, phone=None)
            party = self.parties.get(party_id) if party_id else None
            return domain.match_party(name=identity.name, id_number=identity.id_number, phones=identity.phones, by_id=party.known if party else None, by_name=[])
        wanted = set(identity.phones)
        by_name = []
        for party_id, party in self.parties.items():
            shared = wanted & {value for kind, value in self.contacts.get(party_id, {}) if kind == "phone"}
            if party.name_key == identity.name_key and shared:
                by_name.append(replace(party.known, phones=frozenset({min(shared)})))
        return domain.match_party(name=identity.name, id_number=None, phones=identity.phones, by_id=None, by_name=by_name)

    def resolve(self, found: PartyMatch, *, scope: domain.CaseScope, notice_facts: Sequence[AddressFact], today: date) -> Resolution:
        """Ranks the party's known addresses together with those the notice gives, as resolution.resolve does."""
        if found.party_id is None:
            return resolution.ranked(found, facts=notice_facts, confirmations=[], contacts=[], scope=scope, today=today)
        party_id = found.party_id
        facts = [*notice_facts, *self.entries[party_id].values()]
        return resolution.ranked(found, facts=facts, confirmations=self.confirmations[party_id], contacts=self.contacts[party_id].values(), scope=scope, today=today)

    def remember(self, party_id: str, recipient: dict[str, Any], facts: Sequence[AddressFact], *, now: datetime) -> None:
        """Adds what the notice says about the party to the book, a fact or contact already there left as it is."""
        for fact in facts:
            row = book.entry_row(
                party_id=party_id,
                address=fact.address,
                source=fact.source,
                postcode=fact.postcode,
                location=fact.location,
                case=CaseNumber.parse(fact.case_number) if fact.case_number else None,
                stage=fact.stage,
                observed_on=fact.observed_on,
                origin="notice",
                now=now,
            )
            if row["id"] not in self.entries[party_id]:
                self.entries[party_id][row["id"]] = _fact(row)
                self.new_entries.append(row)
        for kind, values in (("phone", [p["e164"] for p in recipient["phones"]]), ("email", recipient["emails"])):
            for value in values:
                if (kind, value) not in self.contacts[party_id]:
                    row = book.contact_row(party_id=party_id, kind=kind, value=value, source="notice")
                    self.contacts[party_id][(kind, value)] = Contact(kind=kind, value=value, source="notice")
                    self.new_contacts.append(row)

    async def save(self, session: AsyncSession) -> None:
        """Writes the parties, entries and contacts the batch recorded, each table in one statement (a row already there is skipped)."""
        # In key order, so that batches registering the same parties at once lock their rows in the same order and never deadlock.
        for table, rows in ((PARTY, self.new_parties), (ENTRY, self.new_entries), (CONTACT, self.new_contacts)):
            if rows:
                keys = [column.name for column in table.primary_key]
                await book.insert_new(session, table, sorted(rows, key=lambda row: [row[k] for k in keys]))


def _fact(row: Mapping[Any, Any]) -> AddressFact:
    """Returns an address entry as the book reads it back (book.load_book)."""
    location = GeoPoint(lat=row["lat"], lon=row["lon"]) if row["lat"] is not None and row["lon"] is not None else None
    return AddressFact(
        address=PostalAddress.parse(row["text"]),
        source=AddressSource(row["source"]),
        postcode=row["postcode"],
        location=location,
        case_key=row["case_key"],
        case_number=row["case_number"],
        stage=Stage(row["stage"]) if row["stage"] else None,
        observed_on=row["observed_on"],
    )
