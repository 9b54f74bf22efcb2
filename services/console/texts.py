"""The console's words in Chinese: roles, tasks, outcomes and the law behind each, what was tried, photo checks, and the services' refusals field by field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.contracts import labels

ROLES: dict[str, str] = {"court": "法院", "agent": "送达员", "supervisor": "送达主管", "lawyer": "律师", "auditor": "审计员"}

# What each role can do in the console today; the other pages are still to come.
ROLE_CAN: dict[str, tuple[str, ...]] = {
    "supervisor": (
        "团队看板：查看全部待办任务（按送达员分组，已超时的在前），并可改派。",
        "花名册：添加送达员，修改姓名、负责区域和是否在岗。",
        "待审核证据：查看核验存疑的照片，认可证据或安排重新上门。",
        "通知列表：按状态、法院、送达员、案号、当事人和期限筛选送达通知，打开每份通知查看送达进展、证据和送达报告。",
        "提交送达通知：为所选法院填写案件和受送达人，上传送达文书。",
        "统计看板：各法院、送达员、各周的送达成功率、用时、超期率和费用，导出表格和月度考核报表。",
        "批量导入：为法院上传 Excel 工作簿及文书，查看每行的登记结果。",
        "律所登记：登记与法院签订电子送达协议的律师事务所，上传协议存证，维护其送达邮箱、覆盖法院和有效期。",
        "可通过各服务的 /v1/audit-log 接口查阅审计日志。",
    ),
    "court": (
        "本院通知：查看本院的送达通知及各受送达人的送达进展，按状态、案号、当事人和期限筛选。",
        "提交通知：填写案件和受送达人信息，上传送达文书（PDF 或 OFD）。",
        "通知详情：送达过程时间线、证据照片、送达文书和各版本的送达报告（PDF、网页）。",
        "批量导入：下载模板，上传填好的 Excel 工作簿及文书，查看每行的登记结果和退回原因。",
        "统计看板：本院的送达成功率、用时、超期率和费用，导出表格和月度考核报表。",
    ),
    "lawyer": ("送达收件箱：查看法院向本所送达的全部文书（未读在前，显示期限），打开文书，签收并查看电子送达凭证。",),
    "auditor": (
        "花名册：查阅送达员名单（只读）。",
        "待审核证据：查阅核验存疑的送达及其照片（只读）。",
        "通知列表：按条件筛选查阅送达通知（只读）。",
        "统计看板：查阅各法院的考核指标（只读）。",
        "可通过各服务的 /v1/audit-log 接口查阅审计日志（含本工作台的登录记录）。",
    ),
    "agent": ("查看今日任务，上门送达或张贴公告，并当场记录送达结果。",),
}
# The bar's links per role, in order; each is a page the role reaches (services/console/access.py).
NAVIGATION: dict[str, tuple[tuple[str, str], ...]] = {
    "agent": (("/today", "今日任务"),),
    "supervisor": (
        ("/board", "团队看板"),
        ("/roster", "花名册"),
        ("/holds", "待审核证据"),
        ("/notices", "通知列表"),
        ("/dashboard", "统计看板"),
        ("/notices/batch", "批量导入"),
        ("/firms", "律所登记"),
        ("/calendar", "节假日安排"),
    ),
    "court": (("/notices", "本院通知"), ("/notices/new", "提交通知"), ("/notices/batch", "批量导入"), ("/dashboard", "统计看板")),
    "auditor": (("/roster", "花名册"), ("/holds", "待审核证据"), ("/notices", "通知列表"), ("/dashboard", "统计看板"), ("/calendar", "节假日安排")),
    "lawyer": (("/inbox", "送达收件箱"),),
}

TASK_KINDS: dict[str, str] = {"visit": "上门送达", "posting": "张贴公告"}
# The submit form's choices: the stages (as the report names them), the documents courts serve most, ID types.
STAGES: dict[str, str] = {stage.value: name for stage, name in labels.STAGE.items()}
DOCUMENT_KINDS: dict[str, str] = labels.DOCUMENT_KIND
ID_TYPES: dict[str, str] = {"resident_id": "居民身份证", "uscc": "统一社会信用代码", "passport": "护照", "other": "其他证件"}
TIERS: dict[str, str] = {tier.value: name for tier, name in labels.TIER.items()}
METHODS: dict[str, str] = {method.value: name for method, name in labels.METHOD.items()}
ATTEMPT_STATES: dict[str, str] = {
    "scheduled": "待进行",
    "open": "进行中",
    "reported": "已报告，待核验",
    "succeeded": "成功",
    "failed": "未成功",
    "superseded": "已停止（他途先送达）",
}
RECIPIENT_KINDS: dict[str, str] = {kind.value: name for kind, name in labels.PARTY_KIND.items()}
OUTCOMES: dict[str, str] = {"served": "当面签收", "refused": "拒绝签收（留置送达）", "not_found": "未找到受送达人", "moved": "受送达人已搬离", "posted": "已张贴公告"}
# Outcomes in the order the task page offers them.
OUTCOME_ORDER = ("served", "refused", "not_found", "moved", "posted")


@dataclass(frozen=True)
class Law:
    """The rule an outcome's record rests on, as the form states it."""

    article: str
    text: str


# The law each outcome form states (CPL as amended 2023; Interp. = 最高人民法院关于适用《中华人民共和国民事诉讼法》的解释).
LAW: dict[str, Law] = {
    "served": Law(
        "《中华人民共和国民事诉讼法》第八十七条、第八十八条",
        "送达诉讼文书应当直接送交受送达人。受送达人是公民的，本人不在交他的同住成年家属签收；受送达人是法人或者其他组织的，"
        "应当由法人的法定代表人、其他组织的主要负责人或者该法人、组织负责收件的人签收；受送达人有诉讼代理人的，可以送交其代理人签收。"
        "受送达人在送达回证上记明收到日期，签名或者盖章；签收日期为送达日期。",
    ),
    "refused": Law(
        "《中华人民共和国民事诉讼法》第八十九条",
        "受送达人或者他的同住成年家属拒绝接收诉讼文书的，送达人可以邀请有关基层组织或者所在单位的代表到场，说明情况，在送达回证上记明拒收事由和日期，"
        "由送达人、见证人签名或者盖章，把诉讼文书留在受送达人的住所；也可以把诉讼文书留在受送达人的住所，并采用拍照、录像等方式记录送达过程，即视为送达。",
    ),
    "not_found": Law(
        "《中华人民共和国民事诉讼法》第八十七条",
        "送达诉讼文书必须有送达回证。未能见到受送达人或其同住成年家属的，如实记录上门的时间和情况，法院将另行安排送达。",
    ),
    "moved": Law(
        "《中华人民共和国民事诉讼法》第八十七条",
        "受送达人已不在该地址居住的，在送达回证上如实记明情况；得知新地址的，一并记录，以便向新地址送达。",
    ),
    "posted": Law(
        "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第一百三十八条；《中华人民共和国民事诉讼法》第九十五条",
        "公告送达可以在受送达人住所地张贴公告；在受送达人住所地张贴公告的，应当采取拍照、录像等方式记录张贴过程。自发出公告之日起经过三十日，即视为送达。",
    ),
}

# The signer roles and party roles are named as the 送达回证 and the delivery report name them.
SIGNER_ROLES: dict[str, str] = {role.value: name for role, name in labels.SIGNER_ROLE.items()}
PARTY_ROLES = labels.PARTY_ROLE

NOTICE_STATUSES: dict[str, str] = {"in_progress": "送达中", "completed": "已完成"}
RECIPIENT_STATUSES: dict[str, str] = {
    "in_progress": "送达进行中",
    "awaiting_evidence": "等待照片核验",
    "held": "照片存疑，待送达主管审核",
    "awaiting_publication": "等待公告",
    "notice_period": "公告期中",
    "served": "已送达",
}

CHANNELS: dict[str, str] = {
    "lawyer_firm": "律师事务所平台",
    "sms": "短信",
    "email": "电子邮件",
    "voice": "电话",
    "visit": "上门",
    "court_mail": "法院专递",
    "posting": "张贴公告",
    "publication": "公告",
}
# What a failed attempt of each channel means to the agent at the door.
FAILED: dict[str, str] = {
    "lawyer_firm": "律所平台未送达",
    "sms": "短信未送达",
    "email": "邮件未送达",
    "voice": "电话未接通",
    "visit": "上门未见到受送达人",
    "court_mail": "法院专递被退回",
    "posting": "未能张贴",
}


def tried(channel: str, status: str) -> str:
    """Returns what an earlier attempt came to, in Chinese."""
    if status == "failed" and channel in FAILED:
        return FAILED[channel]
    states = {"succeeded": "已送达", "open": "进行中", "scheduled": "待进行", "reported": "已记录", "failed": "未成功"}
    return f"{CHANNELS.get(channel, channel)}{states.get(status, '：' + status)}"


@dataclass(frozen=True)
class Flag:
    """What a photo check found, and what the agent should do about it."""

    message: str
    blocking: bool


# Evidence's flags (shared.contracts.evidence.EvidenceFlag); blocking ones keep a service from counting until resolved.
FLAGS: dict[str, Flag] = {
    "far_from_address": Flag("拍摄地点距地址较远：请在门口重新拍摄", True),
    "time_mismatch": Flag("拍摄时间与本次任务时间不符：请检查手机时间后当场重新拍摄", True),
    "edited_by_software": Flag("照片经过编辑软件处理：请用相机重新拍摄，不要修图或美颜", True),
    "exif_stripped": Flag("照片缺少拍摄信息（可能经过压缩或转发）：请直接用相机拍摄后上传原图", True),
    "no_gps": Flag("照片没有位置信息：请在相机设置中打开定位后重新拍摄", False),
    "no_reference_location": Flag("该地址没有坐标，无法核对拍摄地点；照片已保存", False),
}
CHECKED_OK = "照片已保存，拍摄时间和地点核验通过"
# Evidence's refusals of an upload, by status: not the agent's open task, not heard of yet, too large, not a type it takes, unreadable.
UPLOAD_REFUSALS: dict[int, str] = {
    403: "此任务已不由您负责或已结束，不能再上传",
    409: "证据服务还未收到此任务，请稍候片刻再上传",
    413: "文件过大，请重新拍摄或压缩后再传",
    415: "文件类型不支持：请上传照片（JPEG、PNG、HEIC）",
    422: "无法读取此文件：请重新拍摄后上传",
}
EVIDENCE_KINDS: dict[str, str] = {
    "photo": "照片",
    "video": "录像",
    "signature": "签名",
    "signed_receipt": "签收的送达回证照片",
    "call_record": "通话记录",
    "sms_receipt": "短信回执",
    "email_receipt": "邮件回执",
    "edelivery_receipt": "电子送达回执",
    "ems_trace": "邮件轨迹",
    "return_receipt_scan": "回执扫描件",
}


def flag(name: str) -> Flag:
    """Returns what a flag means to the agent; an unknown one is shown as doubtful."""
    return FLAGS.get(name, Flag(f"照片核验存疑（{name}）：请重新拍摄", True))


# Form fields by the path a service names in its 422 problem; the form's input of the same name is where the message shows.
FORM_FIELDS: dict[str, str] = {
    "signer": "signer_name",
    "signer.name": "signer_name",
    "signer.role": "signer_role",
    "signer.relation": "signer_relation",
    "witness": "witness_name",
    "witness.name": "witness_name",
    "witness.organisation": "witness_organisation",
    "witness.refusal_reason": "note",
    "evidence_ids": "evidence",
    "new_address": "new_address_text",
    "new_address.text": "new_address_text",
    "new_address.postcode": "new_address_postcode",
    "at": "at",
    "note": "note",
    "reason": "reason",
    "outcome": "outcome",
}
LABELS: dict[str, str] = {
    "username": "用户名",
    "password": "密码",
    "signer_name": "签收人姓名",
    "signer_role": "签收人身份",
    "signer_relation": "与受送达人的关系",
    "witness_name": "见证人姓名",
    "witness_organisation": "见证人单位",
    "evidence": "照片或签名",
    "new_address_text": "新地址",
    "new_address_postcode": "邮政编码",
    "at": "时间",
    "note": "备注",
    "reason": "事由",
    "outcome": "送达结果",
    "file": "文件",
}
# The law's requirements as delivery names them (services/delivery/domain/law.py REPORT_REQUIREMENTS), by field and outcome.
REQUIREMENTS: dict[tuple[str, str], str] = {
    ("signer", "served"): "请填写签收人姓名并选择其身份（民事诉讼法第八十八条）",
    ("evidence_ids", "served"): "请让签收人签名，或上传签收后的送达回证照片（民事诉讼法第八十八条）",
    ("witness", "refused"): "请填写见证人的姓名和单位，或上传留置文书的现场照片（民事诉讼法第八十九条）",
    ("evidence_ids", "posted"): "请上传张贴现场的照片（民诉法解释第一百三十八条）",
    ("new_address", "moved"): "请填写受送达人的新地址",
    ("witness.refusal_reason", "refused"): "有见证人的，请填写拒收事由（民事诉讼法第八十九条）",
}
# pydantic's messages, as the services pass them on, in Chinese.
_MESSAGES: tuple[tuple[str, str], ...] = (
    (r"^Field required", "请填写{label}"),
    (r"^String should have at least", "{label}太短"),
    (r"^String should have at most", "{label}过长"),
    (r"^String should match pattern", "{label}格式不正确"),
    (r"^Input should be a valid datetime|^Input should have timezone info", "{label}格式不正确"),
    (r"^Input should be", "请从列表中选择{label}"),
    (r"^List should have at most", "{label}过多"),
    # Delivery's refusal of a reassignment to an agent not (or no longer) active in the roster.
    (r"^no active agent", "{label}不在岗或不在花名册中，请重新选择"),
)


# Intake's messages on a submitted notice, in Chinese; tried before the general ones above.
_NOTICE_MESSAGES: tuple[tuple[str, str], ...] = (
    (r"resident ID number must be 18|must be 17 digits", "{label}应为18位居民身份证号码"),
    (r"resident ID (number has|check digit)", "{label}有误：请核对居民身份证号码（地区码、出生日期或校验位不符）"),
    (r"unified social credit code", "{label}有误：请核对18位统一社会信用代码"),
    (r"give id_type together with id_number", "填写证件号码时，请选择{label}的证件类型"),
    (r"not a phone number|not a valid number for its region|phone extensions", "{label}不是有效的电话号码，多个号码请用逗号或空格分开"),
    (r"not a valid email address", "{label}不是有效的电子邮箱地址"),
    (r"^case number", "{label}格式不正确，应如（2026）鲁1002民初1234号"),
    (r"is not a case of court", "该案号不属于本院：请核对案号中的法院代字"),
    (r"the case number's type code says", "审级与案号中的案件类型不符，请核对"),
    (r"is not a registered, active court", "{label}未在本系统登记或已停用"),
    (r"valid date", "{label}不是有效的日期，请按“年-月-日”填写"),
    (r"^List should have at least", "请至少填写一项{label}"),
)


def explain(english: str, label: str) -> str:
    """Returns a service's message on a field in Chinese; one it has no words for is the field's name with the service's own message."""
    for pattern, chinese in (*_NOTICE_MESSAGES, *_MESSAGES):
        if re.search(pattern, english):
            return chinese.format(label=label)
    return f"{label}：{english}"


@dataclass(frozen=True)
class FieldError:
    """A message beside one form field (`field` is the input's name and id; empty for the whole form)."""

    field: str
    message: str


def refusal_errors(errors: Sequence[Mapping[str, str]], *, outcome: str = "") -> list[FieldError]:
    """Turns a service's 422 errors ({field, message}, in English) into Chinese messages beside the form's fields."""
    shown: list[FieldError] = []
    for error in errors:
        path = error.get("field", "")
        field = FORM_FIELDS.get(path, "")
        message = REQUIREMENTS.get((path, outcome)) or _message(error.get("message", ""), LABELS.get(field, "此项"))
        if FieldError(field, message) not in shown:
            shown.append(FieldError(field, message))
    return shown


def field_errors(errors: Sequence[Mapping[str, str]], *, fields: Mapping[str, tuple[str, str]]) -> list[FieldError]:
    """Turns a service's 422 errors into Chinese messages beside the fields of a form: `fields` maps a path the service names (or its first part) to the input's id and label."""
    shown: list[FieldError] = []
    for error in errors:
        path = error.get("field", "")
        field, label = fields.get(path) or fields.get(path.split(".")[0]) or ("", "此项")
        if (found := FieldError(field, _message(error.get("message", ""), label))) not in shown:
            shown.append(found)
    return shown


def _message(english: str, label: str) -> str:
    for pattern, chinese in _MESSAGES:
        if re.search(pattern, english):
            return chinese.format(label=label)
    return f"{label}填写有误，请核对后重新提交"


SERVICE_NAMES: dict[str, str] = {"delivery": "送达服务", "evidence": "证据服务", "intake": "受理服务", "carrier_gateway": "邮寄服务"}


def standing(outcome: str, recipient_status: str, waiting_for_evidence: Sequence[str]) -> str:
    """Says what the recorded outcome did for the recipient: served (and how), in a notice period, waiting for evidence, or still in progress."""
    if recipient_status == "served" and outcome == "refused":
        return "受送达人已视为送达：留置送达（民事诉讼法第八十九条）。"
    if recipient_status == "served":
        return "受送达人已签收：直接送达（民事诉讼法第八十八条）。"
    if recipient_status == "held":
        return "结果已记录，但照片或签名核验存疑：送达主管审核认可后生效，或安排重新上门。"
    if recipient_status == "notice_period":
        return "公告已张贴：自张贴之日起经过三十日，即视为送达（民事诉讼法第九十五条）。"
    if waiting_for_evidence or recipient_status == "awaiting_evidence":
        return "结果已记录，照片或签名核验通过后送达即生效；核验存疑的，送达主管会与您联系。"
    return "结果已记录，法院将安排后续送达。"
