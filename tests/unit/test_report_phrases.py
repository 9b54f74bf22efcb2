"""The report's Chinese pages carry no English: delivery's attempt details and reasons, remarks and the new service facts are all put in Chinese."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.evidence import phrases
from services.evidence.phrases import UNKNOWN, Phrase, english, phrase, remark
from services.evidence.rendering import render_html
from shared.contracts.events import Channel, ConsentForm, EDeliveryChannel, Exhausted, ReturnReason, ServiceMethod, SignerRole, Tier, Witness
from shared.contracts.evidence import EvidenceFlag
from shared.contracts.report import Acknowledgement, AttemptEntry, ConsentUsed, LitigationAgent
from tests.reports import english_words, sample_report

DOMAIN = Path(__file__).parents[2] / "services" / "delivery" / "domain"

# Every expression delivery's domain gives an attempt as its `detail` or `reason` (source as ast.unparse prints it), with what it can
# produce. A new phrase in services/delivery/domain fails the test below until it is listed here and services/evidence/phrases.py says it in Chinese.
PRODUCED: dict[str, list[str]] = {
    "f'{event.status}' + (f' (error {event.error_code})' if event.error_code else '')": [
        *phrases.PROVIDER_STATUS,
        *(f"{status} (error 30003)" for status in phrases.PROVIDER_STATUS),
    ],
    "{ServiceMethod.direct: 'served in person', ServiceMethod.refusal: 'refused; documents left (留置)', ServiceMethod.posting: 'notice posted at the address'}[claim.method]": [
        "served in person",
        "refused; documents left (留置)",
        "notice posted at the address",
    ],
    "'no return receipt in time'": ["no return receipt in time"],
    "'no delivery receipt in time'": ["no delivery receipt in time"],
    '"reached the recipient\'s system"': ["reached the recipient's system"],
    "f\"evidence flagged: {', '.join(flags)}; revisit ordered by {event.by}: {event.reason}\"": [
        f"evidence flagged: {', '.join(sorted(EvidenceFlag))}; revisit ordered by sup-1: 照片不清晰",
    ],
    "f'published {event.published_on.isoformat()}'": ["published 2026-11-25"],
    "f'returned: {reason.value}'": [f"returned: {reason.value}" for reason in ReturnReason],
    "f'return receipt signed by {event.signer.role}'": [f"return receipt signed by {role.value}" for role in SignerRole],
    "'call answered, notice read'": ["call answered, notice read"],
    "event.note or 'recipient not found at the address'": ["recipient not found at the address", "邻居称受送达人已外出务工"],
    "'recipient moved'": ["recipient moved"],
    "'service reported without the signature on the 送达回证 (CPL 87, 88)'": ["service reported without the signature on the 送达回证 (CPL 87, 88)"],
    "f'returned ({reason.value}); deemed served'": [f"returned ({reason.value}); deemed served" for reason in ReturnReason],
    "f'return receipt signed by {event.signer.role}, who may not sign'": [f"return receipt signed by {role.value}, who may not sign" for role in SignerRole],
    "'acknowledged on the e-delivery page'": ["acknowledged on the e-delivery page"],
    "f'carrier refused the booking: {event.reason}'": ["carrier refused the booking: 收寄地址超出服务范围"],
    "f'{event.signer.role} may not sign for the recipient (CPL 88)'": [f"{role.value} may not sign for the recipient (CPL 88)" for role in SignerRole],
    '"reached the recipient\'s system; no bounce"': ["reached the recipient's system; no bounce"],
    "'documents opened on the e-delivery page'": ["documents opened on the e-delivery page"],
    "'the recipient replied to the message'": ["the recipient replied to the message"],
    "'系统显示受送达人已阅读，推定送达（《人民法院在线诉讼规则》第31条第2款）'": ["系统显示受送达人已阅读，推定送达（《人民法院在线诉讼规则》第31条第2款）"],
    "'arrived at an address the recipient did not confirm, but neither acknowledged nor read in time: not served (OLR Art. 31(2))'": [
        "arrived at an address the recipient did not confirm, but neither acknowledged nor read in time: not served (OLR Art. 31(2))"
    ],
    "'arrived, but not acknowledged in time: not served'": ["arrived, but not acknowledged in time: not served"],
}
EVERY_PHRASE = [text for texts in PRODUCED.values() for text in texts]


def _has_words(node: ast.expr) -> bool:
    """Whether an expression can produce words: a non-empty string literal or an f-string in it (a bare variable or enum cannot)."""
    return any((isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value) or isinstance(n, ast.JoinedStr) for n in ast.walk(node))


def produced_by_delivery() -> set[str]:
    """Returns each `detail=`/`reason=` argument or assignment, and each string a `*_reason` function returns, with words in it across services/delivery/domain, as source."""
    found: set[str] = set()
    for module in sorted(DOMAIN.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call):
                values = [keyword.value for keyword in node.keywords if keyword.arg in ("detail", "reason")]
            elif isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and target.id in ("detail", "reason") for target in node.targets):
                values = [node.value]
            elif isinstance(node, ast.FunctionDef) and node.name.endswith("_reason"):
                # A function that words a reason (e.g. machine._overdue_reason): each string it returns.
                values = [ret.value for ret in ast.walk(node) if isinstance(ret, ast.Return) and ret.value is not None and isinstance(ret.value, ast.Constant)]
            found.update(ast.unparse(value) for value in values if _has_words(value))
    return found


def test_every_phrase_delivery_produces_is_listed() -> None:
    found = produced_by_delivery()
    assert sorted(found - set(PRODUCED)) == [], "new phrases in services/delivery/domain: list them in PRODUCED and say them in services/evidence/phrases.py"
    assert sorted(set(PRODUCED) - found) == [], "phrases no longer produced by delivery: remove them from PRODUCED"


@pytest.mark.parametrize("text", EVERY_PHRASE)
def test_every_phrase_delivery_produces_is_said_in_chinese(text: str) -> None:
    said = phrase(text)
    assert said.raw is None and not english(said.text) and re.search(r"[\u4e00-\u9fff]", said.text), said


@pytest.mark.parametrize(
    ("text", "chinese"),
    [
        ("reached the recipient's system", "送达信息已到达受送达人特定系统"),
        ("call answered, notice read", "电话已接通，已告知送达事项"),
        ("served in person", "已当面送达并签收"),
        ("no delivery receipt in time", "规定时间内未收到送达回执"),
        ("returned (refused); deemed served", "法院专递被退回（拒收），视为送达"),
        ("recipient not found at the address", "在该地址未找到受送达人"),
        ("undelivered", "服务商回执：未能送达"),
        ("no-answer (error 30003)", "无人接听（错误码 30003）"),
        ("family_member may not sign for the recipient (CPL 88)", "同住成年家属无权代受送达人签收（民事诉讼法第88条）"),
        ("return receipt signed by opposing_party, who may not sign", "回执由对方当事人签收，其无权代收，不发生送达效力"),
        ("published 2026-11-25", "已于2026年11月25日发布公告"),
        (
            "evidence flagged: far_from_address, no_gps; revisit ordered by sup-1: 请重新拍照",
            "证据存在核查提示（拍摄地点距送达地址较远、无定位信息），督办人员（sup-1）要求重新送达：请重新拍照",
        ),
        # An agent's note in Chinese stays as it was written.
        ("无人在家，邻居称受送达人白天外出务工", "无人在家，邻居称受送达人白天外出务工"),
    ],
)
def test_a_phrase_in_chinese(text: str, chinese: str) -> None:
    assert phrase(text) == Phrase(chinese)


@pytest.mark.parametrize(
    "text",
    [
        "550 5.1.1 user unknown",
        "carrier refused the booking: address out of range",
        "evidence flagged: far_from_address; revisit ordered by sup-1: photo is blurred",
        "returned: lost_in_transit",
        "sleeping (error 1)",
        "nobody at the address",
    ],
)
def test_an_unknown_phrase_is_named_generically_with_its_raw_text_aside(text: str) -> None:
    assert phrase(text) == Phrase(UNKNOWN, raw=text)


def test_remarks_in_chinese() -> None:
    assert remark("reported_before_window") == Phrase("早于预约时段报告")
    assert remark("something_new") == Phrase(UNKNOWN, raw="something_new")


# --- The rendered page ---


def every_phrase_report() -> str:
    """A report whose attempts carry every phrase delivery produces, with the certificate, consent, lawyer, presumed and deemed facts."""
    base = sample_report()
    company = base.recipients[1]
    template = company.attempts[0]
    attempts = [template.model_copy(update={"sequence": n, "attempt_id": f"att-{n}", "detail": text, "result": "failed"}) for n, text in enumerate(EVERY_PHRASE, start=1)]
    first = attempts[0].model_copy(update={"result": "succeeded", "remarks": ["reported_before_window"]})
    superseded: AttemptEntry = template.model_copy(
        update={"sequence": len(attempts) + 1, "attempt_id": "att-late", "detail": None, "result": "superseded", "superseded_by": "att-1"}
    )
    exhausted = [Exhausted(tier=Tier.electronic, channel=Channel.sms, target="139****1234", reason=text, at=datetime(2026, 11, 16, 1, tzinfo=UTC)) for text in EVERY_PHRASE]
    acknowledgement = Acknowledgement(
        attempt_id="att-1",
        at=datetime(2026, 11, 16, 1, 31, tzinfo=UTC),
        ip="203.0.113.9",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        by="zhao.lawyer",
        receipt=template.evidence[0],
    )
    consent = ConsentUsed(
        channel=EDeliveryChannel.lawyer_firm,
        address="o***@lawfirm.example",
        form=ConsentForm.pre_agreed,
        source="山东某某律师事务所与本院签订的电子送达协议（2026年1月）",
        source_case="（2026）鲁1002民初0999号",
        confirmed_on=date(2026, 1, 5),
        address_confirmed=False,
    )
    served = company.model_copy(
        update={
            "attempts": [first, *attempts[1:], superseded],
            "deciding_attempt_id": "att-1",
            "exhausted": exhausted,
            "acknowledgements": [acknowledgement],
            "consent": consent,
            "presumed": True,
            "deemed": True,
            "deemed_reason": "系统显示受送达人已阅读",
            "lawyer": LitigationAgent(name="赵律师", firm="山东某某律师事务所"),
        }
    )
    zhang = base.recipients[0].model_copy(
        update={"witness": Witness(name="王五", organisation="新威路社区居委会", witnessed_on=date(2026, 11, 17), refusal_reason="称与原告无借款关系")}
    )
    return render_html(sample_report(recipients=[zhang, served], due_date="2026-11-26"))


def test_a_report_with_every_phrase_has_no_english_in_its_chinese_text() -> None:
    html = every_phrase_report()
    assert english_words(html) == []
    for text in EVERY_PHRASE:
        assert phrase(text).text in html
    assert "原文" not in html  # every phrase is known: no raw text was needed


def test_the_certificate_and_the_new_facts_are_on_the_page() -> None:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", every_phrase_report()))
    assert "电子送达凭证" in text and "2026年11月16日 09:31 诉讼代理人（律师）赵律师，山东某某律师事务所 律师账号 zhao.lawyer 203.0.113.9 Mozilla/5.0 (X11; Linux x86_64)" in text
    assert "签收人 诉讼代理人（律师）赵律师，山东某某律师事务所在线签收（2026年11月16日 09:31，详见电子送达凭证）" in text
    assert "诉讼代理人（律师）：赵律师，山东某某律师事务所" in text
    assert "电子送达依据：诉前约定（含律所送达协议、合同条款），山东某某律师事务所与本院签订的电子送达协议（2026年1月）。" in text
    assert "该电子送达地址并非受送达人提供或确认（《人民法院在线诉讼规则》第三十一条第二款）。" in text
    assert "推定送达" in text and "推定送达理由：系统显示受送达人已阅读。" in text
    assert "王五（新威路社区居委会）；见证日期：2026年11月17日；拒收理由：称与原告无借款关系" in text
    assert "已取代 已由先完成的送达取代（第 1 次送达）" in text and "〔早于预约时段报告〕" in text
    assert "送达期限 2026年11月26日 （本报告出具时的期限）" in text and "送达期限 2026年11月26日（本报告出具时）" in text


def test_an_unknown_phrase_is_shown_generically_with_a_muted_raw_note() -> None:
    base = sample_report()
    zhang = base.recipients[0]
    odd = zhang.attempts[0].model_copy(update={"detail": "550 5.1.1 mailbox unavailable"})
    html = render_html(sample_report(recipients=[zhang.model_copy(update={"attempts": [odd, *zhang.attempts[1:]]})]))
    assert f'{UNKNOWN}<span class="raw">原文：<span class="code">550 5.1.1 mailbox unavailable</span></span>' in html
    assert english_words(html) == []


@pytest.mark.parametrize(("by", "words"), [("reply:sms", "受送达人回复短信确认收到"), ("reply:email", "受送达人回复电子邮件确认收到")])
def test_a_reply_is_named_as_the_recipients_own_and_shows_no_lawyers_account(by: str, words: str) -> None:
    base = sample_report()
    company = base.recipients[1]
    reply = Acknowledgement(
        attempt_id=company.attempts[0].attempt_id, at=datetime(2026, 11, 16, 1, 31, tzinfo=UTC), ip=None, user_agent=None, by=by, receipt=company.attempts[0].evidence[0]
    )
    served = company.model_copy(update={"acknowledgements": [reply], "deciding_attempt_id": company.attempts[0].attempt_id, "method": ServiceMethod.electronic, "served": True})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", render_html(sample_report(recipients=[base.recipients[0], served]))))
    assert f"签收人 {words}（2026年11月16日 09:31，详见电子送达凭证）" in text
    # The certificate's row: the time, who, and no address or browser (a reply has none).
    assert f"2026年11月16日 09:31 {words} " in text
    assert "律师账号" not in text and by not in text
