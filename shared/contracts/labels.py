"""The Chinese names of the contracts' words that more than one service prints: the delivery report (evidence) and the 送达回证 to sign (delivery)."""

from __future__ import annotations

from shared.contracts.events import SignerRole, Stage

SIGNER_ROLE: dict[SignerRole, str] = {
    SignerRole.recipient: "本人",
    SignerRole.family_member: "同住成年家属",
    SignerRole.legal_representative: "法定代表人",
    SignerRole.principal: "主要负责人",
    SignerRole.mail_room: "收发部门",
    SignerRole.litigation_agent: "诉讼代理人",
    SignerRole.statutory_agent: "法定代理人",
    SignerRole.designated_proxy: "代收人",
    SignerRole.opposing_party: "对方当事人",
    SignerRole.other: "其他",
}

STAGE: dict[Stage, str] = {
    Stage.first_instance: "一审",
    Stage.appeal: "二审",
    Stage.retrial: "再审",
    Stage.enforcement: "执行",
}

# A recipient's procedural role (free text from intake); a role not listed is printed as it is.
PARTY_ROLE: dict[str, str] = {
    "plaintiff": "原告",
    "defendant": "被告",
    "third_party": "第三人",
    "appellant": "上诉人",
    "appellee": "被上诉人",
    "applicant": "申请人",
    "respondent": "被申请人",
}

# In enforcement the same roles have their own names.
ENFORCEMENT_ROLE: dict[str, str] = {"applicant": "申请执行人", "respondent": "被执行人"}


def party_role(role: str, *, stage: str) -> str:
    """Returns the Chinese name of a recipient's role in the case at this stage, or the role as it is when it has none."""
    if stage == Stage.enforcement and role in ENFORCEMENT_ROLE:
        return ENFORCEMENT_ROLE[role]
    return PARTY_ROLE.get(role, role)
