"""A report assembled from a scripted event history states the service date, basis and method delivery decided, for every method."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.evidence.domain.report import Logged, Uploaded, assemble, read
from services.evidence.models import EvidenceItem
from services.evidence.rendering import render_html
from services.evidence.reports import cited
from shared.contracts.events import (
    AttemptFailed,
    AttemptStarted,
    AttemptSucceeded,
    Channel,
    Consent,
    ConsentForm,
    Disposition,
    DocumentsAcknowledged,
    EDeliveryChannel,
    Exhausted,
    RecipientServed,
    RecipientUnserved,
    Review,
    ServiceMethod,
    Tier,
    Witness,
)
from shared.contracts.evidence import EvidenceKind
from shared.contracts.report import Checkpoint, Proof
from tests import histories
from tests.support import example_document

CHECKPOINT = Checkpoint(origin="songda.evidence/log", size=100, root="00" * 32, issued_at=datetime(2026, 11, 30, tzinfo=UTC), key_id="00" * 4, public_key="AA==", signature="AA==")
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def logged(history: histories.History) -> list[Logged]:
    """Returns the history as evidence logs and reads it back, with placeholder proofs (assembly copies them; verification is tested elsewhere)."""
    envelopes = [
        event.envelope(source=f"songda/{source}", subject=history.notice_id, time=NOW, correlationid=history.notice_id, causationid=str(uuid.uuid4()))
        for source, event in history.events
    ]
    return read_back([envelope.model_dump(mode="json") for envelope in envelopes])


def read_back(envelopes: list[dict[str, Any]]) -> list[Logged]:
    """Decodes logged envelopes as the service does, dropping the ones it does not know."""
    out = [read(envelope, sha256=f"{index:064x}", recorded_at=NOW, proof=Proof(leaf_index=index, entry="{}", path=[])) for index, envelope in enumerate(envelopes)]
    return [e for e in out if e is not None]


# method, history, service date, basis, deemed, signer, attempts (results in order)
CASES = [
    ("electronic", histories.electronic, ServiceMethod.electronic, date(2026, 11, 23), "民事诉讼法第90条；民诉法解释第135条", False, None, ["failed", "succeeded"]),
    ("direct", histories.direct, ServiceMethod.direct, date(2026, 11, 24), "民事诉讼法第87条、第88条", False, ("李四", "family_member", "配偶"), ["succeeded"]),
    ("refusal", histories.refusal, ServiceMethod.refusal, date(2026, 11, 24), "民事诉讼法第89条", False, None, ["succeeded"]),
    ("postal", histories.postal, ServiceMethod.postal, date(2026, 11, 24), "民事诉讼法第91条", False, ("李四", "family_member", "配偶"), ["succeeded"]),
    ("postal deemed", lambda h: histories.postal(h, deemed=True), ServiceMethod.postal, date(2026, 11, 25), "法院专递规定第11条；法发〔2017〕19号", True, None, ["failed"]),
    ("posting", histories.posting, ServiceMethod.posting, date(2026, 12, 24), "民事诉讼法第95条；民诉法解释第138条", True, None, ["succeeded"]),
    (
        "public notice",
        histories.public_notice,
        ServiceMethod.public_notice,
        date(2027, 1, 1),
        "民事诉讼法第95条；民诉法解释第138条",
        True,
        None,
        ["failed", "failed", "failed", "succeeded"],
    ),
]


@pytest.mark.parametrize(("name", "script", "method", "on", "basis", "deemed", "signer", "results"), CASES, ids=[c[0] for c in CASES])
def test_the_report_states_the_service_of_each_method(name, script, method, on, basis, deemed, signer, results) -> None:
    history = script(histories.registered())
    report = assemble(events=logged(history), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    [recipient] = report.recipients
    assert (recipient.served, recipient.method, recipient.service_date, recipient.legal_basis, recipient.deemed) == (True, method, on, basis, deemed)
    assert (recipient.signer_name, recipient.signer_role, recipient.relation) == (signer or (None, None, None))
    assert [a.result for a in recipient.attempts] == results
    assert [a.sequence for a in recipient.attempts] == list(range(1, len(results) + 1))
    assert report.case_number == histories.CASE and report.document_count == 2 and report.completed_at is not None


def test_a_refusal_carries_its_witness_and_a_public_notice_its_exhausted_methods() -> None:
    refused = assemble(events=logged(histories.refusal(histories.registered())), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    assert refused.recipients[0].witness is not None and refused.recipients[0].witness.organisation == "新威路社区居委会"
    published = assemble(events=logged(histories.public_notice(histories.registered())), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    exhausted = published.recipients[0].exhausted
    assert [(e.channel.value, e.reason) for e in exhausted] == [("sms", "undelivered"), ("visit", "nobody at the address"), ("court_mail", "returned: addressee unknown")]


def test_targets_are_masked_and_receipts_are_evidence_of_their_attempt() -> None:
    report = assemble(events=logged(histories.electronic(histories.registered())), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    recipient = report.recipients[0]
    assert recipient.id_number is not None and "19850312" not in recipient.id_number
    sms = recipient.attempts[1]
    assert sms.target is not None and "13800138000" not in sms.target and sms.target.endswith("8000")
    assert [e.kind for e in sms.evidence] == ["sms_receipt"] and sms.operator == "系统（twilio）"
    assert [c.channel.value for c in recipient.channels] == ["voice", "sms"]


def test_postal_evidence_is_the_carriers_nodes_and_the_receipt() -> None:
    report = assemble(events=logged(histories.postal(histories.registered())), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    mail = report.recipients[0].attempts[0]
    assert mail.operator == "EMS"
    # The attempt's own outcome, then the 704 node and the return receipt as EMS reported them.
    assert [e.kind for e in mail.evidence] == ["event", "ems_trace", "ems_trace"]
    assert report.recipients[0].addresses[0].used is True


REVIEW = Review(by="sup-1", at=datetime(2026, 11, 24, 3, 0, tzinfo=UTC), reason="电话回访确认已留置", flags={"item-photo": ["far_from_address"]})


def reviewed(history: histories.History) -> histories.History:
    """The service rests on evidence a supervisor accepted despite a blocking flag."""
    history.events = [(s, e.model_copy(update={"review": REVIEW}) if isinstance(e, RecipientServed) else e) for s, e in history.events]
    return history


def test_a_review_of_the_evidence_is_carried_and_a_report_without_one_keeps_its_json() -> None:
    report = assemble(events=logged(reviewed(histories.refusal(histories.registered()))), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    assert report.recipients[0].review == REVIEW
    assert report.model_dump(mode="json")["recipients"][0]["review"]["reason"] == "电话回访确认已留置"
    plain = assemble(events=logged(histories.refusal(histories.registered())), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    assert plain.recipients[0].review is None and "review" not in plain.model_dump(mode="json")["recipients"][0]


def test_a_served_event_logged_before_reviews_existed_still_decodes() -> None:
    history = histories.refusal(histories.registered())
    envelopes = [e.model_dump(mode="json") for e in (event.envelope(source="songda/x", subject=history.notice_id, time=NOW, correlationid="c") for _, event in history.events)]
    for envelope in envelopes:
        if envelope["type"] == "delivery.RecipientServed":
            del envelope["data"]["review"]
    report = assemble(events=read_back(envelopes), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    assert report.recipients[0].served and report.recipients[0].review is None


def test_old_versions_are_upcast_and_unknown_events_left_out() -> None:
    history = histories.electronic(histories.registered())
    current = [e.model_dump(mode="json") for e in (event.envelope(source="songda/x", subject=history.notice_id, time=NOW, correlationid="c") for _, event in history.events)]
    # Version 1 of NoticeRegistered, as intake published it before recipients could come without an ID number.
    old = [{**current[0], "dataversion": 1, "dataschema": "urn:songda:event:intake.NoticeRegistered:v1"}, *current[1:]]
    unknown = {**current[1], "id": str(uuid.uuid4()), "type": "delivery.SomethingNew", "data": {"attempt_id": current[1]["data"]["attempt_id"]}}
    newer = {**current[1], "id": str(uuid.uuid4()), "dataversion": 9}
    report = assemble(events=read_back(old), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    assert assemble(events=read_back([*old, unknown, newer]), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW) == report
    assert report == assemble(events=read_back(current), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    assert [a.result for a in report.recipients[0].attempts] == ["failed", "succeeded"]


# The report's JSON is a public contract courts verify by hash: each history's report is kept as a snapshot.
def test_the_report_lists_each_document_with_its_sha256_and_each_opening_as_evidence() -> None:
    report = assemble(events=logged(histories.electronic(histories.registered())), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    complaint, summons = (example_document(kind) for kind in ("complaint_copy", "summons"))
    assert [(d.title, d.kind, d.pages, d.sha256) for d in report.documents] == [(d["title"], d["kind"], 1, d["sha256"]) for d in (complaint, summons)]
    [recipient] = report.recipients
    assert [(o.title, o.sha256, o.disposition, o.ip) for o in recipient.openings] == [
        ("起诉状副本", complaint["sha256"], Disposition.view, "203.0.113.7"),
        ("起诉状副本", complaint["sha256"], Disposition.download, "203.0.113.7"),
    ]
    assert all(o.receipt.kind == EvidenceKind.edelivery_receipt and o.attempt_id == recipient.deciding_attempt_id for o in recipient.openings)
    # A recipient who opened nothing has no `openings` in the JSON: such a report hashes as it did before openings were recorded.
    assert (
        "openings"
        not in assemble(events=logged(histories.postal(histories.registered())), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW).model_dump(mode="json")[
            "recipients"
        ][0]
    )

    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", render_html(report)))
    assert f"1 起诉状副本 起诉状副本 1 PDF {complaint['sha256']}" in text and f"2 传票 传票 1 PDF {summons['sha256']}" in text
    assert "张三 查阅送达文书记录 共 2 次" in text
    assert "2026年11月23日 10:20 起诉状副本 在线查看 203.0.113.7 Mozilla/5.0 (iPhone;" in text
    assert "2026年11月23日 10:22 起诉状副本 下载 203.0.113.7" in text


SNAPSHOTS = Path(__file__).parent / "snapshots" / "reports"
WRITE_ENV = "SONGDA_WRITE_SNAPSHOTS"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NOTICE = "9b2f6c1e-4d3a-4f0e-8c7b-2a1d5e6f7a80"


def mixed(history: histories.History) -> histories.History:
    """Consented e-mail through the firm and a call that failed, an acknowledged page, an open attempt, then every method exhausted."""
    registered = history.events[0][1]
    recipient = registered.recipients[0]  # type: ignore[attr-defined]
    consent = Consent(channel=EDeliveryChannel.sms, address="+8613800138000", source_case="（2025）鲁1002民初0321号", confirmed_on=date(2025, 12, 3))
    history.events[0] = ("intake", registered.model_copy(update={"recipients": [recipient.model_copy(update={"consent": [consent]})]}))
    common = {"notice_id": history.notice_id, "recipient_id": history.recipient_id}
    call = {**common, "attempt_id": "call-1", "tier": Tier.electronic, "channel": Channel.voice, "target": "+8613800138000"}
    page = {**common, "attempt_id": "sms-1", "tier": Tier.electronic, "channel": Channel.sms, "target": "+8613800138000"}
    firm = {**common, "attempt_id": "firm-1", "tier": Tier.electronic, "channel": Channel.lawyer_firm, "target": "office@example.com"}
    at = histories.START
    history.add(
        "delivery",
        AttemptStarted(**call, started_at=at),
        AttemptFailed(**call, at=at + timedelta(minutes=1), reason="no answer at 13800138000", record=histories.sms_record(at, "no-answer")),
        AttemptStarted(**page, started_at=at),
        AttemptSucceeded(**page, at=at + timedelta(minutes=2), detail=""),
        DocumentsAcknowledged(**common, attempt_id="sms-1", at=at + timedelta(minutes=3), ip="203.0.113.9"),
        AttemptStarted(**firm, started_at=at + timedelta(minutes=4)),
        RecipientUnserved(
            **common,
            exhausted=[Exhausted(tier=Tier.electronic, channel=Channel.voice, target="138****8000", reason="no answer", at=at + timedelta(minutes=1))],
            recommendation="public notice",
            at=at + timedelta(minutes=5),
        ),
    )
    return history


def with_photo(history: histories.History) -> tuple[histories.History, list[Uploaded]]:
    """A direct service whose photo (and a call record about no attempt) was uploaded, the photo named by the service."""
    attempt = next(e.attempt_id for _, e in history.events if isinstance(e, AttemptStarted))
    photo = EvidenceItem(
        id="item-photo",
        notice_id=history.notice_id,
        attempt_id=attempt,
        kind="photo",
        sha256="ab" * 32,
        size=2048,
        content_type="image/jpeg",
        details={},
        flags=["time_mismatch"],
        uploaded_by="agent-7",
        leaf_index=40,
        recorded_at=NOW,
    )
    loose = photo.model_copy(update={"id": "item-call", "attempt_id": None, "kind": "call_record", "content_type": "application/json", "flags": [], "leaf_index": 41})
    history.events = [(s, e.model_copy(update={"evidence_ids": ["item-photo"]}) if isinstance(e, RecipientServed) else e) for s, e in history.events]
    return history, [cited(item, Proof(leaf_index=item.leaf_index, entry="{}", path=["cd" * 32])) for item in (photo, loose)]


SNAPSHOT_CASES = {
    **{name: (script, False) for name, script, *_ in CASES},
    "mixed": (mixed, False),
    "direct with photo": (histories.direct, True),
}


def normalised(document: dict[str, Any]) -> str:
    """Returns the document as indented JSON with its random ids (attempts, envelopes) named in order of appearance."""
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
    names: dict[str, str] = {}
    return UUID.sub(lambda m: names.setdefault(m.group(0), f"uuid-{len(names) + 1}"), text) + "\n"


@pytest.mark.parametrize("name", list(SNAPSHOT_CASES))
def test_the_reports_json_is_unchanged(name: str) -> None:
    script, photographed = SNAPSHOT_CASES[name]
    history = script(histories.registered(NOTICE))
    items: list[Uploaded] = []
    if photographed:
        history, items = with_photo(history)
    report = assemble(events=logged(history), items=items, checkpoint=CHECKPOINT, version=2, previous_sha256="ef" * 32, now=NOW)
    text = normalised(report.model_dump(mode="json"))
    path = SNAPSHOTS / f"{name.replace(' ', '_')}.json"
    if os.environ.get(WRITE_ENV):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with {WRITE_ENV}=1 to write it"
    assert text == path.read_text(encoding="utf-8")


def test_an_acknowledgement_carries_time_ip_browser_and_the_lawyer_and_the_consent_its_form_and_source() -> None:
    report = assemble(events=logged(histories.through_the_firm(histories.registered())), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW)
    [recipient] = report.recipients
    [ack] = recipient.acknowledgements
    assert (ack.attempt_id, ack.at, ack.ip, ack.user_agent, ack.by) == (
        "firm-1",
        histories.START + timedelta(minutes=7),
        "198.51.100.4",
        "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
        "zhao.lawyer",
    )
    assert ack.receipt.kind == EvidenceKind.edelivery_receipt
    assert recipient.lawyer is not None and (recipient.lawyer.name, recipient.lawyer.firm) == ("赵律师", "山东某某律师事务所")
    assert recipient.consent is not None
    assert (recipient.consent.form, recipient.consent.source, recipient.consent.address_confirmed) == (ConsentForm.pre_agreed, histories.FIRM_CONSENT.source, True)
    assert "office@lawfirm.example" not in recipient.consent.address
    [firm_channel, sms_channel] = recipient.channels
    assert (firm_channel.form, firm_channel.source, firm_channel.basis) == (ConsentForm.pre_agreed, histories.FIRM_CONSENT.source, histories.FIRM_CONSENT.source)
    assert sms_channel.basis is None and "form" not in sms_channel.model_dump(mode="json")
    firm, sms = recipient.attempts
    assert (firm.result, firm.remarks, firm.superseded_by) == ("succeeded", ["reported_before_window"], None)
    assert (sms.result, sms.detail, sms.superseded_by, [e.kind for e in sms.evidence]) == ("superseded", None, "firm-1", ["event"])
    assert report.due_date == date(2026, 11, 26)


def test_a_deemed_or_presumed_service_carries_its_reason_and_a_refusal_its_witness_date_and_reason() -> None:
    witness = Witness(name="王五", organisation="新威路社区居委会", witnessed_on=date(2026, 11, 24), refusal_reason="称与原告无借款关系")
    history = histories.refusal(histories.registered())
    update = {"witness": witness, "deemed": True, "deemed_reason": "受送达人拒绝签收，见证人在场，文书留置于住所"}
    history.events = [(s, e.model_copy(update=update) if isinstance(e, RecipientServed) else e) for s, e in history.events]
    recipient = assemble(events=logged(history), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW).recipients[0]
    assert (recipient.deemed, recipient.deemed_reason, recipient.presumed) == (True, update["deemed_reason"], False)
    assert recipient.witness is not None and (recipient.witness.witnessed_on, recipient.witness.refusal_reason) == (date(2026, 11, 24), "称与原告无借款关系")

    presumed = histories.electronic(histories.registered())
    presumed.events = [(s, e.model_copy(update={"presumed": True, "deemed_reason": "系统显示受送达人已阅读"}) if isinstance(e, RecipientServed) else e) for s, e in presumed.events]
    recipient = assemble(events=logged(presumed), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW).recipients[0]
    assert (recipient.presumed, recipient.deemed_reason) == (True, "系统显示受送达人已阅读")


def test_a_report_from_events_without_the_new_fields_leaves_their_keys_out() -> None:
    for script in (histories.electronic, histories.refusal, histories.postal):
        document = assemble(events=logged(script(histories.registered())), items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=NOW).model_dump(mode="json")
        recipient = document["recipients"][0]
        assert {"acknowledgements", "deemed_reason", "presumed", "consent", "lawyer"}.isdisjoint(recipient)
        assert all({"remarks", "superseded_by"}.isdisjoint(attempt) for attempt in recipient["attempts"])
        assert all({"form", "source", "address_confirmed"}.isdisjoint(channel) for channel in recipient["channels"])
        assert recipient.get("witness") is None or set(recipient["witness"]) == {"name", "organisation"}
