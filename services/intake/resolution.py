"""Resolving a recipient: which known party it is, and its candidate addresses, consent and contacts in legal order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake import book, domain
from services.intake.domain import AddressFact, CaseScope
from shared.contracts.events import CandidateAddress, Consent, Contact, MatchMethod, PartyMatch


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a notice, confirmation or lookup names: the facts identity matching may use."""

    name: str
    kind: str
    id_type: str | None = None
    id_number: str | None = None
    phones: Sequence[str] = ()

    @property
    def name_key(self) -> str:
        """The name as compared across spellings."""
        return domain.name_key(self.name)


@dataclass(frozen=True, slots=True)
class Resolution:
    """A recipient resolved against the address book."""

    match: PartyMatch
    candidates: list[CandidateAddress] = field(default_factory=list)
    expired: list[CandidateAddress] = field(default_factory=list)
    consent: list[Consent] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    @property
    def party_id(self) -> str | None:
        """The matched or newly recorded party, if any."""
        return self.match.party_id


async def match(session: AsyncSession, identity: Identity) -> PartyMatch:
    """Finds the known party this identity names, without recording anything."""
    if identity.id_number:
        party_id = book.party_id_for(id_type=identity.id_type, id_number=identity.id_number, name_key=identity.name_key, phone=None)
        by_id = await book.find_party(session, party_id) if party_id else None
        return domain.match_party(name=identity.name, id_number=identity.id_number, phones=identity.phones, by_id=by_id, by_name=[])
    by_name = await book.find_by_name_and_phones(session, name_key=identity.name_key, phones=list(identity.phones))
    return domain.match_party(name=identity.name, id_number=None, phones=identity.phones, by_id=None, by_name=by_name)


async def match_or_record(session: AsyncSession, identity: Identity, *, now: datetime) -> PartyMatch:
    """Finds the known party, or records a new one when there is something to recognise it by next time."""
    found = await match(session, identity)
    if found.method is not MatchMethod.new or (row := new_party(identity, now=now)) is None:
        return found
    await book.insert_new(session, book.PARTY, [row])
    return recorded(found, row["id"])


def new_party(identity: Identity, *, now: datetime) -> dict[str, Any] | None:
    """Returns the party row to record for an identity nothing matched; None when nothing would recognise it next time."""
    first_phone = identity.phones[0] if identity.phones else None
    party_id = book.party_id_for(id_type=identity.id_type, id_number=identity.id_number, name_key=identity.name_key, phone=first_phone)
    if party_id is None:
        return None
    return book.party_row(party_id=party_id, kind=identity.kind, name=identity.name, name_key=identity.name_key, id_type=identity.id_type, id_number=identity.id_number, now=now)


def recorded(found: PartyMatch, party_id: str) -> PartyMatch:
    """Returns the match of a party just recorded as new."""
    return found.model_copy(update={"party_id": party_id, "note": found.note + "; recorded as a new party"})


async def resolve(session: AsyncSession, found: PartyMatch, *, scope: CaseScope, notice_facts: Sequence[AddressFact], today: date) -> Resolution:
    """Ranks the party's known addresses together with those the notice gives."""
    known = await book.load_book(session, found.party_id) if found.party_id is not None else None
    return _ranked(found, known, scope=scope, notice_facts=notice_facts, today=today)


async def look_up(session: AsyncSession, identity: Identity, *, scope: CaseScope, today: date) -> Resolution:
    """Finds the known party and ranks its addresses without recording anything; by ID number the party and its book are one read."""
    if not identity.id_number:
        return await resolve(session, await match(session, identity), scope=scope, notice_facts=[], today=today)
    party_id = book.party_id_for(id_type=identity.id_type, id_number=identity.id_number, name_key=identity.name_key, phone=None)
    by_id, known = await book.read_party(session, party_id) if party_id else (None, None)
    found = domain.match_party(name=identity.name, id_number=identity.id_number, phones=identity.phones, by_id=by_id, by_name=[])
    return _ranked(found, known if found.party_id is not None else None, scope=scope, notice_facts=[], today=today)


def _ranked(found: PartyMatch, known: book.PartyBook | None, *, scope: CaseScope, notice_facts: Sequence[AddressFact], today: date) -> Resolution:
    if known is None:
        return ranked(found, facts=notice_facts, confirmations=[], contacts=[], scope=scope, today=today)
    return ranked(found, facts=[*notice_facts, *known.facts], confirmations=known.confirmations, contacts=known.contacts, scope=scope, today=today)


def ranked(
    found: PartyMatch, *, facts: Sequence[AddressFact], confirmations: Sequence[domain.ConfirmationFact], contacts: Iterable[Contact], scope: CaseScope, today: date
) -> Resolution:
    """Ranks a party's addresses and the confirmations in force, with its contacts, the latest worked first."""
    in_force = domain.current_confirmations(list(confirmations))
    ranked_, expired = domain.rank_addresses([*facts, *(c.address for c in in_force.values())], scope=scope, today=today)
    latest_first = sorted(contacts, key=lambda c: (c.worked_on or date.min, c.confirmed_on or date.min), reverse=True)
    return Resolution(match=found, candidates=ranked_, expired=expired, consent=domain.consent_for(list(confirmations), scope), contacts=latest_first)
