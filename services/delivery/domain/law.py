"""The law delivery applies: who may sign, and each method's service date and legal basis (DOMAIN.md)."""

from __future__ import annotations

from datetime import date, timedelta

from shared.contracts.events import PartyKind, ServiceMethod, SignerRole

# CPL 95: a public notice takes effect thirty days after it is issued. Interp. 138 lets it be posted
# at the recipient's residence, so a posting runs the same thirty days.
NOTICE_PERIOD = timedelta(days=30)

# CPL 88: a person signs, or a co-resident adult family member; an organisation's legal representative,
# principal or the staff who receive its documents; either way the litigation agent or a designated proxy.
# 专递规定 Art. 7, 9 (verify) add the statutory agent and exclude the opposing party in the same case.
_SIGNERS: dict[PartyKind, frozenset[SignerRole]] = {
    PartyKind.person: frozenset({SignerRole.recipient, SignerRole.family_member, SignerRole.statutory_agent, SignerRole.litigation_agent, SignerRole.designated_proxy}),
    PartyKind.organisation: frozenset({SignerRole.legal_representative, SignerRole.principal, SignerRole.mail_room, SignerRole.litigation_agent, SignerRole.designated_proxy}),
}

# The basis the report states for each method; a deemed postal service rests on its own rule.
BASIS: dict[tuple[ServiceMethod, bool], str] = {
    (ServiceMethod.direct, False): "民事诉讼法第87条、第88条",
    (ServiceMethod.refusal, False): "民事诉讼法第89条",
    (ServiceMethod.electronic, False): "民事诉讼法第90条；民诉法解释第135条",
    (ServiceMethod.postal, False): "民事诉讼法第91条",
    # 专递规定 Art. 11 and 法发〔2017〕19号: refused, or returned from the address the party itself gave.
    (ServiceMethod.postal, True): "法院专递规定第11条；法发〔2017〕19号",
    (ServiceMethod.posting, True): "民事诉讼法第95条；民诉法解释第138条",
    (ServiceMethod.public_notice, True): "民事诉讼法第95条；民诉法解释第138条",
}


def may_sign(role: SignerRole, *, kind: PartyKind) -> bool:
    """Tells whether `role` may sign for a recipient of this kind (CPL 88; 专递 Art. 7, 9)."""
    return role in _SIGNERS[kind]


def service_date(method: ServiceMethod, event_day: date) -> date:
    """Returns the service date from the day of the deciding event (signing, leaving, arrival, receipt, return, publication)."""
    if method in (ServiceMethod.posting, ServiceMethod.public_notice):
        return event_day + NOTICE_PERIOD
    return event_day


def basis(method: ServiceMethod, *, deemed: bool) -> str:
    """Returns the article a service rests on; raises KeyError for a combination the law does not know."""
    return BASIS[(method, deemed)]
