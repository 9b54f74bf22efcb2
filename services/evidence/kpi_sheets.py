"""The KPIs as people read them: in Chinese, as CSV for Excel, and the monthly supervision report (月度考核报表) as Excel and PDF."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from openpyxl import Workbook
from openpyxl.styles import Font

from services.evidence.domain.kpis import Figures, Grouping, Item, Rate
from services.evidence.handlers import Kpis, Monthly
from services.evidence.rendering import TEMPLATES
from shared.contracts.events import ServiceMethod, Tier
from shared.contracts.labels import METHOD, TIER
from shared.plumbing import pdf
from shared.plumbing.clock import SHANGHAI

ITEM: dict[Item, str] = {
    Item.sms: "短信",
    Item.call: "电话",
    Item.email: "电子邮件",
    Item.court_mail: "法院专递",
    Item.visit: "上门",
    Item.posting: "张贴",
    Item.public_notice: "公告",
}

GROUPING: dict[Grouping, str] = {Grouping.court: "法院", Grouping.agent: "送达人员", Grouping.week: "周"}

# Recipients no agent had a task for were served (or not) by messages, calls and mail alone.
NO_AGENT = "无（电子及邮寄）"

Cell = str | int | float | None


def percent(rate: Rate) -> float | None:
    """The share in per cent, to two decimals; None over nothing."""
    return None if rate.value is None else round(float(rate.value * 100), 2)


def fraction(rate: Rate) -> str:
    return f"{rate.numerator}/{rate.denominator}"


def hours(duration: timedelta | None) -> float | None:
    return None if duration is None else round(duration.total_seconds() / 3600, 2)


def yuan(fen: int | Fraction | None) -> float | None:
    return None if fen is None else round(float(Fraction(fen) / 100), 2)


@dataclass(frozen=True)
class Column:
    """One figure of a group as a column of the CSV and the Excel sheets: its heading and how it is read."""

    heading: str
    read: Callable[[Figures], Cell]


def _rate(heading: str, pick: Callable[[Figures], Rate]) -> list[Column]:
    return [Column(f"{heading}（%）", lambda f: percent(pick(f))), Column(f"{heading}（分子/分母）", lambda f: fraction(pick(f)))]


def _tier(tier: Tier) -> Callable[[Figures], Rate]:
    return lambda f: f.success_by_tier[tier]


def _method(method: ServiceMethod) -> Callable[[Figures], Rate]:
    return lambda f: f.success_by_method[method]


def _median(method: ServiceMethod) -> Callable[[Figures], Cell]:
    return lambda f: hours(f.time_to_serve_by_method[method].median)


def _p90(method: ServiceMethod) -> Callable[[Figures], Cell]:
    return lambda f: hours(f.time_to_serve_by_method[method].p90)


def _per_notice(item: Item) -> Callable[[Figures], Cell]:
    return lambda f: yuan(f.cost_per_notice_by_item_fen.get(item))


def _columns() -> list[Column]:
    columns = [
        Column("文书数", lambda f: f.notices),
        Column("受送达人数", lambda f: f.recipients),
        Column("已有结果人数", lambda f: f.settled),
        Column("已送达人数", lambda f: f.served),
        Column("办理中人数", lambda f: f.open),
        *_rate("送达成功率", lambda f: f.success),
    ]
    for tier in Tier:
        columns += _rate(f"{TIER[tier]}层成功率", _tier(tier))
    for method in ServiceMethod:
        columns += _rate(f"{METHOD[method]}占比", _method(method))
    columns += [
        Column("送达用时中位数（小时）", lambda f: hours(f.time_to_serve.median)),
        Column("送达用时第90百分位（小时）", lambda f: hours(f.time_to_serve.p90)),
    ]
    for method in ServiceMethod:
        columns += [
            Column(f"{METHOD[method]}用时中位数（小时）", _median(method)),
            Column(f"{METHOD[method]}用时第90百分位（小时）", _p90(method)),
        ]
    columns += [
        *_rate("3个工作日内送达率", lambda f: f.within_working_days),
        *_rate("超期送达文书率", lambda f: f.overdue),
        *_rate("首次尝试成功率", lambda f: f.first_attempt),
        *_rate("电子送达占比", lambda f: f.electronic),
        Column("费用合计（元）", lambda f: yuan(f.cost_fen)),
        Column("每件文书费用（元）", lambda f: yuan(f.cost_per_notice_fen)),
    ]
    columns += [Column(f"每件文书{ITEM[item]}费用（元）", _per_notice(item)) for item in Item]
    columns.append(Column("未计价尝试数", lambda f: f.uncosted_attempts))
    return columns


COLUMNS = _columns()


def group_label(key: str, by: Grouping | None, court_names: dict[str, str]) -> str:
    """A group's name as the sheets show it: a court's name, an agent's id, a week."""
    if by is Grouping.court:
        return court_names.get(key, key)
    if by is Grouping.agent:
        return key or NO_AGENT
    return key


def table(result: Kpis) -> list[list[Cell]]:
    """The groups' rows and a total row, each headed by its group, under one heading row."""
    first = GROUPING[result.by] if result.by else "范围"
    rows: list[list[Cell]] = [[first, *(c.heading for c in COLUMNS)]]
    for key, figures in result.groups:
        rows.append([group_label(key, result.by, result.court_names), *(c.read(figures) for c in COLUMNS)])
    rows.append(["合计", *(c.read(result.total) for c in COLUMNS)])
    return rows


def to_csv(result: Kpis) -> bytes:
    """The table as CSV in UTF-8 with a byte-order mark, which Excel needs to read Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(["" if cell is None else cell for cell in row] for row in table(result))
    return out.getvalue().encode("utf-8-sig")


def _summary(monthly: Monthly) -> list[tuple[str, Cell]]:
    """The month's total, one figure a line."""
    total = monthly.weeks.total
    return [(c.heading, c.read(total)) for c in COLUMNS]


def month_title(monthly: Monthly) -> str:
    return f"{monthly.court_name} {monthly.month.year}年{monthly.month.month}月 送达工作月度考核报表"


def to_xlsx(monthly: Monthly) -> bytes:
    """The monthly report as a workbook: the month's figures (汇总), then per week (按周) and per agent (按送达人员)."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "汇总"
    summary.append([month_title(monthly)])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append(["统计口径", f"收案日期 {monthly.weeks.start} 至 {monthly.weeks.end}（北京时间），数据截至 {_local(monthly.weeks.as_of)}"])
    summary.append(["指标", "数值"])
    for heading, value in _summary(monthly):
        summary.append([heading, value])
    summary.column_dimensions["A"].width = 36
    summary.column_dimensions["B"].width = 48
    weekly = book.create_sheet("按周")
    for row in table(monthly.weeks):
        weekly.append(row)
    agents = book.create_sheet("按送达人员")
    per_agent = Kpis(
        court_id=monthly.court_id,
        start=monthly.weeks.start,
        end=monthly.weeks.end,
        by=Grouping.agent,
        as_of=monthly.weeks.as_of,
        total=monthly.weeks.total,
        groups=monthly.agents,
        court_names=monthly.weeks.court_names,
    )
    for row in table(per_agent):
        agents.append(row)
    for sheet in (weekly, agents):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)


def render_monthly_html(monthly: Monthly) -> str:
    """The monthly report as a printable page in Chinese."""
    total = monthly.weeks.total
    methods = [
        (METHOD[m], total.success_by_method[m], total.time_to_serve_by_method[m])
        for m in ServiceMethod
        if total.success_by_method[m].numerator or total.time_to_serve_by_method[m].count
    ]
    return (
        _environment()
        .get_template("monthly.html")
        .render(
            title=month_title(monthly),
            monthly=monthly,
            total=total,
            as_of=_local(monthly.weeks.as_of),
            headline=[
                ("送达成功率", total.success),
                ("3个工作日内送达率", total.within_working_days),
                ("超期送达文书率", total.overdue),
                ("首次尝试成功率", total.first_attempt),
                ("电子送达占比", total.electronic),
            ],
            tiers=[(TIER[t], total.success_by_tier[t]) for t in Tier],
            methods=methods,
            items=[(ITEM[i], total.cost_by_item_fen[i], total.cost_per_notice_by_item_fen.get(i)) for i in Item],
            weeks=monthly.weeks.groups,
            agents=[(key or NO_AGENT, figures) for key, figures in monthly.agents],
            percent=percent,
            fraction=fraction,
            hours=hours,
            yuan=yuan,
        )
    )


def render_monthly_pdf(monthly: Monthly) -> bytes:
    """The monthly report as an A4 PDF with its Chinese fonts embedded; raises RuntimeError when no Chinese font is installed."""
    return pdf.html_to_pdf(render_monthly_html(monthly), base_url=str(TEMPLATES))
