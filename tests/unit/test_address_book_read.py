"""Reading a party and its book in one statement, on a real SQLite file (PostgreSQL runs it in the integration tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.intake import book
from services.intake.domain import KnownParty
from shared.contracts.addresses import PostalAddress
from shared.contracts.casenumber import CaseNumber
from shared.contracts.events import AddressSource, Contact, GeoPoint, Stage
from shared.plumbing.db import Database, create_tables

NOW = datetime(2026, 6, 1, 8, 30, 15, 123456, tzinfo=UTC)
CASE = CaseNumber.parse("（2026）鲁1002民初0999号")
HOME = PostalAddress.parse("山东省威海市环翠区新威路17号")
WORK = PostalAddress.parse("山东省威海市环翠区文化中路88号")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'intake.db'}")
    await create_tables(database.engine, [book.PARTY, book.CONTACT, book.ENTRY, book.CONFIRMATION])
    yield database
    await database.dispose()


async def test_a_party_reads_back_with_its_entries_confirmations_and_contacts(db: Database) -> None:
    party_id = "p-1"
    async with db.transaction() as session:
        party = book.party_row(party_id=party_id, kind="person", name="张三", name_key="张三", id_type="resident_id", id_number="371002198503124210", now=NOW)
        await book.insert_new(session, book.PARTY, [party])
        entry = book.entry_row(
            party_id=party_id, address=HOME, source=AddressSource.household, postcode="264200", location=GeoPoint(lat=37.5, lon=122.1), observed_on=None, origin="import", now=NOW
        )
        await book.insert_new(session, book.ENTRY, [entry])
        channels = [{"channel": "sms", "address": "+8613800138000"}]
        confirmation = book.confirmation_row(
            party_id=party_id,
            case=CASE,
            stage=Stage.first_instance,
            address=WORK,
            postcode=None,
            location=None,
            phone="+8613800138000",
            e_delivery=channels,
            designated_proxy=None,
            confirmed_on=date(2026, 5, 30),
            origin="api",
            now=NOW,
        )
        await book.insert_new(session, book.CONFIRMATION, [confirmation])
        await book.insert_new(session, book.CONTACT, [book.contact_row(party_id=party_id, kind="phone", value="+8613800138000", source="import", worked_on=date(2026, 4, 1))])

    async with db.transaction() as session:
        known, held = await book.read_party(session, party_id)
        missing, nothing = await book.read_party(session, "p-unknown")

    assert known == KnownParty(party_id=party_id, name="张三", id_type="resident_id", id_number="371002198503124210")
    [fact] = held.facts
    assert (fact.address, fact.source, fact.postcode, fact.location, fact.case_key, fact.observed_on) == (
        HOME,
        AddressSource.household,
        "264200",
        GeoPoint(lat=37.5, lon=122.1),
        None,
        None,
    )
    [confirmed] = held.confirmations
    assert (confirmed.confirmation_id, confirmed.case_key, confirmed.confirmed_on, confirmed.recorded_at) == (confirmation["id"], CASE.key, date(2026, 5, 30), NOW)
    assert (confirmed.address.address, confirmed.address.stage, confirmed.address.e_delivery_consent) == (WORK, Stage.first_instance, True)
    assert [(c.channel, c.address, c.source_case, c.confirmed_on) for c in confirmed.consent] == [("sms", "+8613800138000", CASE.text, date(2026, 5, 30))]
    assert held.contacts == [Contact(kind="phone", value="+8613800138000", source="import", confirmed_on=None, worked_on=date(2026, 4, 1))]
    assert missing is None
    assert (nothing.facts, nothing.confirmations, nothing.contacts) == ([], [], [])
