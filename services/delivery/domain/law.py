"""The law delivery applies, as tables with their articles: who may sign, what a report must carry, when a returned item counts, each method's date and basis (DOMAIN.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.delivery.domain.inputs import TaskOutcome, TaskReported
from shared.contracts.events import Channel, PartyKind, ReturnReason, ServiceMethod, SignerRole
from shared.contracts.evidence import EvidenceKind

# CPL 95: a public notice takes effect thirty days after it is issued. Interp. 138 lets it be posted
# at the recipient's residence, so a posting runs the same thirty days.
NOTICE_PERIOD = timedelta(days=30)

# CPL 88: a person signs, or a co-resident adult family member; an organisation's legal representative,
# principal or the staff who receive its documents; either way the litigation agent or a designated proxy.
# 专递规定 Art. 7, 9 (verify) add the statutory agent and exclude the opposing party in the same case.
SIGNERS: dict[PartyKind, frozenset[SignerRole]] = {
    PartyKind.person: frozenset({SignerRole.recipient, SignerRole.family_member, SignerRole.statutory_agent, SignerRole.litigation_agent, SignerRole.designated_proxy}),
    PartyKind.organisation: frozenset({SignerRole.legal_representative, SignerRole.principal, SignerRole.mail_room, SignerRole.litigation_agent, SignerRole.designated_proxy}),
}

# The basis the report states for each method; a deemed postal service rests on its own rule.
BASIS: dict[tuple[ServiceMethod, bool], str] = {
    (ServiceMethod.direct, False): "民事诉讼法第87条、第88条",
    # CPL 89: documents left with the recipient who refused them are "视为送达" — a refusal is always deemed.
    (ServiceMethod.refusal, True): "民事诉讼法第89条",
    (ServiceMethod.electronic, False): "民事诉讼法第90条；民诉法解释第135条",
    (ServiceMethod.postal, False): "民事诉讼法第91条",
    # 专递规定 Art. 11 and 法发〔2017〕19号: refused, or returned from the address the party itself gave.
    (ServiceMethod.postal, True): "法院专递规定第11条；法发〔2017〕19号",
    (ServiceMethod.posting, True): "民事诉讼法第95条；民诉法解释第138条",
    (ServiceMethod.public_notice, True): "民事诉讼法第95条；民诉法解释第138条",
}


class DeemedWhere(StrEnum):
    """Where a returned item must have been sent for its return to count as service."""

    anywhere = "anywhere"
    at_confirmed_address = "at_confirmed_address"


# 专递规定 Art. 11; 法发〔2017〕19号: a returned item is deemed served on its return date when the recipient refused
# it (whatever the address), or when it was not received at an address the party itself confirmed.
DEEMED_RETURNS: dict[ReturnReason, DeemedWhere] = {
    ReturnReason.refused: DeemedWhere.anywhere,
    ReturnReason.unclaimed: DeemedWhere.at_confirmed_address,
    ReturnReason.address_wrong: DeemedWhere.at_confirmed_address,
    ReturnReason.moved: DeemedWhere.at_confirmed_address,
}
# CPL 89, 95: a refusal, a posting and a public notice serve because the law deems them to, never by the recipient's receipt.
ALWAYS_DEEMED = frozenset({ServiceMethod.refusal, ServiceMethod.posting, ServiceMethod.public_notice})

_RETURN_BASIS = "（法院专递规定第11条；法发〔2017〕19号）"

# Why the law deems the recipient served, in the report's words: by method and, for returned court mail, by the return's reason.
DEEMED_REASONS: dict[tuple[ServiceMethod, ReturnReason | None], str] = {
    # CPL 89: a witness from a grassroots organisation or the employer, or photos or a video of the leaving.
    (ServiceMethod.refusal, None): "受送达人拒绝签收，送达人员邀请有关基层组织或者所在单位的代表到场见证，或者采用拍照、录像等方式记录送达过程，"
    "把诉讼文书留在受送达人的住所，即视为送达（民事诉讼法第89条）",
    # 专递规定 Art. 11: refused, wherever the item went.
    (ServiceMethod.postal, ReturnReason.refused): "受送达人拒绝签收法院专递，邮件被退回，以退回之日视为送达" + _RETURN_BASIS,
    # 法发〔2017〕19号: not received at the address the party itself confirmed.
    (ServiceMethod.postal, ReturnReason.unclaimed): "邮件按受送达人确认的送达地址寄送，受送达人未领取而被退回，以退回之日视为送达" + _RETURN_BASIS,
    (ServiceMethod.postal, ReturnReason.address_wrong): "受送达人确认的送达地址不准确，邮件无法送达而被退回，以退回之日视为送达" + _RETURN_BASIS,
    (ServiceMethod.postal, ReturnReason.moved): "受送达人送达地址变更未及时告知法院，邮件按原确认地址寄送后被退回，以退回之日视为送达" + _RETURN_BASIS,
    # Interp. 138 lets the notice be posted at the residence; CPL 95 counts the thirty days.
    (ServiceMethod.posting, None): "在受送达人住所张贴公告并拍照记录，自发出公告之日起经过三十日，即视为送达（民事诉讼法第95条；民诉法解释第138条）",
    (ServiceMethod.public_notice, None): "自发出公告之日起经过三十日，即视为送达（民事诉讼法第95条）",
}

# 专递规定 Art. 1: an item returned because the recipient's whereabouts are unknown leaves only a public notice.
ONLY_PUBLIC_NOTICE_AFTER = frozenset({ReturnReason.whereabouts_unknown})

# Which outcomes a kind of task can have: a visit serves, is refused, finds nobody or learns of a move; a posting is posted or finds no place.
TASK_OUTCOMES: dict[Channel, frozenset[TaskOutcome]] = {
    Channel.visit: frozenset({TaskOutcome.served, TaskOutcome.refused, TaskOutcome.not_found, TaskOutcome.moved}),
    Channel.posting: frozenset({TaskOutcome.posted, TaskOutcome.not_found}),
}


@dataclass(frozen=True)
class Requirement:
    """What an agent's report of an outcome must carry: the field, the rule that asks for it, and the test."""

    field: str
    rule: str
    met: Callable[[TaskReported], bool]


REPORT_REQUIREMENTS: dict[TaskOutcome, tuple[Requirement, ...]] = {
    TaskOutcome.served: (
        # CPL 88: a service is signed for by the recipient or one who may sign for them, so the signer's name and role are needed.
        Requirement("signer", "a service needs the signer's name and role (CPL 88)", lambda r: r.signer is not None),
        # CPL 87, 88: the service is proved by the signature on the 送达回证: drawn on screen, or the signed receipt photographed.
        Requirement("evidence_ids", "a service needs the signature drawn on screen or a photo of the signed 送达回证 as evidence_ids (CPL 87, 88)", lambda r: bool(r.evidence)),
    ),
    # CPL 89: leaving the documents needs a witness, or photos or video recording the leaving.
    TaskOutcome.refused: (
        Requirement("witness", "a refusal needs a witness (name and organisation) or photo/video evidence_ids (CPL 89)", lambda r: r.witness is not None or bool(r.evidence)),
        # CPL 89: the witness's receipt records why the recipient refused (拒收事由) and the date.
        Requirement(
            "witness.refusal_reason",
            "a witnessed refusal needs the reason the recipient gave for refusing, 拒收事由 (CPL 89)",
            lambda r: r.witness is None or bool(r.witness.refusal_reason and r.witness.refusal_reason.strip()),
        ),
    ),
    # Interp. 138: a posting is recorded by photo or video.
    TaskOutcome.posted: (Requirement("evidence_ids", "a posting needs the photo of the posted notice (Interp. 138)", lambda r: bool(r.evidence)),),
    TaskOutcome.moved: (Requirement("new_address", "a move needs the new address", lambda r: r.new_place is not None),),
}

# The remark on an attempt whose visit or posting was reported as made before its window opened (kept, never refused).
REPORTED_BEFORE_WINDOW = "reported_before_window"

# CPL 87, 88: the kinds of evidence that carry the signature on the 送达回证, one of which a reported service must name.
SIGNATURE_PROOF = frozenset({EvidenceKind.signature, EvidenceKind.signed_receipt})


def may_sign(role: SignerRole, *, kind: PartyKind) -> bool:
    """Tells whether `role` may sign for a recipient of this kind (CPL 88; 专递 Art. 7, 9)."""
    return role in SIGNERS[kind]


def unmet(report: TaskReported) -> Requirement | None:
    """Returns the first requirement a report of its outcome does not meet, if any."""
    return next((r for r in REPORT_REQUIREMENTS.get(report.outcome, ()) if not r.met(report)), None)


def lacks_signature(outcome: TaskOutcome, kinds: Mapping[str, str | None]) -> bool:
    """Tells whether a reported service's evidence shows no signature: every item is recorded (`kinds` maps each to its kind, None while not) and none is one (CPL 87, 88)."""
    return outcome is TaskOutcome.served and bool(kinds) and all(kind is not None and kind not in SIGNATURE_PROOF for kind in kinds.values())


def deemed_on_return(reason: ReturnReason, *, refused_before: bool, confirmed_address: bool) -> bool:
    """Tells whether a returned item counts as served on its return date (专递规定 Art. 11; 法发〔2017〕19号)."""
    if refused_before:
        return True
    where = DEEMED_RETURNS.get(reason)
    return where is DeemedWhere.anywhere or (where is DeemedWhere.at_confirmed_address and confirmed_address)


def service_date(method: ServiceMethod, event_day: date) -> date:
    """Returns the service date from the day of the deciding event (signing, leaving, arrival, receipt, return, publication)."""
    if method in (ServiceMethod.posting, ServiceMethod.public_notice):
        return event_day + NOTICE_PERIOD
    return event_day


def deemed_reason(method: ServiceMethod, *, returned: ReturnReason | None = None) -> str:
    """Returns why the law deems a service by `method` made (for court mail, returned for `returned`); raises KeyError for one it does not deem."""
    return DEEMED_REASONS[(method, returned if method is ServiceMethod.postal else None)]


def basis(method: ServiceMethod, *, deemed: bool) -> str:
    """Returns the article a service rests on; raises KeyError for a combination the law does not know."""
    return BASIS[(method, deemed)]


# --- Electronic service under the Online Litigation Rules (人民法院在线诉讼规则, 法释〔2021〕12号) ---


class Signal(StrEnum):
    """What the system learns of an electronic message after sending it."""

    arrival = "arrival"  # it reached the recipient's system
    acknowledgement = "acknowledgement"  # the recipient acknowledged it (e-delivery page, firm's inbox)
    reply = "reply"  # the recipient answered the message itself (an SMS back, an e-mail in reply)
    read = "read"  # the system shows the documents opened


@dataclass(frozen=True)
class EService:
    """An effective electronic service: its basis, whether it is only presumed, and why (Chinese, for the report)."""

    basis: str
    presumed: bool = False
    reason: str | None = None


OLR_BASIS = "民事诉讼法第90条；《人民法院在线诉讼规则》第31条"

# OLR Art. 31: keyed by (whether the recipient provided or confirmed the address, what the system learnt).
# 31(1): a provided or confirmed address is served when the message reaches its system.
# 31(2): any other address is served when the recipient acknowledges or replies, and presumed served when the
# system shows the documents read, unless the recipient proves otherwise; arrival alone serves nothing.
E_SERVICE: dict[tuple[bool, Signal], EService] = {
    (True, Signal.arrival): EService(basis=BASIS[(ServiceMethod.electronic, False)]),
    (True, Signal.acknowledgement): EService(basis=BASIS[(ServiceMethod.electronic, False)]),
    (True, Signal.reply): EService(basis=BASIS[(ServiceMethod.electronic, False)]),
    (False, Signal.acknowledgement): EService(basis=OLR_BASIS),
    # 31(2): "受送达人回复已收到送达材料" — a reply is an actual service, not a presumed one.
    (False, Signal.reply): EService(basis=OLR_BASIS),
    (False, Signal.read): EService(basis=OLR_BASIS, presumed=True, reason="系统显示受送达人已阅读，推定送达（《人民法院在线诉讼规则》第31条第2款）"),
}


def e_service(signal: Signal, *, address_confirmed: bool) -> EService | None:
    """Returns the service `signal` makes at an address the recipient did or did not confirm, None when it serves nothing (OLR Art. 31)."""
    return E_SERVICE.get((address_confirmed, signal))
