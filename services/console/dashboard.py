"""The dashboard's query as the address keeps it (court, date range, grouping), read and checked; and what the page shows of evidence's KPIs: figure cards, and each chart with the table of its numbers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from services.console.texts import METHODS, TIERS, FieldError

COURT = re.compile(r"^[A-Z0-9]{2,16}$")
GROUPINGS: dict[str, str] = {"week": "按周", "court": "按法院", "agent": "按送达员"}
ITEMS: dict[str, str] = {"sms": "短信", "call": "电话", "email": "电子邮件", "court_mail": "法院专递", "visit": "上门", "posting": "张贴", "public_notice": "公告"}
NO_AGENT = "无（电子及邮寄）"


@dataclass(frozen=True)
class Query:
    """What the person asked: a court (empty: every court, for overseers), the first and last day of receipt, the grouping."""

    court: str
    start: date
    end: date
    by: str
    typed: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, str]:
        """Returns evidence's query: `court_id` (when one is chosen), `from`, `to`, `by`."""
        return ({"court_id": self.court} if self.court else {}) | {"from": self.start.isoformat(), "to": self.end.isoformat(), "by": self.by}

    def value(self, name: str) -> str:
        return self.typed.get(name, "")

    def link(self, path: str) -> str:
        """Returns `path` with the same query (the CSV's address, say)."""
        return f"{path}?{urlencode(self.params())}"

    @property
    def months(self) -> list[str]:
        """The months the range touches (2026-11), for the monthly reports' links."""
        months, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append(f"{year}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months[-12:]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read(query: Mapping[str, str], *, today: date, own_court: str | None) -> tuple[Query, list[FieldError]]:
    """Reads the dashboard's query (this month so far by default, per week), with what is wrong in it field by field; a court always reads its own court."""
    typed = {name: " ".join(str(query.get(name, "")).split())[:16] for name in ("court", "from", "to", "by")}
    errors: list[FieldError] = []
    start, end = today.replace(day=1), today
    for name in ("from", "to"):
        if typed[name]:
            day = _date(typed[name])
            if day is None:
                errors.append(FieldError(name, "请按“年-月-日”填写日期，例如 2026-11-23"))
            elif name == "from":
                start = day
            else:
                end = day
    if end < start:
        errors.append(FieldError("to", "截止日期不能早于起始日期"))
    by = typed["by"] or "week"
    if by not in GROUPINGS:
        errors.append(FieldError("by", "请从列表中选择分组方式"))
        by = "week"
    court = own_court or typed["court"]
    if court and not COURT.fullmatch(court):
        errors.append(FieldError("court", "法院编号为2至16位大写字母或数字，例如 C371002"))
        court = ""
    typed = typed | {"from": typed["from"] or start.isoformat(), "to": typed["to"] or end.isoformat(), "by": by, "court": court}
    return Query(court=court, start=start, end=end, by=by, typed=typed), errors


def percent(rate: Mapping[str, Any]) -> str:
    """Writes a share as people read it: 87.5%（7/8）; a share of nothing as —."""
    if not rate["denominator"]:
        return "—"
    return f"{_number(rate['value'] * 100)}%（{rate['numerator']}/{rate['denominator']}）"


def _number(value: float) -> str:
    """Writes a number with at most one decimal and thousands separated: 1,234.5."""
    return f"{value:,.1f}".removesuffix(".0")


def yuan(fen: float | None) -> str:
    """Writes an amount in fen as yuan: 105.77元."""
    return "—" if fen is None else f"{fen / 100:,.2f}元"


def hours(value: float | None) -> str:
    """Writes a duration in hours, and in days beyond two: 26小时, 32天."""
    if value is None:
        return "—"
    return f"{_number(value)}小时" if value < 48 else f"{_number(value / 24)}天"


@dataclass(frozen=True)
class Card:
    """One headline figure: its name, the figure as written, and what it counts."""

    label: str
    value: str
    note: str


@dataclass(frozen=True)
class Chart:
    """A chart and the table of the same numbers beside it: `series` are (name, values, unit); `rows` the table's cells."""

    id: str
    title: str
    kind: str
    categories: list[str]
    series: list[tuple[str, list[float | None], str]]
    head: list[str]
    rows: list[list[str]]

    def data(self) -> dict[str, Any]:
        """Returns what static/js/dashboard.js draws, as the page's data attribute carries it."""
        return {"kind": self.kind, "categories": self.categories, "series": [{"name": n, "values": v, "unit": u} for n, v, u in self.series]}


def _share(rate: Mapping[str, Any]) -> float | None:
    """The share in per cent to one decimal, as the tables write it."""
    return None if rate["value"] is None else round(rate["value"] * 100, 1)


def _label(key: str, label: str, by: str) -> str:
    return NO_AGENT if by == "agent" and not key else label


def cards(total: Mapping[str, Any]) -> list[Card]:
    """The headline figures of the whole range."""
    return [
        Card("送达成功率", percent(total["success"]), "已送达人数 / 已有结果的受送达人数"),
        Card("3个工作日内送达率", percent(total["within_3_working_days"]), "收案后3个工作日内送达的受送达人"),
        Card("超期送达文书率", percent(total["overdue"]), "超期文书 / 已办结或已超期的文书"),
        Card("首次尝试成功率", percent(total["first_attempt"]), "第一次尝试即送达的受送达人"),
        Card("电子送达占比", percent(total["electronic"]), "电子送达 / 已送达的受送达人"),
        Card("送达用时中位数", hours(total["time_to_serve"]["median_hours"]), f"第90百分位 {hours(total['time_to_serve']['p90_hours'])}"),
        Card("每件文书费用", yuan(total["cost_per_notice_fen"]), f"{total['notices']}件文书，合计 {yuan(total['cost_fen'])}"),
    ]


def charts(answer: Mapping[str, Any]) -> list[Chart]:
    """The charts of the answer: per group, per method, time to serve per method, cost per item."""
    total, by = answer["total"], answer.get("by") or "week"
    groups = answer["groups"]
    names = [_label(g["key"], g["label"], by) for g in groups]
    rates = (("送达成功率", "success"), ("3个工作日内送达率", "within_3_working_days"), ("超期送达文书率", "overdue"))
    per_group = Chart(
        id="chart-groups",
        title=f"{GROUPINGS[by]}：送达成功率、3个工作日内送达率、超期送达文书率",
        kind="bar",
        categories=names,
        series=[(label, [_share(g["figures"][key]) for g in groups], "%") for label, key in rates],
        head=[GROUPINGS[by].removeprefix("按"), "文书数", *(label for label, _ in rates), "每件文书费用"],
        rows=[
            [name, str(g["figures"]["notices"]), *(percent(g["figures"][key]) for _, key in rates), yuan(g["figures"]["cost_per_notice_fen"])]
            for name, g in zip(names, groups, strict=True)
        ],
    )
    methods = [m for m in METHODS if total["success_by_method"][m]["numerator"]]
    per_method = Chart(
        id="chart-methods",
        title="送达方式（占已有结果的受送达人）",
        kind="pie",
        categories=[METHODS[m] for m in methods],
        series=[("人数", [float(total["success_by_method"][m]["numerator"]) for m in methods], "人")],
        head=["送达方式", "人数", "占比"],
        rows=[[METHODS[m], str(total["success_by_method"][m]["numerator"]), percent(total["success_by_method"][m])] for m in methods],
    )
    timed = [m for m in METHODS if total["time_to_serve_by_method"][m]["count"]]
    times = Chart(
        id="chart-times",
        title="送达用时（小时）：中位数与第90百分位",
        kind="bar",
        categories=[METHODS[m] for m in timed],
        series=[
            ("中位数", [round(total["time_to_serve_by_method"][m]["median_hours"], 1) for m in timed], "小时"),
            ("第90百分位", [round(total["time_to_serve_by_method"][m]["p90_hours"], 1) for m in timed], "小时"),
        ],
        head=["送达方式", "人数", "中位数", "第90百分位"],
        rows=[
            [
                METHODS[m],
                str(total["time_to_serve_by_method"][m]["count"]),
                hours(total["time_to_serve_by_method"][m]["median_hours"]),
                hours(total["time_to_serve_by_method"][m]["p90_hours"]),
            ]
            for m in timed
        ],
    )
    tiers = Chart(
        id="chart-tiers",
        title="分层送达成功率（在本层送达 / 进入本层）",
        kind="bar",
        categories=list(TIERS.values()),
        series=[("成功率", [_share(total["success_by_tier"][t]) for t in TIERS], "%")],
        head=["送达层级", "成功率"],
        rows=[[TIERS[t], percent(total["success_by_tier"][t])] for t in TIERS],
    )
    per_notice = total["cost_per_notice_by_item_fen"]
    costs = Chart(
        id="chart-costs",
        title="每件文书费用（元）",
        kind="bar",
        categories=list(ITEMS.values()),
        series=[("每件文书", [round(per_notice.get(i, 0) / 100, 2) for i in ITEMS], "元")],
        head=["费用项目", "合计", "每件文书"],
        rows=[[ITEMS[i], yuan(total["cost_by_item_fen"][i]), yuan(per_notice.get(i))] for i in ITEMS],
    )
    return [per_group, tiers, per_method, times, costs]
