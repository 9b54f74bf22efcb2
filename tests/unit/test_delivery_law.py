"""Delivery's legal tables, one row per case: returned court mail, what a task report must carry, which outcomes a task may have."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.delivery.domain import law
from services.delivery.domain.inputs import TaskOutcome, TaskReported
from services.delivery.domain.state import Place
from shared.contracts.events import Channel, ReturnReason, ServiceMethod, Signature, SignerRole, Witness

AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reason", "refused_before", "confirmed_address", "deemed"),
    [
        # 专递规定 Art. 11: a refusal is service wherever the item went.
        (ReturnReason.refused, False, False, True),
        (ReturnReason.refused, False, True, True),
        # 法发〔2017〕19号: not received at the address the party itself confirmed.
        (ReturnReason.unclaimed, False, True, True),
        (ReturnReason.address_wrong, False, True, True),
        (ReturnReason.moved, False, True, True),
        (ReturnReason.unclaimed, False, False, False),
        (ReturnReason.address_wrong, False, False, False),
        (ReturnReason.moved, False, False, False),
        # Whereabouts unknown or any other reason: never, unless the recipient refused the item before it came back.
        (ReturnReason.whereabouts_unknown, False, True, False),
        (ReturnReason.other, False, True, False),
        (ReturnReason.other, True, False, True),
        (ReturnReason.whereabouts_unknown, True, False, True),
    ],
)
def test_when_a_returned_item_counts_as_served(reason: ReturnReason, refused_before: bool, confirmed_address: bool, deemed: bool) -> None:
    assert law.deemed_on_return(reason, refused_before=refused_before, confirmed_address=confirmed_address) is deemed


def test_only_a_public_notice_follows_whereabouts_unknown() -> None:
    assert law.ONLY_PUBLIC_NOTICE_AFTER == {ReturnReason.whereabouts_unknown}


def report(outcome: TaskOutcome, **fields: object) -> TaskReported:
    return TaskReported(attempt_id="a-1", at=AT, outcome=outcome, agent_id="agent-1", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reported", "missing"),
    [
        (report(TaskOutcome.served), "signer"),
        (report(TaskOutcome.served, evidence={"sig-1": None}), "signer"),
        (report(TaskOutcome.served, signer=Signature(name="张三", role=SignerRole.recipient)), "evidence_ids"),
        (report(TaskOutcome.served, signer=Signature(name="张三", role=SignerRole.recipient), evidence={"sig-1": None}), None),
        (report(TaskOutcome.refused), "witness"),
        # CPL 89: a witnessed refusal records the reason the recipient gave (拒收事由); a photographed one shows it.
        (report(TaskOutcome.refused, witness=Witness(name="王五", organisation="居委会")), "witness.refusal_reason"),
        (report(TaskOutcome.refused, witness=Witness(name="王五", organisation="居委会", refusal_reason="  ")), "witness.refusal_reason"),
        (report(TaskOutcome.refused, witness=Witness(name="王五", organisation="居委会", refusal_reason="称不认识原告")), None),
        (report(TaskOutcome.refused, evidence={"ev-1": None}), None),
        (report(TaskOutcome.posted), "evidence_ids"),
        (report(TaskOutcome.posted, evidence={"ph-1": []}), None),
        (report(TaskOutcome.moved), "new_address"),
        (report(TaskOutcome.moved, new_place=Place(text="山东省威海市环翠区文化中路88号")), None),
        (report(TaskOutcome.not_found), None),
    ],
)
def test_what_a_task_report_must_carry(reported: TaskReported, missing: str | None) -> None:
    requirement = law.unmet(reported)
    assert (requirement.field if requirement else None) == missing
    if requirement is not None:
        assert "(CPL" in requirement.rule or "(Interp." in requirement.rule or requirement.field == "new_address"


@pytest.mark.parametrize(
    ("outcome", "kinds", "lacks"),
    [
        # CPL 87, 88: a service rests on the signature, drawn on screen or on the photographed 送达回证.
        (TaskOutcome.served, {"sig-1": "signature"}, False),
        (TaskOutcome.served, {"rc-1": "signed_receipt"}, False),
        (TaskOutcome.served, {"ph-1": "photo", "sig-1": "signature"}, False),
        (TaskOutcome.served, {"ph-1": "photo"}, True),
        (TaskOutcome.served, {"ph-1": "photo", "vd-1": "video"}, True),
        # An item evidence has not recorded yet has no kind here: it is not refused for it.
        (TaskOutcome.served, {"ph-1": "photo", "new-1": None}, False),
        (TaskOutcome.refused, {"ph-1": "photo"}, False),
        (TaskOutcome.posted, {"ph-1": "photo"}, False),
    ],
)
def test_a_service_names_the_signature(outcome: TaskOutcome, kinds: dict[str, str | None], lacks: bool) -> None:
    assert law.lacks_signature(outcome, kinds) is lacks


@pytest.mark.parametrize(
    ("kind", "outcomes"),
    [
        (Channel.visit, {TaskOutcome.served, TaskOutcome.refused, TaskOutcome.not_found, TaskOutcome.moved}),
        (Channel.posting, {TaskOutcome.posted, TaskOutcome.not_found}),
    ],
)
def test_which_outcomes_a_task_may_have(kind: Channel, outcomes: set[TaskOutcome]) -> None:
    assert law.TASK_OUTCOMES[kind] == outcomes


@pytest.mark.parametrize(
    ("method", "returned", "says"),
    [
        # CPL 89: documents left on a refusal, before a witness or photographed.
        (ServiceMethod.refusal, None, "即视为送达（民事诉讼法第89条）"),
        (ServiceMethod.refusal, ReturnReason.refused, "即视为送达（民事诉讼法第89条）"),
        # 专递规定 Art. 11; 法发〔2017〕19号: a returned item, by the return's reason.
        (ServiceMethod.postal, ReturnReason.refused, "拒绝签收法院专递"),
        (ServiceMethod.postal, ReturnReason.unclaimed, "未领取"),
        (ServiceMethod.postal, ReturnReason.address_wrong, "地址不准确"),
        (ServiceMethod.postal, ReturnReason.moved, "变更未及时告知"),
        # CPL 95: thirty days after the notice is issued.
        (ServiceMethod.posting, None, "自发出公告之日起经过三十日，即视为送达"),
        (ServiceMethod.public_notice, None, "自发出公告之日起经过三十日，即视为送达（民事诉讼法第95条）"),
    ],
)
def test_why_a_service_is_deemed(method: ServiceMethod, returned: ReturnReason | None, says: str) -> None:
    reason = law.deemed_reason(method, returned=returned)
    assert says in reason
    if method is ServiceMethod.postal:
        assert reason.endswith("（法院专递规定第11条；法发〔2017〕19号）")


@pytest.mark.parametrize(
    ("method", "returned"), [(ServiceMethod.direct, None), (ServiceMethod.electronic, None), (ServiceMethod.postal, ReturnReason.other), (ServiceMethod.postal, None)]
)
def test_no_deemed_reason_where_the_law_deems_nothing(method: ServiceMethod, returned: ReturnReason | None) -> None:
    with pytest.raises(KeyError):
        law.deemed_reason(method, returned=returned)


def test_every_deemed_return_and_every_always_deemed_method_has_its_reason() -> None:
    assert {(ServiceMethod.postal, r) for r in law.DEEMED_RETURNS} | {(m, None) for m in law.ALWAYS_DEEMED} == set(law.DEEMED_REASONS)
    assert all((m, True) in law.BASIS and (m, False) not in law.BASIS for m in law.ALWAYS_DEEMED)
