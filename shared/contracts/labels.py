"""The Chinese names of the contracts' words that more than one service prints: the delivery report and KPI sheets (evidence), the 送达回证 to sign (delivery), the courts' pages and the dashboard (console), the workbook template (intake)."""

from __future__ import annotations

from shared.contracts.events import PartyKind, ServiceMethod, SignerRole, Stage, Tier

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


# The rungs of tiered delivery (分层送达) and how a recipient was served, as the report, the KPI sheets and the courts' pages name them.
TIER: dict[Tier, str] = {
    Tier.electronic: "电子送达",
    Tier.direct: "直接送达",
    Tier.postal: "邮寄送达",
    Tier.posting: "张贴公告",
    Tier.public_notice: "公告送达",
}

# In the vocabulary's order, which the dashboard's charts keep.
METHOD: dict[ServiceMethod, str] = {
    ServiceMethod.electronic: "电子送达",
    ServiceMethod.direct: "直接送达",
    ServiceMethod.refusal: "留置送达",
    ServiceMethod.postal: "邮寄送达",
    ServiceMethod.posting: "张贴送达（公告）",
    ServiceMethod.public_notice: "公告送达",
}

PARTY_KIND: dict[PartyKind, str] = {PartyKind.person: "自然人", PartyKind.organisation: "法人或其他组织"}

# Document.kind, as courts name their papers; another kind is shown as the court gave it.
DOCUMENT_KIND: dict[str, str] = {
    "complaint_copy": "起诉状副本",
    "notice_to_respond": "应诉通知书",
    "summons": "传票",
    "evidence_notice": "举证通知书",
    "judgment": "判决书",
    "ruling": "裁定书",
    "mediation": "调解书",
    "appeal_copy": "上诉状副本",
    "enforcement_notice": "执行通知书",
    "other": "其他文书",
}

# A notice's timeline (evidence's log of the events about it), one line per event type; a type not listed is shown as it is.
EVENT: dict[str, str] = {
    "intake.NoticeRegistered": "法院提交送达通知，受理登记",
    "intake.AddressConfirmed": "当事人确认送达地址",
    "delivery.TaskAssigned": "派出上门送达或张贴任务",
    "delivery.AttemptStarted": "开始一次送达",
    "delivery.AttemptSucceeded": "一次送达成功",
    "delivery.AttemptFailed": "一次送达未成功",
    "delivery.AttemptSuperseded": "另一途径先送达，本次停止",
    "delivery.DocumentsAcknowledged": "受送达人确认收到文书",
    "delivery.DocumentOpened": "受送达人在线查看或下载文书",
    "delivery.AddressReported": "送达员报告受送达人的新地址",
    "delivery.RecipientServed": "受送达人已送达",
    "delivery.RecipientUnserved": "送达方式均已用尽，受送达人未能送达",
    "delivery.DeadlineApproaching": "临近送达期限（预警）",
    "delivery.NoticeOverdue": "已超过送达期限（超期）",
    "delivery.NoticeCompleted": "全部受送达人送达完毕",
    "carrier_gateway.DispatchPostalItem": "交寄法院专递",
    "carrier_gateway.WaybillCreated": "法院专递已取得运单号",
    "carrier_gateway.DispatchFailed": "法院专递交寄失败",
    "carrier_gateway.TrackingUpdated": "法院专递投递进展",
    "carrier_gateway.ReceiptReturned": "法院专递回执已退回",
    "evidence.EvidenceRecorded": "证据已存证",
    "evidence.ReportIssued": "送达报告已出具",
}


def event(event_type: str) -> str:
    """Returns what an event type means in a notice's timeline, or the type as it is when it has no name."""
    return EVENT.get(event_type, event_type)
