"""The words of each message: SMS, e-mail and the call's script, in Chinese, with only what the recipient needs."""

from __future__ import annotations

from typing import Any

from services.delivery.domain.state import Case
from shared.contracts.events import Channel, Recipient


def _documents(case: Case) -> str:
    names = "、".join(case.documents[:3])
    return names + (f"等{len(case.documents)}份" if len(case.documents) > 3 else "")


def message(channel: Channel, *, case: Case, recipient: Recipient, link: str | None, valid_days: int) -> dict[str, Any]:
    """Returns what the dispatcher sends for an attempt on `channel` (kept with the attempt so a resend says the same)."""
    if channel is Channel.voice:
        return {"court_name": case.court_name, "case_number": case.case_number, "documents": case.documents}
    assert link is not None
    intro = f"{recipient.name}：{case.court_name}向您送达{case.case_number}案件的诉讼文书（{_documents(case)}）。"
    if channel is Channel.sms:
        return {"body": f"【{case.court_name}】{intro}请于{valid_days}日内打开 {link} 查看并确认。", "token_hint": link.rsplit("/", 1)[-1], "documents": case.documents}
    subject = f"【{case.court_name}】{case.case_number} 诉讼文书送达"
    text = (
        f"{intro}\n\n"
        f"请打开以下链接查看、下载文书并确认收到（{valid_days}日内有效，仅限您本人使用）：\n{link}\n\n"
        "依照《中华人民共和国民事诉讼法》第九十条，经您同意以电子方式送达的，送达信息到达您的特定系统之日为送达日期。\n"
        f"{case.court_name}"
    )
    return {"subject": subject, "text": text, "link": link, "documents": case.documents}
