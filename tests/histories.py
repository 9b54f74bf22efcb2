"""Scripted event histories of one notice, as intake, delivery and the carrier gateway would publish them, one per way of serving."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from shared.contracts.events import (
    AddressSource,
    AttemptFailed,
    AttemptStarted,
    AttemptSucceeded,
    AttemptSuperseded,
    CandidateAddress,
    Channel,
    Consent,
    ConsentForm,
    Disposition,
    Document,
    DocumentOpened,
    DocumentsAcknowledged,
    EDeliveryChannel,
    GeoPoint,
    IdType,
    Lawyer,
    NoticeCompleted,
    NoticeOverdue,
    NoticeRegistered,
    PartyKind,
    PostalStatus,
    Provenance,
    ReceiptReturned,
    Recipient,
    RecipientServed,
    RecipientUnserved,
    ServedRecipient,
    ServiceMethod,
    SignerRole,
    Stage,
    TaskAssigned,
    Tier,
    TrackingUpdated,
    Transmission,
    Witness,
)
from shared.contracts.registry import Event
from shared.contracts.values import Phone
from shared.plumbing.clock import SHANGHAI
from tests.support import example_document

COURT = "C371002"
CASE = "（2026）鲁1002民初0999号"
ADDRESS = "山东省威海市环翠区新威路17号"
# The address's place on the map: photos from its tasks are checked against it.
HOME = GeoPoint(lat=37.5131, lon=122.1204)
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


@dataclass
class History:
    """One notice's events in publishing order, each with the topic's service."""

    notice_id: str
    recipient_id: str
    events: list[tuple[str, Event]] = field(default_factory=list)

    def add(self, source: str, *events: Event) -> None:
        """Appends events a service published."""
        self.events.extend((source, event) for event in events)


def registered(notice_id: str | None = None, *, name: str = "张三") -> History:
    """Starts a history: intake registered a notice for one person with a phone and a confirmed address."""
    notice_id = notice_id or str(uuid.uuid4())
    recipient_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{notice_id}/0"))
    history = History(notice_id=notice_id, recipient_id=recipient_id)
    recipient = Recipient(
        recipient_id=recipient_id,
        name=name,
        kind=PartyKind.person,
        role="defendant",
        id_type=IdType.resident_id,
        id_number="371002198503124210",
        phones=[Phone(e164="+8613800138000", line_type="mobile")],
        emails=[],
        candidates=[
            CandidateAddress(
                text=ADDRESS,
                postcode="264200",
                location=HOME,
                rank=1,
                provenance=[Provenance(kind=AddressSource.confirmation, source_case="（2025）鲁1002民初0100号", confirmed_on=date(2025, 12, 1))],
            )
        ],
    )
    history.add(
        "intake",
        NoticeRegistered(
            notice_id=notice_id,
            court_id=COURT,
            court_name="威海市环翠区人民法院",
            court_reference=f"HC-2026-{notice_id[:8]}",
            case_number=CASE,
            cause="民间借贷纠纷",
            stage=Stage.first_instance,
            documents=[Document.model_validate(example_document("complaint_copy")), Document.model_validate(example_document("summons"))],
            recipients=[recipient],
            due_date=date(2026, 11, 26),
            registered_at=START,
        ),
    )
    return history


def _attempt(history: History, *, tier: Tier, channel: Channel, target: str, at: datetime, ok: bool, detail: str, record: Transmission | None = None) -> str:
    attempt_id = str(uuid.uuid4())
    common = {"notice_id": history.notice_id, "recipient_id": history.recipient_id, "attempt_id": attempt_id, "tier": tier, "channel": channel, "target": target}
    history.add("delivery", AttemptStarted(**common, started_at=at))
    done = at + timedelta(minutes=5)
    if ok:
        history.add("delivery", AttemptSucceeded(**common, at=done, detail=detail, record=record))
    else:
        history.add("delivery", AttemptFailed(**common, at=done, reason=detail, record=record))
    return attempt_id


def _served(history: History, *, method: ServiceMethod, on: date, basis: str, deemed: bool, at: datetime, attempt_id: str, **extra: object) -> None:
    history.add(
        "delivery",
        RecipientServed(
            notice_id=history.notice_id,
            recipient_id=history.recipient_id,
            method=method,
            channel=extra.pop("channel", "sms"),
            service_date=on,
            legal_basis=basis,
            deemed=deemed,
            served_at=at,
            attempt_id=attempt_id,
            **extra,
        ),
        NoticeCompleted(
            notice_id=history.notice_id,
            completed_at=at,
            recipients=[ServedRecipient(recipient_id=history.recipient_id, method=method, service_date=on, deemed=deemed)],
            overdue=False,
        ),
    )


def sms_record(at: datetime, status: str) -> Transmission:
    """Returns the Twilio record of an SMS."""
    return Transmission(
        provider="twilio",
        provider_ref=f"SM{uuid.uuid4().hex}",
        sender="+8610690000",
        receiver="+8613800138000",
        status=status,
        sent_at=at,
        arrived_at=at + timedelta(seconds=20) if status == "delivered" else None,
        documents=["起诉状副本", "传票"],
    )


def electronic(history: History) -> History:
    """A failed call, then an SMS that reached the phone: served electronically on the arrival date (CPL 90; Interp. 135)."""
    _attempt(history, tier=Tier.electronic, channel=Channel.voice, target="+8613800138000", at=START, ok=False, detail="no answer", record=sms_record(START, "no-answer"))
    at = START + timedelta(hours=1)
    attempt = _attempt(history, tier=Tier.electronic, channel=Channel.sms, target="+8613800138000", at=at, ok=True, detail="delivered", record=sms_record(at, "delivered"))
    _served(
        history, method=ServiceMethod.electronic, on=date(2026, 11, 23), basis="民事诉讼法第90条；民诉法解释第135条", deemed=False, at=at + timedelta(minutes=5), attempt_id=attempt
    )
    # The recipient follows the message's link, reads the 起诉状 in the browser, then saves it.
    browser = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
    complaint = example_document("complaint_copy")
    for minutes, disposition in ((20, Disposition.view), (22, Disposition.download)):
        opened = DocumentOpened(
            notice_id=history.notice_id,
            recipient_id=history.recipient_id,
            attempt_id=attempt,
            sha256=complaint["sha256"],
            title=complaint["title"],
            disposition=disposition,
            opened_at=at + timedelta(minutes=minutes),
            ip="203.0.113.7",
            user_agent=browser,
        )
        history.add("delivery", opened)
    return history


def _visit(history: History, *, ok: bool, detail: str, channel: Channel = Channel.visit) -> str:
    tier = Tier.posting if channel is Channel.posting else Tier.direct
    attempt = _attempt(history, tier=tier, channel=channel, target=ADDRESS, at=START + timedelta(days=1), ok=ok, detail=detail)
    history.add(
        "delivery",
        TaskAssigned(
            notice_id=history.notice_id,
            recipient_id=history.recipient_id,
            attempt_id=attempt,
            task_id=str(uuid.uuid5(uuid.NAMESPACE_URL, attempt)),
            kind=channel,
            agent_id="agent-7",
            address=ADDRESS,
            location=HOME,
            window_start=START + timedelta(days=1),
            window_end=START + timedelta(days=1, hours=9),
        ),
    )
    return attempt


def direct(history: History) -> History:
    """Signed in person by a co-resident family member (CPL 87, 88)."""
    attempt = _visit(history, ok=True, detail="signed by family member")
    _served(
        history,
        method=ServiceMethod.direct,
        channel="visit",
        on=date(2026, 11, 24),
        basis="民事诉讼法第87条、第88条",
        deemed=False,
        at=START + timedelta(days=1, hours=2),
        attempt_id=attempt,
        signer_name="李四",
        signer_role="family_member",
        relation="配偶",
    )
    return history


def refusal(history: History) -> History:
    """Refused at the door, documents left before a witness (CPL 89)."""
    attempt = _visit(history, ok=True, detail="refused; documents left")
    _served(
        history,
        method=ServiceMethod.refusal,
        channel="visit",
        on=date(2026, 11, 24),
        basis="民事诉讼法第89条",
        deemed=False,
        at=START + timedelta(days=1, hours=2),
        attempt_id=attempt,
        witness=Witness(name="王五", organisation="新威路社区居委会"),
    )
    return history


def postal(history: History, *, deemed: bool = False) -> History:
    """Court mail: signed for and the return receipt back (CPL 91), or refused and returned, deemed served on the return date (专递 Art. 11)."""
    attempt = _attempt(history, tier=Tier.postal, channel=Channel.court_mail, target=ADDRESS, at=START, ok=not deemed, detail="returned: refused" if deemed else "receipt returned")
    node = {"notice_id": history.notice_id, "attempt_id": attempt, "waybill_no": "1190000000024"}
    if deemed:
        history.add("carrier_gateway", TrackingUpdated(**node, status=PostalStatus.returned, op_time=START + timedelta(days=2), op_code="711", op_name="退回", op_desc="拒收退回"))
        _served(
            history,
            method=ServiceMethod.postal,
            channel="court_mail",
            on=date(2026, 11, 25),
            basis="法院专递规定第11条；法发〔2017〕19号",
            deemed=True,
            at=START + timedelta(days=2),
            attempt_id=attempt,
        )
    else:
        history.add(
            "carrier_gateway",
            TrackingUpdated(
                **node,
                status=PostalStatus.delivered,
                op_time=START + timedelta(days=1),
                op_code="704",
                op_name="妥投",
                op_desc="已签收，家人代签收",
                signer_role=SignerRole.family_member,
            ),
            ReceiptReturned(**node, signer_name="李四", signer_role=SignerRole.family_member, relation="配偶", signed_on=date(2026, 11, 24), returned_at=START + timedelta(days=3)),
        )
        _served(
            history,
            method=ServiceMethod.postal,
            channel="court_mail",
            on=date(2026, 11, 24),
            basis="民事诉讼法第91条",
            deemed=False,
            at=START + timedelta(days=3),
            attempt_id=attempt,
            signer_name="李四",
            signer_role="family_member",
            relation="配偶",
        )
    return history


def posting(history: History) -> History:
    """Posted at the residence and photographed: deemed served thirty days after posting (CPL 95; Interp. 138)."""
    attempt = _visit(history, ok=True, detail="posted at the door", channel=Channel.posting)
    _served(
        history,
        method=ServiceMethod.posting,
        channel="posting",
        on=date(2026, 12, 24),
        basis="民事诉讼法第95条；民诉法解释第138条",
        deemed=True,
        at=START + timedelta(days=1, hours=2),
        attempt_id=attempt,
    )
    return history


def public_notice(history: History) -> History:
    """Every method failed, then a public notice: deemed served thirty days after publication (CPL 95), the exhausted methods listed."""
    _attempt(history, tier=Tier.electronic, channel=Channel.sms, target="+8613800138000", at=START, ok=False, detail="undelivered", record=sms_record(START, "undelivered"))
    _visit(history, ok=False, detail="nobody at the address")
    _attempt(history, tier=Tier.postal, channel=Channel.court_mail, target=ADDRESS, at=START + timedelta(days=2), ok=False, detail="returned: addressee unknown")
    published = START + timedelta(days=8)
    attempt = _attempt(history, tier=Tier.public_notice, channel=Channel.publication, target="人民法院公告网", at=published, ok=True, detail="published")
    _served(
        history,
        method=ServiceMethod.public_notice,
        channel="publication",
        on=date(2027, 1, 1),
        basis="民事诉讼法第95条；民诉法解释第138条",
        deemed=True,
        at=published + timedelta(days=30),
        attempt_id=attempt,
    )
    return history


# Several notices for the KPIs: two courts, two agents, two weeks, every method, each attempt priced as policy.toml's [prices].

OTHER_COURT = "C371082"
COURT_NAMES = {COURT: "威海市环翠区人民法院", OTHER_COURT: "荣成市人民法院"}
AGENTS = ("agent-huancui-1", "agent-huancui-2")
PRICES = {
    Channel.sms: 5,
    Channel.voice: 15,
    Channel.email: 1,
    Channel.court_mail: 2000,
    Channel.visit: 6000,
    Channel.posting: 8000,
    Channel.publication: 30000,
}
TIER_OF = {
    Channel.sms: Tier.electronic,
    Channel.voice: Tier.electronic,
    Channel.email: Tier.electronic,
    Channel.visit: Tier.direct,
    Channel.court_mail: Tier.postal,
    Channel.posting: Tier.posting,
    Channel.publication: Tier.public_notice,
}


LAWYER = Lawyer(name="赵律师", firm="山东某某律师事务所", firm_uscc="31370000MD0123456X", email="office@lawfirm.example")
FIRM_CONSENT = Consent(
    channel=EDeliveryChannel.lawyer_firm,
    address="office@lawfirm.example",
    source_case="（2026）鲁1002民初0999号",
    confirmed_on=date(2026, 1, 5),
    form=ConsentForm.pre_agreed,
    source="山东某某律师事务所与本院签订的电子送达协议（2026-01）",
)


def through_the_firm(history: History) -> History:
    """The lawyer's firm is served under its standing agreement; a parallel SMS is superseded; the lawyer acknowledges from the firm's inbox."""
    registered = history.events[0][1]
    recipient = registered.recipients[0]  # type: ignore[attr-defined]
    history.events[0] = ("intake", registered.model_copy(update={"recipients": [recipient.model_copy(update={"lawyer": LAWYER, "consent": [FIRM_CONSENT]})]}))
    common = {"notice_id": history.notice_id, "recipient_id": history.recipient_id}
    firm = {**common, "attempt_id": "firm-1", "tier": Tier.electronic, "channel": Channel.lawyer_firm, "target": "office@lawfirm.example"}
    sms = {**common, "attempt_id": "sms-1", "tier": Tier.electronic, "channel": Channel.sms, "target": "+8613800138000"}
    at = START
    history.add(
        "delivery",
        AttemptStarted(**firm, started_at=at),
        AttemptStarted(**sms, started_at=at),
        DocumentsAcknowledged(
            **common, attempt_id="firm-1", at=at + timedelta(minutes=7), ip="198.51.100.4", user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", by="zhao.lawyer"
        ),
        AttemptSucceeded(**firm, at=at + timedelta(minutes=7), detail="acknowledged on the e-delivery page", remarks=["reported_before_window"]),
        AttemptSuperseded(**sms, at=at + timedelta(minutes=7), by_attempt_id="firm-1"),
        RecipientServed(
            **common,
            method=ServiceMethod.electronic,
            channel="lawyer_firm",
            service_date=date(2026, 11, 23),
            legal_basis="民事诉讼法第90条；民诉法解释第135条",
            deemed=False,
            served_at=at + timedelta(minutes=7),
            attempt_id="firm-1",
            consent=FIRM_CONSENT,
        ),
        NoticeCompleted(
            notice_id=history.notice_id,
            completed_at=at + timedelta(minutes=7),
            recipients=[ServedRecipient(recipient_id=history.recipient_id, method=ServiceMethod.electronic, service_date=date(2026, 11, 23), deemed=False)],
            overdue=False,
        ),
    )
    return history


def beijing(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    """An instant given on Beijing's clock."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class Notice:
    """A notice of several recipients being written as events; `history.events` is what the services published."""

    history: History
    recipients: list[str]

    def attempt(self, index: int, channel: Channel, *, at: datetime, ok: bool | None, agent: str | None = None) -> str:
        """An attempt on recipient `index` started at `at`, succeeded (True), failed (False) or still open (None) an hour later."""
        recipient_id = self.recipients[index]
        attempt_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.history.notice_id}/{recipient_id}/{len(self.history.events)}"))
        common = {"notice_id": self.history.notice_id, "recipient_id": recipient_id, "attempt_id": attempt_id, "tier": TIER_OF[channel], "channel": channel, "target": ADDRESS}
        self.history.add("delivery", AttemptStarted(**common, started_at=at, cost_fen=PRICES[channel]))
        if agent is not None:
            task = {"task_id": str(uuid.uuid5(uuid.NAMESPACE_URL, attempt_id)), "kind": channel, "address": ADDRESS}
            window = {"window_start": at, "window_end": at + timedelta(hours=8)}
            self.history.add("delivery", TaskAssigned(notice_id=self.history.notice_id, recipient_id=recipient_id, attempt_id=attempt_id, agent_id=agent, **task, **window))
        if ok is True:
            self.history.add("delivery", AttemptSucceeded(**common, at=at + timedelta(hours=1), detail="ok"))
        elif ok is False:
            self.history.add("delivery", AttemptFailed(**common, at=at + timedelta(hours=1), reason="not reached"))
        return attempt_id

    def serve(self, index: int, method: ServiceMethod, *, attempt_id: str, at: datetime, on: date | None = None, deemed: bool = False) -> None:
        """Recipient `index` counts as served at `at`, on the service date `on` (the day of `at` in Beijing by default)."""
        service_date = on or at.astimezone(SHANGHAI).date()
        self.history.add(
            "delivery",
            RecipientServed(
                notice_id=self.history.notice_id,
                recipient_id=self.recipients[index],
                method=method,
                channel=method.value,
                service_date=service_date,
                legal_basis="民事诉讼法",
                deemed=deemed,
                served_at=at,
                attempt_id=attempt_id,
            ),
        )

    def unserved(self, index: int, *, at: datetime) -> None:
        """Every method short of a public notice failed for recipient `index`."""
        self.history.add("delivery", RecipientUnserved(notice_id=self.history.notice_id, recipient_id=self.recipients[index], exhausted=[], recommendation="public_notice", at=at))

    def overdue(self, due: date) -> None:
        """Delivery's sweeper found the notice overdue at midnight after its due date."""
        at = datetime.combine(due + timedelta(days=1), datetime.min.time(), SHANGHAI)
        self.history.add("delivery", NoticeOverdue(notice_id=self.history.notice_id, due_date=due, pending=[], at=at))

    def completed(self, *, at: datetime, overdue: bool) -> None:
        """Every recipient is served: the notice completes, overdue or not as delivery found it."""
        served = [e for _, e in self.history.events if isinstance(e, RecipientServed)]
        recipients = [ServedRecipient(recipient_id=e.recipient_id, method=e.method, service_date=e.service_date, deemed=e.deemed) for e in served]
        self.history.add("delivery", NoticeCompleted(notice_id=self.history.notice_id, completed_at=at, recipients=recipients, overdue=overdue))


def notice(number: int, *, court: str, received: datetime, due: date, recipients: int = 1) -> Notice:
    """Starts a notice of `recipients` people, received by `court` at `received`."""
    notice_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"kpi-notice-{number}"))
    people = [
        Recipient(
            recipient_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{notice_id}/{index}")),
            name=f"受送达人{number}{'甲乙'[index]}",
            kind=PartyKind.person,
            role="defendant",
            id_type=None,
            id_number=None,
            phones=[],
            emails=[],
            candidates=[CandidateAddress(text=ADDRESS, rank=1, provenance=[Provenance(kind=AddressSource.filing)])],
        )
        for index in range(recipients)
    ]
    history = History(notice_id=notice_id, recipient_id=people[0].recipient_id)
    history.add(
        "intake",
        NoticeRegistered(
            notice_id=notice_id,
            court_id=court,
            court_name=COURT_NAMES[court],
            court_reference=f"KPI-{number}",
            case_number=CASE,
            cause="民间借贷纠纷",
            stage=Stage.first_instance,
            documents=[Document(title="传票", kind="summons", pages=1)],
            recipients=people,
            due_date=due,
            registered_at=received,
        ),
    )
    return Notice(history=history, recipients=[p.recipient_id for p in people])


def kpi_notices() -> list[History]:
    """Seven notices, nine recipients; docs/kpis.md's figures for them are worked out in tests/unit/test_kpis.py."""
    one, two = AGENTS
    # Week 48. N1 (环翠): an SMS arrives; a call fails and a visit finds the other recipient.
    n1 = notice(1, court=COURT, received=beijing(11, 23, 9), due=date(2026, 11, 26), recipients=2)
    n1.serve(0, ServiceMethod.electronic, attempt_id=n1.attempt(0, Channel.sms, at=beijing(11, 23, 9, 5), ok=True), at=beijing(11, 23, 10, 5))
    n1.attempt(1, Channel.voice, at=beijing(11, 23, 9, 5), ok=False)
    n1.serve(1, ServiceMethod.direct, attempt_id=n1.attempt(1, Channel.visit, at=beijing(11, 24, 9), ok=True, agent=one), at=beijing(11, 24, 11))
    n1.completed(at=beijing(11, 24, 11), overdue=False)
    # N2 (环翠): the SMS fails, the recipient refuses at the door.
    n2 = notice(2, court=COURT, received=beijing(11, 24, 14), due=date(2026, 11, 27))
    n2.attempt(0, Channel.sms, at=beijing(11, 24, 14, 5), ok=False)
    n2.serve(0, ServiceMethod.refusal, attempt_id=n2.attempt(0, Channel.visit, at=beijing(11, 25, 9), ok=True, agent=two), at=beijing(11, 25, 10))
    n2.completed(at=beijing(11, 25, 10), overdue=False)
    # N3 (荣成): court mail, the return receipt signed on the 24th comes back on the 26th.
    n3 = notice(3, court=OTHER_COURT, received=beijing(11, 23, 9), due=date(2026, 11, 26))
    mail = n3.attempt(0, Channel.court_mail, at=beijing(11, 23, 9, 30), ok=True)
    n3.serve(0, ServiceMethod.postal, attempt_id=mail, at=beijing(11, 26, 9), on=date(2026, 11, 24))
    n3.completed(at=beijing(11, 26, 9), overdue=False)
    # Week 49. N4 (环翠): SMS and visit fail, a posting stands thirty days later; overdue.
    n4 = notice(4, court=COURT, received=beijing(11, 30, 9), due=date(2026, 12, 3))
    n4.attempt(0, Channel.sms, at=beijing(11, 30, 9, 5), ok=False)
    n4.attempt(0, Channel.visit, at=beijing(12, 1, 9), ok=False, agent=one)
    posting = n4.attempt(0, Channel.posting, at=beijing(12, 2, 9), ok=True, agent=two)
    n4.overdue(date(2026, 12, 3))
    n4.serve(0, ServiceMethod.posting, attempt_id=posting, at=beijing(1, 1, 9, year=2027), deemed=True)
    n4.completed(at=beijing(1, 1, 9, year=2027), overdue=True)
    # N5 (荣成): mail refused and returned, deemed served on the return date; the other recipient is found nowhere and awaits publication.
    n5 = notice(5, court=OTHER_COURT, received=beijing(12, 1, 10), due=date(2026, 12, 4), recipients=2)
    refused = n5.attempt(0, Channel.court_mail, at=beijing(12, 1, 10, 30), ok=False)
    n5.serve(0, ServiceMethod.postal, attempt_id=refused, at=beijing(12, 4, 10), deemed=True)
    n5.attempt(1, Channel.sms, at=beijing(12, 1, 10, 5), ok=False)
    n5.attempt(1, Channel.email, at=beijing(12, 1, 11), ok=False)
    n5.attempt(1, Channel.visit, at=beijing(12, 2, 9), ok=False, agent=one)
    n5.attempt(1, Channel.court_mail, at=beijing(12, 3, 9), ok=False)
    n5.overdue(date(2026, 12, 4))
    n5.unserved(1, at=beijing(12, 8, 9))
    # N6 (环翠): whereabouts unknown, published on 1 December, deemed served thirty days later.
    n6 = notice(6, court=COURT, received=beijing(11, 30, 9), due=date(2026, 12, 3))
    n6.attempt(0, Channel.sms, at=beijing(11, 30, 9, 5), ok=False)
    n6.unserved(0, at=beijing(11, 30, 12))
    published = n6.attempt(0, Channel.publication, at=beijing(12, 1, 9), ok=True)
    n6.overdue(date(2026, 12, 3))
    n6.serve(0, ServiceMethod.public_notice, attempt_id=published, at=beijing(12, 31, 9), deemed=True)
    n6.completed(at=beijing(12, 31, 9), overdue=True)
    # N7 (荣成): a visit still open.
    n7 = notice(7, court=OTHER_COURT, received=beijing(12, 4, 9), due=date(2026, 12, 9))
    n7.attempt(0, Channel.visit, at=beijing(12, 7, 9), ok=None, agent=two)
    n7.overdue(date(2026, 12, 9))
    return [n.history for n in (n1, n2, n3, n4, n5, n6, n7)]
