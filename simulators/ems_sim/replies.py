"""EMS's answers: the envelope around every business reply, and the refusals with the texts EMS gives them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from shared.contracts.ems_wire import (
    RET_INVALID_FIELD,
    RET_NO_RECEIPT,
    RET_NO_WAYBILL,
    RET_NOT_CANCELLABLE,
    RET_OK,
    RET_OUT_OF_AREA,
    RET_UNAUTHORISED,
    RET_UNDECRYPTABLE,
    RET_UNKNOWN_API,
    Answer,
    format_time,
)

MESSAGES: dict[str, str] = {
    RET_OK: "成功",
    RET_UNAUTHORISED: "授权码无效",
    RET_UNDECRYPTABLE: "报文解密失败",
    RET_UNKNOWN_API: "接口编码不存在",
    RET_NO_WAYBILL: "运单不存在",
    RET_NOT_CANCELLABLE: "运单已进入投递环节，不能撤单",
    RET_OUT_OF_AREA: "地址超区",
    RET_NO_RECEIPT: "回执尚未返回",
}


class Refusal(Exception):
    """A request EMS answers with a retCode other than success."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES[code]
        super().__init__(self.message)

    @classmethod
    def missing(cls, field: str) -> Refusal:
        """Returns B00001 for a required field left out or empty."""
        return cls(RET_INVALID_FIELD, f"缺少必填字段：{field}")

    @classmethod
    def invalid(cls, field: str) -> Refusal:
        """Returns B00001 for a field whose value EMS cannot use."""
        return cls(RET_INVALID_FIELD, f"字段无效：{field}")


class Outage(Exception):
    """The platform is down for this request: answered with a bare 5xx, no envelope."""


def envelope(code: str, *, now: datetime, message: str | None = None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Returns the envelope of an answer."""
    return Answer(serial_no=uuid.uuid4().hex, ret_code=code, ret_msg=message or MESSAGES[code], ret_date=format_time(now), ret_body=body).model_dump()
