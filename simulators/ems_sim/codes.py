"""EMS's trace codes, and the names and descriptions the simulator writes for them, as docs/ems.md gives them."""

from __future__ import annotations

from typing import Literal

OP_NAMES: dict[str, str] = {
    "203": "收寄",
    "310": "离开处理中心",
    "306": "到达投递机构",
    "702": "安排投递",
    "704": "妥投",
    "705": "未妥投",
    "706": "拒收",
    "711": "退回",
    "801": "回执返回",
}
# Songda's normalised status after each code; /sim/waybills shows it.
STATUSES: dict[str, str] = {
    "203": "accepted",
    "310": "in_transit",
    "306": "arrived",
    "702": "out_for_delivery",
    "704": "delivered",
    "705": "delivery_failed",
    "706": "refused",
    "711": "returned",
    "801": "receipt_returned",
}
# Once a postman has taken the item out, EMS no longer lets the sender cancel it.
OUT_FOR_DELIVERY = frozenset({"702", "704", "705", "706", "711", "801"})

Signer = Literal["recipient", "family", "mail_room", "other"]
ReturnReason = Literal["unclaimed", "address_wrong", "moved", "whereabouts_unknown"]

# Who signed: the relation the return receipt gives, and the 704 description (`{name}` is the signer).
SIGNERS: dict[str, tuple[str, str]] = {
    "recipient": ("本人", "已签收，本人签收"),
    "family": ("家人", "已签收，代签收【家人：{name}】"),
    "mail_room": ("收发室", "已签收，单位收发室签收【收发室：{name}】"),
    "other": ("邻居", "已签收，他人代收【邻居：{name}】"),
}
# Why the item is returned: what each failed attempt (705) says, and the reason 711 gives.
RETURNS: dict[str, tuple[str, str]] = {
    "unclaimed": ("收件人不在，电话无法接通", "招领期满无人领取"),
    "address_wrong": ("地址不详", "地址错误"),
    "moved": ("查无此人", "收件人已迁移新址不明"),
    "whereabouts_unknown": ("查无此人", "收件人下落不明"),
}
REFUSED = "收件人拒收"
# An attempt that fails before a later one succeeds: nobody was in.
NOBODY_IN = RETURNS["unclaimed"][0]
