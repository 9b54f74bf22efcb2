"""The KPIs from a known history: every figure exact, in agreement with the reports assembled from the same events, the API's store and the monthly report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from services.evidence import handlers, kpi_sheets
from services.evidence.domain import kpis
from services.evidence.domain.kpis import Grouping, Item, Rate, figures, fold, grouped, received_between
from services.evidence.domain.report import assemble
from services.evidence.models import EvidenceKpiFact
from shared.contracts.events import ServiceMethod, Tier
from shared.plumbing.auth import Principal, Role
from shared.plumbing.problems import Problem
from tests import histories
from tests.pdfs import pdf_pages
from tests.unit.test_evidence_handlers import consume
from tests.unit.test_evidence_handlers import deps as deps  # noqa: F401 (the fixture)
from tests.unit.test_report_assembly import CHECKPOINT, logged

AS_OF = datetime(2027, 1, 10, tzinfo=UTC)
A, B = histories.COURT, histories.OTHER_COURT
ONE, TWO = histories.AGENTS


def all_facts() -> list[kpis.RecipientFact]:
    return [fact for history in histories.kpi_notices() for fact in fold([event for _, event in history.events])]


def test_every_kpi_over_the_known_history() -> None:
    f = figures(all_facts(), as_of=AS_OF)
    assert (f.notices, f.recipients, f.settled, f.served, f.open) == (7, 9, 8, 7, 1)
    assert f.success == Rate(7, 8) and f.success.value == Fraction(7, 8)
    assert f.success_by_tier == {Tier.electronic: Rate(1, 6), Tier.direct: Rate(2, 4), Tier.postal: Rate(2, 3), Tier.posting: Rate(1, 1), Tier.public_notice: Rate(1, 1)}
    assert {m: r.numerator for m, r in f.success_by_method.items()} == {
        ServiceMethod.electronic: 1,
        ServiceMethod.direct: 1,
        ServiceMethod.refusal: 1,
        ServiceMethod.postal: 2,
        ServiceMethod.posting: 1,
        ServiceMethod.public_notice: 1,
    }
    assert {r.denominator for r in f.success_by_method.values()} == {8}
    # 65 min, 20 h, 26 h, 72 h, 72 h, 744 h, 768 h: the 4th is the median, the ⌈6.3⌉ = 7th the 90th percentile.
    assert (f.time_to_serve.count, f.time_to_serve.median, f.time_to_serve.p90) == (7, timedelta(hours=72), timedelta(hours=768))
    by_method = {m: (d.count, d.median, d.p90) for m, d in f.time_to_serve_by_method.items()}
    assert by_method == {
        ServiceMethod.electronic: (1, timedelta(minutes=65), timedelta(minutes=65)),
        ServiceMethod.direct: (1, timedelta(hours=26), timedelta(hours=26)),
        ServiceMethod.refusal: (1, timedelta(hours=20), timedelta(hours=20)),
        ServiceMethod.postal: (2, timedelta(hours=72), timedelta(hours=72)),
        ServiceMethod.posting: (1, timedelta(hours=768), timedelta(hours=768)),
        ServiceMethod.public_notice: (1, timedelta(hours=744), timedelta(hours=744)),
    }
    # In time: N1's two, N2, N3 (on its third working day), N5's deemed mail; counted: the 8 settled and N7's open visit, its 3 days over.
    assert f.within_working_days == Rate(5, 9)
    assert f.overdue == Rate(4, 7)
    assert f.first_attempt == Rate(3, 8)
    assert f.electronic == Rate(1, 7)
    assert f.cost_by_item_fen == {Item.sms: 25, Item.call: 15, Item.email: 1, Item.court_mail: 6000, Item.visit: 30000, Item.posting: 8000, Item.public_notice: 30000}
    assert (f.cost_fen, f.cost_per_notice_fen, f.uncosted_attempts) == (74041, Fraction(74041, 7), 0)
    assert f.cost_per_notice_by_item_fen[Item.court_mail] == Fraction(6000, 7)


def test_per_court_agent_and_week() -> None:
    facts = all_facts()
    courts = dict(grouped(facts, Grouping.court, as_of=AS_OF))
    a, b = courts[A], courts[B]
    assert (a.notices, a.recipients, a.success, a.within_working_days, a.overdue, a.first_attempt, a.electronic) == (
        4,
        5,
        Rate(5, 5),
        Rate(3, 5),
        Rate(2, 4),
        Rate(1, 5),
        Rate(1, 5),
    )
    assert (a.cost_fen, a.cost_per_notice_fen) == (56035, Fraction(56035, 4))
    assert (b.notices, b.recipients, b.success, b.within_working_days, b.overdue, b.first_attempt, b.electronic) == (
        3,
        4,
        Rate(2, 3),
        Rate(2, 4),
        Rate(2, 3),
        Rate(2, 3),
        Rate(0, 2),
    )
    assert (b.cost_fen, b.cost_per_notice_fen) == (18006, 6002)
    agents = dict(grouped(facts, Grouping.agent, as_of=AS_OF))
    assert list(agents) == ["", ONE, TWO]
    assert (agents[ONE].recipients, agents[ONE].success, agents[ONE].notices, agents[ONE].cost_per_notice_fen) == (2, Rate(1, 2), 2, Fraction(14021, 2))
    assert (agents[TWO].recipients, agents[TWO].success, agents[TWO].within_working_days, agents[TWO].overdue, agents[TWO].cost_fen) == (
        3,
        Rate(2, 2),
        Rate(1, 3),
        Rate(2, 3),
        26010,
    )
    assert (agents[""].recipients, agents[""].success, agents[""].cost_per_notice_fen) == (4, Rate(4, 4), Fraction(34010, 4))
    weeks = dict(grouped(facts, Grouping.week, as_of=AS_OF))
    assert list(weeks) == ["2026-W48", "2026-W49"]
    w48, w49 = weeks["2026-W48"], weeks["2026-W49"]
    assert (w48.notices, w48.success, w48.within_working_days, w48.overdue, w48.cost_per_notice_fen) == (3, Rate(4, 4), Rate(4, 4), Rate(0, 3), Fraction(14025, 3))
    assert (w49.notices, w49.success, w49.within_working_days, w49.overdue, w49.cost_per_notice_fen) == (4, Rate(3, 4), Rate(1, 5), Rate(4, 4), Fraction(60016, 4))
    # A date range counts by the day of receipt in Beijing: 30 November to 6 December is week 49.
    assert figures(received_between(facts, start=date(2026, 11, 30), end=date(2026, 12, 6)), as_of=AS_OF) == w49


def test_the_figures_agree_with_the_reports_of_the_same_events() -> None:
    for history in histories.kpi_notices():
        events = logged(history)
        report = assemble(events=events, items=[], checkpoint=CHECKPOINT, version=1, previous_sha256=None, now=AS_OF)
        facts = {f.recipient_id: f for f in fold([e.event for e in events])}
        for shown in report.recipients:
            fact = facts[shown.recipient_id]
            assert (fact.method, fact.service_date, fact.deemed, fact.served_at, fact.deciding_attempt_id) == (
                shown.method,
                shown.service_date,
                shown.deemed,
                shown.served_at,
                shown.deciding_attempt_id,
            )
            assert [(a.attempt_id, a.tier, a.channel, a.result) for a in fact.attempts] == [(a.attempt_id, a.tier, a.channel, a.result) for a in shown.attempts]
        completed = {f.notice_completed_at is not None for f in facts.values()} == {True}
        assert report.overdue == (completed and all(f.notice_overdue for f in facts.values()))


def test_the_fold_does_not_depend_on_a_late_registration() -> None:
    [history] = histories.kpi_notices()[:1]
    events = [event for _, event in history.events]
    assert fold([*events[1:], events[0]]) == fold(events)
    assert fold(events[1:]) == []


@pytest.mark.parametrize(
    "together",
    [
        # Each event in its own transaction, the registration just before the completion.
        [[index] for index in (*range(1, 10), 0, 10)],
        # Some events before the registration in earlier transactions, some in the registration's own.
        [[1, 2], [3, 4, 0, 5], [6, 7, 8, 9, 10]],
        # All of them in one transaction, the registration in the middle.
        [[1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10]],
    ],
)
async def test_facts_stored_for_a_late_registration_fold_every_event_logged(deps, together: list[list[int]]) -> None:  # noqa: F811
    [history] = histories.kpi_notices()[:1]
    await consume(deps, history, together=together)
    async with deps.db.sessions() as session:
        stored = [kpis.RecipientFact.model_validate(fact) for fact in (await session.exec(select(EvidenceKpiFact.fact))).all()]
    logged = [history.events[index][1] for group in together for index in group]
    expected = fold(logged)
    assert len(expected) == len(history.events[0][1].recipients) > 0
    assert sorted(stored, key=lambda f: f.recipient_id) == sorted(expected, key=lambda f: f.recipient_id)


async def test_consumed_events_become_facts_and_the_api_reads_them(deps, tmp_path: Path) -> None:  # noqa: F811
    for history in histories.kpi_notices():
        await consume(deps, history)
    deps.clock.at = AS_OF
    supervisor = Principal("sup", Role.supervisor)
    everything = await handlers.read_kpis(deps, principal=supervisor, court_id=None, start=None, end=None, by=Grouping.court)
    assert everything.total == figures(all_facts(), as_of=AS_OF)
    assert [key for key, _ in everything.groups] == [A, B] and everything.court_names == histories.COURT_NAMES
    # A court reads its own court's figures; asking for another court's reads like a court without notices.
    own = await handlers.read_kpis(deps, principal=Principal(A, Role.court), court_id=None, start=None, end=None, by=None)
    assert (own.court_id, own.total.recipients, own.total.success) == (A, 5, Rate(5, 5))
    other = await handlers.read_kpis(deps, principal=Principal(A, Role.court), court_id=B, start=None, end=None, by=None)
    assert (other.total.recipients, other.total.success) == (0, Rate(0, 0))
    week = await handlers.read_kpis(deps, principal=supervisor, court_id=B, start=date(2026, 11, 30), end=date(2026, 12, 6), by=Grouping.week)
    assert [(key, f.recipients) for key, f in week.groups] == [("2026-W49", 3)]

    table = list(csv.reader(io.StringIO(kpi_sheets.to_csv(everything).decode("utf-8-sig"))))
    assert kpi_sheets.to_csv(everything).startswith(b"\xef\xbb\xbf")
    header, total = table[0], table[-1]
    assert [row[0] for row in table] == ["法院", "威海市环翠区人民法院", "荣成市人民法院", "合计"]
    assert total[header.index("送达成功率（%）")] == "87.5" and total[header.index("送达成功率（分子/分母）")] == "7/8"
    assert total[header.index("超期送达文书率（分子/分母）")] == "4/7" and total[header.index("每件文书费用（元）")] == "105.77"

    monthly = await handlers.monthly_kpis(deps, principal=Principal(A, Role.court), court_id=A, month=date(2026, 11, 1))
    court_a = dict(grouped(all_facts(), Grouping.court, as_of=AS_OF))[A]
    assert monthly.weeks.total == court_a and monthly.court_name == "威海市环翠区人民法院"
    book = load_workbook(io.BytesIO(kpi_sheets.to_xlsx(monthly)))
    assert book.sheetnames == ["汇总", "按周", "按送达人员"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=4, values_only=True)}
    assert (summary["送达成功率（分子/分母）"], summary["超期送达文书率（分子/分母）"], summary["每件文书费用（元）"]) == ("5/5", "2/4", 140.09)
    assert [row[0] for row in book["按周"].iter_rows(values_only=True)] == ["周", "2026-W48", "2026-W49", "合计"]
    text = "\n".join(pdf_pages(kpi_sheets.render_monthly_pdf(monthly), tmp_path))
    for expected in ("威海市环翠区人民法院 2026年11月 送达工作月度考核报表", "超期送达文书率", "2/4", "3/5", "140.09", "2026-W49", "agent-huancui-2"):
        assert expected in text, expected
    for caller in (Principal(B, Role.court), supervisor):
        with pytest.raises(Problem) as refused:
            await handlers.monthly_kpis(deps, principal=caller, court_id="C999999" if caller is supervisor else A, month=date(2026, 11, 1))
        assert refused.value.status == 404
