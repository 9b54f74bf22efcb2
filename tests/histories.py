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
    CandidateAddress,
    Channel,
    Disposition,
    Document,
    DocumentOpened,
    GeoPoint,
    IdType,
    NoticeCompleted,
    NoticeRegistered,
    PartyKind,
    PostalStatus,
    Provenance,
    ReceiptReturned,
    Recipient,
    RecipientServed,
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
            court_reference=f"HC-{notice_id[:8]}",
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
