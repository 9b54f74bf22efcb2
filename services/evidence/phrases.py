"""Delivery's attempt details, failure reasons and remarks in Chinese: exact phrases, then phrases with a value in them; anything else is named generically with its raw text kept aside."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.contracts.events import ReturnReason
from shared.contracts.evidence import EvidenceFlag
from shared.contracts.labels import SIGNER_ROLE

# What a report prints for a phrase it has no Chinese for; the phrase itself follows in a muted 原文 note.
UNKNOWN = "送达系统记录的其他情况"

# The literals of services/delivery/domain (machine.py, moves.py): `detail` of AttemptSucceeded, `reason` of AttemptFailed.
DETAIL: dict[str, str] = {
    "acknowledged on the e-delivery page": "已在电子送达平台确认收到（签收）",
    "reached the recipient's system": "送达信息已到达受送达人特定系统",
    "call answered, notice read": "电话已接通，已告知送达事项",
    "no delivery receipt in time": "规定时间内未收到送达回执",
    "no return receipt in time": "规定时间内未收到法院专递回执",
    "recipient not found at the address": "在该地址未找到受送达人",
    "recipient moved": "受送达人已搬离该地址",
    "service reported without the signature on the 送达回证 (CPL 87, 88)": "报告已直接送达但无送达回证上的签名，不能认定送达（民事诉讼法第87条、第88条）",
    "served in person": "已当面送达并签收",
    "refused; documents left (留置)": "受送达人拒绝签收，文书已留置",
    "notice posted at the address": "已在送达地址张贴通知",
    "reached the recipient's system; no bounce": "送达信息已到达受送达人特定系统，未收到退信",
    "documents opened on the e-delivery page": "受送达人已在电子送达平台打开文书",
    "the recipient replied to the message": "受送达人已回复送达信息，确认收到",
    "arrived at an address the recipient did not confirm, but neither acknowledged nor read in time: not served (OLR Art. 31(2))": (
        "已到达受送达人未提供或确认的电子地址，但期限内既未确认收到也未阅读，不发生送达效力（《人民法院在线诉讼规则》第31条第2款）"
    ),
    "arrived, but not acknowledged in time: not served": "已到达，但期限内未确认收到，不发生送达效力",
}

# A provider's final status (Twilio's MessageStatus and CallStatus, the mail server's answer), which delivery records as the reason.
PROVIDER_STATUS: dict[str, str] = {
    "failed": "发送失败",
    "undelivered": "未能送达",
    "rejected": "服务商拒绝发送",
    "canceled": "发送已取消",
    "busy": "对方占线",
    "no-answer": "无人接听",
    "delivered": "已送达",
    "read": "已读",
    "completed": "通话已完成",
}

RETURN_REASON: dict[ReturnReason, str] = {
    ReturnReason.unclaimed: "无人领取",
    ReturnReason.address_wrong: "地址错误",
    ReturnReason.moved: "受送达人已迁走",
    ReturnReason.refused: "拒收",
    ReturnReason.whereabouts_unknown: "下落不明",
    ReturnReason.other: "其他原因",
}

EVIDENCE_FLAG: dict[EvidenceFlag, str] = {
    EvidenceFlag.no_gps: "无定位信息",
    EvidenceFlag.far_from_address: "拍摄地点距送达地址较远",
    EvidenceFlag.time_mismatch: "拍摄时间与记录不符",
    EvidenceFlag.exif_stripped: "元数据缺失",
    EvidenceFlag.edited_by_software: "经软件编辑",
    EvidenceFlag.no_reference_location: "无可比对的地址位置",
}

# AttemptEntry.remarks: what delivery noted about how an attempt was made.
REMARK: dict[str, str] = {"reported_before_window": "早于预约时段报告"}

# A run of ASCII: an English word when it has two letters or more, one in lower case, and no digit (an id such as sup-1, an error
# code, a time) and is no e-mail address; an upper-case code such as an EMS status is no prose either.
_RUN = re.compile(r"[A-Za-z0-9@._\-]+")
_PROSE = re.compile(r"(?=.*[a-z])[A-Za-z._\-]*[A-Za-z][A-Za-z._\-]*[A-Za-z][A-Za-z._\-]*")


@dataclass(frozen=True)
class Phrase:
    """A phrase in Chinese, and the text as delivery recorded it when the Chinese could not carry it whole."""

    text: str
    raw: str | None = None


def english(text: str) -> bool:
    """Tells whether a text has English words in it, which a Chinese page may not show as its main text."""
    return any(_PROSE.fullmatch(run) and "@" not in run for run in _RUN.findall(text))


class _Untranslatable(Exception):
    """A value inside a known phrase has no Chinese: the phrase is shown generically."""


def _table(table: Mapping[Any, str], value: str) -> str:
    # The tables are keyed by StrEnums, which look up as their string values.
    if value not in table:
        raise _Untranslatable(value)
    return table[value]


def _free(value: str) -> str:
    """Free text inside a phrase (a carrier's or supervisor's words): kept when it is Chinese."""
    if english(value):
        raise _Untranslatable(value)
    return value


def _flags(names: str) -> str:
    return "、".join(_table(EVIDENCE_FLAG, name.strip()) for name in names.split(","))


def _day(text: str) -> str:
    day = date.fromisoformat(text)
    return f"{day.year}年{day.month}月{day.day}日"


# The f-strings of services/delivery/domain/machine.py, each as a pattern and its Chinese.
PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(?P<status>[a-z-]+) \(error (?P<code>\d+)\)"), lambda m: f"{_table(PROVIDER_STATUS, m['status'])}（错误码 {m['code']}）"),
    (re.compile(r"carrier refused the booking: (?P<reason>.+)"), lambda m: f"邮政拒绝交寄：{_free(m['reason'])}"),
    (re.compile(r"(?P<role>[a-z_]+) may not sign for the recipient \(CPL 88\)"), lambda m: f"{_table(SIGNER_ROLE, m['role'])}无权代受送达人签收（民事诉讼法第88条）"),
    (
        re.compile(r"evidence flagged: (?P<flags>[a-z_, ]+); revisit ordered by (?P<by>[^:]+): (?P<reason>.*)"),
        lambda m: f"证据存在核查提示（{_flags(m['flags'])}），督办人员（{m['by']}）要求重新送达：{_free(m['reason'])}",
    ),
    (re.compile(r"published (?P<day>\d{4}-\d{2}-\d{2})"), lambda m: f"已于{_day(m['day'])}发布公告"),
    (re.compile(r"returned \((?P<reason>[a-z_]+)\); deemed served"), lambda m: f"法院专递被退回（{_table(RETURN_REASON, m['reason'])}），视为送达"),
    (re.compile(r"returned: (?P<reason>[a-z_]+)"), lambda m: f"法院专递被退回（{_table(RETURN_REASON, m['reason'])}）"),
    (re.compile(r"return receipt signed by (?P<role>[a-z_]+), who may not sign"), lambda m: f"回执由{_table(SIGNER_ROLE, m['role'])}签收，其无权代收，不发生送达效力"),
    (re.compile(r"return receipt signed by (?P<role>[a-z_]+)"), lambda m: f"回执由{_table(SIGNER_ROLE, m['role'])}签收"),
]


def phrase(text: str) -> Phrase:
    """Returns an attempt's detail or failure reason in Chinese; Chinese text (an agent's note) stays as it is."""
    if text in DETAIL:
        return Phrase(DETAIL[text])
    if text in PROVIDER_STATUS:
        return Phrase(f"服务商回执：{PROVIDER_STATUS[text]}")
    for pattern, say in PATTERNS:
        match = pattern.fullmatch(text)
        if match is not None:
            try:
                return Phrase(say(match))
            except _Untranslatable:
                break
    return Phrase(UNKNOWN, raw=text) if english(text) else Phrase(text)


def remark(code: str) -> Phrase:
    """Returns an attempt's remark in Chinese, or the generic phrase with the code aside."""
    return Phrase(REMARK[code]) if code in REMARK else Phrase(UNKNOWN, raw=code)
