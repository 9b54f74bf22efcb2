"""Intake's use cases: register and read notices, record an address confirmation, look a party up, keep the court registry, learn from served recipients."""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from datetime import date, datetime
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.intake import access, book, courts, domain, firms, notices, registration, resolution
from services.intake.courts import CourtIn
from services.intake.deps import IntakeDeps
from services.intake.domain import CaseScope
from services.intake.models import IntakeConfirmation, IntakeCourt, IntakeDocument, IntakeFirm, IntakeNotice, IntakeRecipient
from services.intake.requests import ConfirmationIn, ConfirmationOut, LookupIn, LookupOut, NoticeIn
from services.intake.resolution import Identity
from shared.contracts import topics
from shared.contracts.addresses import PostalAddress
from shared.contracts.casenumber import CaseNumber
from shared.contracts.events import (
    AddressConfirmed,
    AddressReported,
    AddressSource,
    RecipientServed,
    Stage,
)
from shared.plumbing import audit, outbox
from shared.plumbing.auth import Principal, Role
from shared.plumbing.clock import local_date
from shared.plumbing.consumer import MessageContext
from shared.plumbing.documents import DocumentError, DocumentTooLarge, DocumentUnsupported, read_or_problem
from shared.plumbing.problems import Problem, validation_problem
from shared.plumbing.runtime import Deps

SOURCE = "songda/intake"
# Notices registered per transaction: a batch's reads and writes stay a few statements, its locks short.
_CHUNK = 100
log = structlog.get_logger(__name__)


# --- Documents ----------------------------------------------------------------------------------


async def store_document(deps: IntakeDeps, *, principal: Principal, court_id: str | None, filename: str, content: AsyncIterable[bytes]) -> tuple[IntakeDocument, bool]:
    """Keeps an uploaded PDF or OFD in the document store for a registered court (a court's own, a service or supervisor naming it); returns it and whether the court had not uploaded it before."""
    async with deps.db.sessions() as session:
        court = await _uploading_court(session, principal, court_id)
    try:
        stored = await deps.documents.put(content)
    except DocumentError as error:
        raise _refused_file(error) from error
    now = deps.clock.now()
    row = IntakeDocument(sha256=stored.sha256, court_id=court.id, filename=filename, size=stored.size, pages=stored.pages, content_type=stored.content_type, uploaded_at=now)
    try:
        async with deps.db.transaction() as session:
            existing = await session.get(IntakeDocument, (stored.sha256, court.id))
            if existing is not None:
                return existing, False
            session.add(row)
    except IntegrityError:
        # The same court uploaded the same bytes at the same moment: the first row stands.
        async with deps.db.sessions() as session:
            first = await session.get(IntakeDocument, (stored.sha256, court.id))
        if first is None:
            raise
        return first, False
    log.info("document.stored", sha256=stored.sha256, court_id=court.id, size=stored.size, pages=stored.pages, content_type=stored.content_type)
    return row, True


async def _uploading_court(session: AsyncSession, principal: Principal, court_id: str | None) -> IntakeCourt:
    if principal.role is Role.court:
        access.check_submitter(principal, court_id or principal.sub)
        return await access.calling_court(session, principal)
    if court_id is None:
        raise _invalid("court_id", "name the court the document is for")
    court = await courts.find(session, court_id)
    if court is None or not court.active:
        raise _invalid("court_id", f"{court_id} is not a registered, active court")
    return court


def _refused_file(error: DocumentError) -> Problem:
    titles = {DocumentTooLarge: "Payload too large", DocumentUnsupported: "Unsupported media type"}
    title = titles.get(type(error), "Invalid request")
    return Problem(error.status, title, f"file: {error}", errors=[{"field": "file", "message": str(error)}])


async def read_document(deps: IntakeDeps, *, principal: Principal, sha256: str) -> tuple[IntakeDocument, bytes]:
    """Returns a stored document and its bytes: a court one it uploaded (so every one its notices name), overseers any; the read of an overseer is audited."""
    async with deps.db.transaction() as session:
        query = select(IntakeDocument).where(IntakeDocument.sha256 == sha256)
        if principal.role is Role.court:
            query = query.where(IntakeDocument.court_id == principal.sub)
        document = (await session.exec(query.order_by(col(IntakeDocument.uploaded_at)).limit(1))).first()
        if document is None:
            raise Problem(404, "Not found", f"No document {sha256}.")
        if principal.audited:
            audit.record(session, principal, action="document.read", target=sha256, now=deps.clock.now())
    return document, await read_or_problem(deps.documents, sha256)


# --- Notices ------------------------------------------------------------------------------------


async def register_notice(deps: Deps, *, principal: Principal, body: NoticeIn) -> tuple[notices.Notice, bool]:
    """Stores a notice of a registered court in one of its cases, under the registry's court name, with its recipients resolved against the address book, and stages intake.NoticeRegistered; returns it and whether it is new."""
    [outcome] = await register_notices(deps, principal=principal, bodies=[body])
    if isinstance(outcome, Problem):
        raise outcome
    return outcome.notice, outcome.created


async def submit_batch(deps: IntakeDeps, *, principal: Principal, items: Sequence[Any]) -> list[dict[str, Any]]:
    """Validates and registers each item of a court's batch as POST /v1/notices would; returns each item's status with its notice id or its problem, naming fields under notices[i]."""
    results: dict[int, dict[str, Any]] = {}
    valid: list[tuple[int, NoticeIn]] = []
    for index, item in enumerate(items):
        try:
            body = NoticeIn.model_validate(item)
        except ValidationError as invalid:
            results[index] = _refused_item(index, validation_problem([{**e, "loc": ("body", *e["loc"])} for e in invalid.errors()]))
            continue
        # A court naming another court anywhere in its batch is refused whole, as that notice alone would be.
        access.check_submitter(principal, body.court_id)
        valid.append((index, body))
    # Batches register in turn, in the order they arrived. Interleaved on the event loop, concurrent batches all
    # commit near the end, and nothing of any of them reaches delivery before; in turn, the first is on its way while
    # the next registers (3,000 notices in 30 concurrent batches: 518–536 notices/s instead of 412–426). A batch holds at
    # most 500 notices, so a wait is bounded. Single notices do not take the turn: in turn, their short transactions
    # would add up their round trips.
    async with deps.batch_turn:
        outcomes = await register_notices(deps, principal=principal, bodies=[body for _, body in valid])
    for (index, _), outcome in zip(valid, outcomes, strict=True):
        if isinstance(outcome, Problem):
            results[index] = _refused_item(index, outcome)
        else:
            results[index] = {"index": index, "status": 201 if outcome.created else 200, "id": outcome.notice.id}
    return [results[index] for index in range(len(items))]


def _refused_item(index: int, problem: Problem) -> dict[str, Any]:
    """Returns an item's problem as POST /v1/notices would answer it, its fields named under notices[index]."""
    body = problem.body(instance="/v1/notices/batch")
    if problem.errors:
        body["errors"] = [{**error, "field": f"notices[{index}].{error['field']}"} for error in problem.errors]
    return {"index": index, "status": problem.status, "problem": body}


async def register_notices(deps: Deps, *, principal: Principal, bodies: Sequence[NoticeIn]) -> list[registration.Outcome]:
    """Registers notices as POST /v1/notices would, each refused or found a duplicate on its own, one transaction per chunk; returns one outcome per body, in order."""
    now = deps.clock.now()
    outcomes: list[registration.Outcome] = []
    for start in range(0, len(bodies), _CHUNK):
        chunk = bodies[start : start + _CHUNK]
        try:
            async with deps.db.transaction() as session:
                outcomes += await registration.register(session, principal=principal, bodies=chunk, now=now)
        except IntegrityError:
            # A concurrent submission of one of the references committed first; looked at again, it is found.
            async with deps.db.transaction() as session:
                outcomes += await registration.register(session, principal=principal, bodies=chunk, now=now)
    return outcomes


def _invalid(field: str, message: str) -> Problem:
    return validation_problem([{"loc": ("body", field), "msg": message, "type": "value_error"}])


async def read_notice(deps: Deps, *, principal: Principal, notice_id: str) -> tuple[IntakeNotice, list[dict[str, Any]]]:
    """Returns the notice and the recipients the caller may see: a court its own, a lawyer those its firm represents; others answer as missing."""
    async with deps.db.transaction() as session:
        notice = await session.get(IntakeNotice, notice_id)
        recipients = access.visible_recipients(principal, notice) if notice is not None else None
        if notice is None or recipients is None:
            raise access.missing_notice(notice_id)
        if principal.audited:
            party_ids = [r["party"]["party_id"] for r in recipients if (r.get("party") or {}).get("party_id")]
            audit.record(session, principal, action="notice.read", target=notice_id, now=deps.clock.now(), party_ids=party_ids)
    return notice, recipients


# --- Address confirmations ----------------------------------------------------------------------


async def confirm_address(deps: Deps, *, principal: Principal, body: ConfirmationIn) -> ConfirmationOut:
    """Records a 送达地址确认书 in one of the caller's own cases; a later one for the same party and case supersedes, and open notices of the case hear of it."""
    now = deps.clock.now()
    case = CaseNumber.parse(body.case_number)
    identity = Identity(name=body.party.name, kind=body.party.kind, id_type=body.party.id_type, id_number=body.party.id_number, phones=[body.phone.e164] if body.phone else [])
    channels = [c.terms() for c in body.e_delivery.channels] if body.e_delivery else []
    async with deps.db.transaction() as session:
        await access.check_case(session, principal, case)
        if body.confirmed_at > local_date(now):
            raise validation_problem([{"loc": ("body", "confirmed_at"), "msg": "a confirmation cannot be dated in the future", "type": "date_in_future"}])
        found = await resolution.match_or_record(session, identity, now=now)
        if found.party_id is None:
            raise validation_problem(
                [{"loc": ("body", "party", "id_number"), "msg": f"the party cannot be identified ({found.note}); give its ID number", "type": "unidentified_party"}]
            )
        before = domain.current_confirmations((await book.load_book(session, found.party_id)).confirmations).get(case.key)
        row = book.confirmation_row(
            party_id=found.party_id,
            case=case,
            stage=body.stage,
            address=PostalAddress.parse(body.address.text),
            postcode=body.address.postcode,
            location=body.address.location,
            phone=body.phone.e164 if body.phone else None,
            e_delivery=channels,
            designated_proxy=body.designated_proxy,
            confirmed_on=body.confirmed_at,
            origin="api",
            now=now,
        )
        created = await session.get(IntakeConfirmation, row["id"]) is None
        informed, supersedes = 0, None
        if created:
            await book.insert_new(session, book.CONFIRMATION, [row])
            await _remember_contacts(session, found.party_id, body, channels)
            after = domain.current_confirmations((await book.load_book(session, found.party_id)).confirmations)[case.key]
            # A confirmation dated before the one in force is history from the start and changes nothing.
            if after.confirmation_id == row["id"]:
                supersedes = before.confirmation_id if before else None
                informed = await _tell_open_notices(session, found.party_id, after, supersedes=supersedes, body=body, now=now)
    return ConfirmationOut(
        id=row["id"], case_number=case.text, stage=body.stage, party=found, confirmed_at=body.confirmed_at, supersedes=supersedes, notices_informed=informed, created=created
    )


async def _remember_contacts(session: AsyncSession, party_id: str, body: ConfirmationIn, channels: list[dict[str, Any]]) -> None:
    contacts = [("phone", body.phone.e164)] if body.phone else []
    # Only an address the party confirmed is its contact (OLR Art. 31); one found elsewhere stays unconfirmed.
    contacts += [("phone" if c["channel"] == "sms" else "email", c["address"]) for c in channels if c["channel"] in ("sms", "email") and c.get("address_confirmed", True)]
    for kind, value in contacts:
        await book.mark_contact(session, party_id=party_id, kind=kind, value=value, source="confirmation", confirmed_on=body.confirmed_at)


async def _tell_open_notices(session: AsyncSession, party_id: str, confirmation: domain.ConfirmationFact, *, supersedes: str | None, body: ConfirmationIn, now: datetime) -> int:
    """Stages intake.AddressConfirmed for every notice of this case (or a later stage of it) that names the party."""
    rows = await session.exec(
        select(IntakeNotice, IntakeRecipient).join(IntakeRecipient, col(IntakeRecipient.notice_id) == col(IntakeNotice.id)).where(IntakeRecipient.party_id == party_id)
    )
    fact = confirmation.address
    count = 0
    for notice, recipient in rows.all():
        scope = notices.case_scope(notice)
        if confirmation.case_key not in scope.case_keys or not domain.confirmation_reaches(body.stage, Stage(notice.stage)):
            continue
        event = AddressConfirmed(
            notice_id=notice.id,
            recipient_id=recipient.id,
            party_id=party_id,
            confirmation_id=confirmation.confirmation_id,
            case_number=fact.case_number or "",
            stage=body.stage,
            address=domain.rank_addresses([fact], scope=scope, today=confirmation.confirmed_on)[0][0],
            phone=body.phone,
            consent=list(confirmation.consent),
            designated_proxy=body.designated_proxy,
            confirmed_on=confirmation.confirmed_on,
            supersedes=supersedes,
        )
        outbox.add(session, event.envelope(source=SOURCE, subject=notice.id, time=now, correlationid=notice.correlation_id), topic=topics.INTAKE_EVENTS, now=now)
        count += 1
    return count


# --- Lookups ------------------------------------------------------------------------------------


async def look_up(deps: Deps, *, principal: Principal, body: LookupIn) -> LookupOut:
    """Returns a party's ranked addresses to a caller entitled to them; every lookup, refused or not, is in the audit log."""
    now = deps.clock.now()
    today = local_date(now)
    keys = {CaseNumber.parse(text).key for text in [*([body.case_number] if body.case_number else []), *body.earlier_case_numbers]}
    scope = CaseScope(case_keys=frozenset(keys), stage=body.stage)
    identity = Identity(name=body.party.name, kind=body.party.kind, id_type=body.party.id_type, id_number=body.party.id_number, phones=[p.e164 for p in body.phones])
    async with book.reading(deps.db) as session:
        resolved = await resolution.look_up(session, identity, scope=scope, today=today)
        found = resolved.match
        refusal = await _lookup_refusal(session, principal, body, party_id=found.party_id)
        if refusal is not None:
            await audit.write(session, principal, action="address_lookup", target=body.case_number or "-", now=now, purpose=body.purpose, outcome=f"refused: {refusal.detail}")
        else:
            outcome = f"{found.method}: {len(resolved.candidates)} candidates, {len(resolved.expired)} expired"
            party_ids = [found.party_id] if found.party_id else []
            await audit.write(session, principal, action="address_lookup", target=body.case_number or "-", now=now, purpose=body.purpose, party_ids=party_ids, outcome=outcome)
    if refusal is not None:
        raise refusal
    return LookupOut(party=found, candidates=resolved.candidates, expired_candidates=resolved.expired, consent=resolved.consent, contacts=resolved.contacts, as_of=today)


async def _lookup_refusal(session: AsyncSession, principal: Principal, body: LookupIn, *, party_id: str | None) -> Problem | None:
    """Purpose limitation (PIPL Art. 6, 28): a court looks up only a party one of its own cases names; overseers and services anyone."""
    if principal.role is not Role.court:
        return None
    if body.case_number is None:
        return Problem(
            403,
            "Forbidden",
            "case_number: a court looks a party up for one of its cases",
            errors=[{"field": "case_number", "message": "a court looks a party up for one of its cases"}],
        )
    case = CaseNumber.parse(body.case_number)
    try:
        await access.check_case(session, principal, case)
    except Problem as refused:
        return refused
    # Unknown and not named answer alike, so a lookup cannot tell whether someone is in the book.
    if not await access.names_party(session, court_id=principal.sub, case=case, party_id=party_id):
        message = f"no notice or address confirmation of yours in {case.text} names this party"
        return Problem(403, "Forbidden", f"party: {message}", errors=[{"field": "party", "message": message}])
    return None


# --- The court registry -------------------------------------------------------------------------


async def list_courts(deps: Deps) -> list[IntakeCourt]:
    """Returns every registered court, by id."""
    async with deps.db.sessions() as session:
        return await courts.every(session)


async def read_court(deps: Deps, *, court_id: str) -> IntakeCourt:
    """Returns a registered court."""
    async with deps.db.sessions() as session:
        court = await courts.find(session, court_id)
    if court is None:
        raise Problem(404, "Not found", f"No court {court_id}.")
    return court


async def put_court(deps: Deps, *, court_id: str, body: CourtIn) -> tuple[IntakeCourt, bool]:
    """Registers a court or changes its name, case code or whether it is active; returns it and whether it is new."""
    async with deps.db.transaction() as session:
        return await courts.put(session, court_id, body, now=deps.clock.now())


async def seed_courts(deps: Deps, *, seed: dict[str, CourtIn]) -> int:
    """Registers the courts of the seed not registered yet; returns how many were added."""
    async with deps.db.transaction() as session:
        return await courts.seed(session, seed, now=deps.clock.now())


# --- The firm registry --------------------------------------------------------------------------


async def list_firms(deps: Deps, *, principal: Principal) -> list[IntakeFirm]:
    """Returns the registered firms the caller reads: overseers all, a lawyer its own, a court those covering it."""
    async with deps.db.sessions() as session:
        return [firm for firm in await firms.every(session) if firms.sees(principal, firm)]


async def read_firm(deps: Deps, *, principal: Principal, uscc: str) -> IntakeFirm:
    """Returns a registered firm the caller reads; one it may not read answers as a missing one."""
    async with deps.db.sessions() as session:
        firm = await firms.find(session, uscc)
    if firm is None or not firms.sees(principal, firm):
        raise firms.missing(uscc)
    return firm


async def put_firm(deps: Deps, *, principal: Principal, uscc: str, body: firms.FirmIn) -> tuple[IntakeFirm, bool]:
    """Registers a firm or replaces its entry, every court it covers a registered one, in the audit log; returns it and whether it is new."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        unknown = [index for index, court_id in enumerate(body.court_ids) if await courts.find(session, court_id) is None]
        if unknown:
            raise validation_problem([{"loc": ("body", "court_ids", i), "msg": f"{body.court_ids[i]} is not a registered court", "type": "value_error"} for i in unknown])
        firm, created = await firms.put(session, uscc, body, by=principal.sub, now=now)
        audit.record(session, principal, action="firm.put", target=uscc, now=now, outcome="added" if created else "changed")
    return firm, created


# --- Learning from delivery ---------------------------------------------------------------------


async def learn_from_service(deps: Deps, *, message: MessageContext, event: RecipientServed) -> None:
    """Records under the party the address or channel through which service actually reached it."""
    recipient = await message.session.get(IntakeRecipient, event.recipient_id)
    if recipient is None or recipient.party_id is None or not event.target:
        return
    if domain.learns_address(event.method, deemed=event.deemed):
        await _learn_address(message, party_id=recipient.party_id, notice_id=recipient.notice_id, text=event.target, observed_on=event.service_date, origin="delivery")
    elif domain.learns_contact(event.method, deemed=event.deemed) and event.channel in _CONTACT_KIND:
        await book.mark_contact(
            message.session, party_id=recipient.party_id, kind=_CONTACT_KIND[event.channel], value=event.target, source="delivery", worked_on=event.service_date
        )


async def learn_reported_move(deps: Deps, *, message: MessageContext, event: AddressReported) -> None:
    """Records under the party the address an agent learned it moved to, so later notices find it (已搬离)."""
    recipient = await message.session.get(IntakeRecipient, event.recipient_id)
    party_id = event.party_id or (recipient.party_id if recipient else None)
    if party_id is None:
        return
    # Ranked as an address of civil activity (法发〔2017〕19号 Art. 8(4)): learned on the ground, not given by the party.
    await _learn_address(message, party_id=party_id, notice_id=event.notice_id, text=event.address, postcode=event.postcode, observed_on=event.observed_on, origin="agent_report")


async def _learn_address(message: MessageContext, *, party_id: str, notice_id: str, text: str, observed_on: date, origin: str, postcode: str | None = None) -> None:
    """Adds an address delivery learned to the party's book, in the case and stage of the notice it was learned for."""
    notice = await message.session.get(IntakeNotice, notice_id)
    row = book.entry_row(
        party_id=party_id,
        address=PostalAddress.parse(text),
        source=AddressSource.delivery,
        postcode=postcode,
        case=CaseNumber.parse(notice.case_number) if notice else None,
        stage=Stage(notice.stage) if notice else None,
        observed_on=observed_on,
        origin=origin,
        now=message.clock.now(),
    )
    await book.insert_new(message.session, book.ENTRY, [row])


# Which contact an electronic channel proves; the lawyer's firm mailbox is the firm's, not the party's.
_CONTACT_KIND = {"sms": "phone", "voice": "phone", "email": "email"}
