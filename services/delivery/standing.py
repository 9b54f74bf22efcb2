"""What a task report did, in the answer to the agent: counted, held for a supervisor and why, or waiting for its evidence."""

from __future__ import annotations

from services.delivery.domain import law
from services.delivery.domain.machine import blocking
from services.delivery.domain.state import AttemptStatus, RecipientState, RecipientStatus
from services.delivery.policy import Policy
from services.delivery.requests import Standing, StandingState
from shared.contracts.events import ServiceMethod

# Evidence's blocking flags (shared.contracts.evidence.EvidenceFlag) in the agent's words.
FLAG_WORDS: dict[str, str] = {
    "far_from_address": "照片拍摄地点距送达地址较远",
    "time_mismatch": "照片拍摄时间与报告时间不符",
    "edited_by_software": "照片经过编辑软件处理",
    "exif_stripped": "照片缺少拍摄信息（可能经过压缩或转发）",
    "no_gps": "照片没有位置信息",
    "no_reference_location": "送达地址没有坐标，无法核对拍摄地点",
}
REMARK_WORDS: dict[str, str] = {law.REPORTED_BEFORE_WINDOW: "报告的时间早于本次任务的时间窗口，已标注供主管查看。"}
_OUTCOME_WORDS: dict[RecipientStatus, str] = {
    RecipientStatus.served: "已计入送达。",
    RecipientStatus.notice_period: "已计入：张贴之日起经过三十日，即视为送达（民事诉讼法第95条）。",
}


def standing(state: RecipientState, *, attempt_id: str, policy: Policy, waiting: list[str]) -> Standing:
    """Returns where the report of `attempt_id` stands in `state`, with its remarks; `waiting` names the items evidence has not recorded yet."""
    attempt = state.attempt(attempt_id)
    remarks = list(attempt.remarks) if attempt else []
    noted = "".join(REMARK_WORDS.get(r, r) for r in remarks)
    claim = state.claim if state.claim is not None and state.claim.attempt_id == attempt_id else None
    if claim is not None and state.status is RecipientStatus.held:
        reasons = [f"{FLAG_WORDS.get(flag, flag)}（{item}）" for item, flags in blocking(claim, policy).items() for flag in flags]
        message = f"送达暂不生效，已暂缓：{'；'.join(reasons)}。送达主管将审核证据，决定认可或安排重新上门。"
        return Standing(state=StandingState.held, reasons=reasons, remarks=remarks, message_zh=message + noted)
    if claim is not None and state.status is RecipientStatus.awaiting_evidence:
        message = f"报告已收到，正在等待证据登记核验（{'、'.join(waiting)}）；核验无异常即计入，存疑的由送达主管审核。"
        return Standing(state=StandingState.awaiting_evidence, reasons=[], remarks=remarks, message_zh=message + noted)
    served = state.served
    if served is not None and served.attempt_id == attempt_id and served.deemed_reason:
        message = f"已计入：{served.deemed_reason}。"
    elif served is not None and served.attempt_id == attempt_id and served.method is ServiceMethod.direct:
        message = f"已计入：受送达人已签收：直接送达（{served.basis}）。"
    elif attempt is not None and attempt.status is AttemptStatus.failed:
        message = "报告已记录：本次未能送达，系统将安排后续送达。"
    else:
        message = _OUTCOME_WORDS.get(state.status, "报告已记录。")
    return Standing(state=StandingState.counted, reasons=[], remarks=remarks, message_zh=message + noted)
