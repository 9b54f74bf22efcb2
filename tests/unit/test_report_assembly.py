"""A report assembled from a scripted event history states the service date, basis and method delivery decided, for every method."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from services.evidence.reports import Logged, assemble
from shared.contracts.events import ServiceMethod
from shared.contracts.report import Checkpoint, Proof
from tests import histories

CHECKPOINT = Checkpoint(origin="songda.evidence/log", size=100, root="00" * 32, issued_at=datetime(2026, 11, 30, tzinfo=UTC), key_id="00" * 4, public_key="AA==", signature="AA==")
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def logged(history: histories.History) -> list[Logged]:
    """Returns the history as evidence logs it, with placeholder proofs (assembly copies them; verification is tested elsewhere)."""
    out = []
    for index, (source, event) in enumerate(history.events):
        envelope = event.envelope(source=f"songda/{source}", subject=history.notice_id, time=NOW, correlationid=history.notice_id, causationid=str(uuid.uuid4()))
        out.append(Logged(envelope=envelope.model_dump(mode="json"), sha256=f"{index:064x}", recorded_at=NOW, proof=Proof(leaf_index=index, entry="{}", path=[])))
    return out


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
