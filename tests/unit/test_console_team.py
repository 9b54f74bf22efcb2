"""The supervisors' team pages over a fake of delivery: the board by agent with reassigning, the roster with adding and changing agents, the bar and the landing by role."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.console.adapters.calls import ServiceRefused
from services.console.adapters.oversight import Agent, TeamCard
from services.console.domain import by_agent
from services.console.supervision import areas_of
from tests import consoles
from tests.consoles import WINDOW_START, Console, messages, signed_in, texts_of


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with consoles.staffed(tmp_path) as built:
        built.oversight.hire("agent-1", "环翠组一", areas=["环翠区"])
        built.oversight.hire("agent-2", "环翠组二", areas=["环翠区", "威海市"])
        built.oversight.hire("agent-3", "老王", active=False)
        built.oversight.assign("agent-1", consoles.task("t-1"))
        built.oversight.assign("agent-1", consoles.task("t-late", late=True, recipient_name="李四", window_start=WINDOW_START - timedelta(days=1)))
        built.oversight.assign("agent-3", consoles.task("t-left", recipient_name="王五"))
        built.evidence.figures = {None: consoles.kpi_answer(None)}
        yield built


def card(task_id: str, agent_id: str, **changes: object) -> TeamCard:
    return TeamCard.model_validate(consoles.task(task_id, **changes).model_dump() | {"agent_id": agent_id})


def test_the_board_groups_by_agent_the_late_first_and_the_agents_with_most_late_first() -> None:
    agents = [Agent(id=i, name=n, areas=[], active=a, open_tasks=0) for i, n, a in (("a-1", "一", True), ("a-2", "二", True), ("a-3", "三", False), ("a-4", "四", False))]
    tasks = [
        card("on-time", "a-1"),
        card("late-1", "a-2", late=True, window_start=WINDOW_START - timedelta(days=2)),
        card("late-2", "a-2", late=True, window_start=WINDOW_START - timedelta(days=1)),
        card("early", "a-2", window_start=WINDOW_START - timedelta(hours=1)),
        card("left", "a-3"),
        card("stranger", "gone"),
    ]
    crews = by_agent(tasks, agents)
    assert [(c.agent_id, [t.task_id for t in c.tasks], c.late) for c in crews] == [
        ("a-2", ["late-1", "late-2", "early"], 2),
        ("a-1", ["on-time"], 0),
        ("a-3", ["left"], 0),
        ("gone", ["stranger"], 0),
    ], "a-4 is inactive and holds nothing"
    assert [(c.active, c.on_roster) for c in crews] == [(True, True), (True, True), (False, True), (False, False)]
    assert by_agent([], agents[:1])[0].tasks == [], "an active agent without tasks is listed: free to take one"


async def test_the_board_shows_every_open_task_by_agent_late_first_marked_with_counts(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        page = await browser.get("/board")
    text = texts_of(page.text)
    assert page.status_code == 200 and "共 3 项待办，其中 1 项已超时。" in text
    assert re.findall(r'<section class="crew[^"]*" id="agent-([^"]+)"', page.text) == ["agent-1", "agent-2", "agent-3"]
    assert re.findall(r'<li class="card[^"]*" id="task-([^"]+)"', page.text) == ["t-late", "t-1", "t-left"]
    assert "环翠组一 agent-1 待办 2 项 · 已超时 1 项 上门送达 已超时 （2026）鲁1002民初1234号 李四（自然人）" in text
    assert "环翠组二 agent-2 待办 0 项 暂无待办任务" in text and "老王 agent-3 已停用 待办 1 项" in text and "请将其待办任务改派" in text
    late = page.text[page.text.index('id="task-t-late"') :]
    assert 'class="tag tag--late">已超时<' in late[: late.index("</li>")] and 'href="/tasks/t-late"' in late
    offered = re.findall(r'<option value="([^"]*)"', page.text[page.text.index('id="agent_id-t-late"') :].split("</select>")[0])
    assert offered == ["", "agent-2"], "only the other active agents"


async def test_reassigning_gives_the_task_with_the_reason_then_the_board_says_where_it_went(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        moved = await browser.post("/tasks/t-left/reassign", data={"csrf_token": token, "agent_id": "agent-2", "reason": "  老王已停用，由同区域接手 "})
        board = await browser.get(moved.headers["location"])
    assert moved.status_code == 303 and moved.headers["location"] == "/board?reassigned=t-left#task-t-left"
    assert console.oversight.reassigned == [("t-left", "agent-2", "老王已停用，由同区域接手")]
    text = texts_of(board.text)
    assert "已改派：（2026）鲁1002民初1234号 现由环翠组二负责。" in text and "老王" not in text, "an inactive agent without tasks leaves the board"


@pytest.mark.parametrize(
    ("answers", "shown"),
    [
        ({"reason": "请假"}, [("agent_id-t-1", "请选择一名在岗的送达员")]),
        ({"agent_id": "agent-3", "reason": "请假"}, [("agent_id-t-1", "请选择一名在岗的送达员")]),
        ({"agent_id": "agent-1", "reason": "请假"}, [("agent_id-t-1", "任务已由该送达员负责，请选择另一名送达员")]),
        ({"agent_id": "agent-2", "reason": " 假 "}, [("reason-t-1", "请填写事由（至少2个字）")]),
        ({"agent_id": "agent-2", "reason": "长" * 201}, [("reason-t-1", "事由最多200个字")]),
    ],
)
async def test_a_reassignment_names_what_is_wrong_beside_the_tasks_own_form(console: Console, answers: dict[str, str], shown: list[tuple[str, str]]) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        page = await browser.post("/tasks/t-1/reassign", data={"csrf_token": token} | answers)
    assert page.status_code == 422 and console.oversight.reassigned == []
    assert [
        (field, message) for field, message in re.findall(r'<p class="field-error" id="([^"]+)-error"><span class="visually-hidden">错误：</span>([^<]+)</p>', page.text)
    ] == shown
    assert "请修改以下问题" in page.text and re.search(
        r'<details class="reassign" open>\s*<summary class="reassign__toggle">改派</summary>\s*<form method="post" action="/tasks/t-1/reassign"', page.text
    )


async def test_delivery_refusing_a_reassignment_is_said_in_chinese(console: Console) -> None:
    console.oversight.refusal = ServiceRefused(422, {"errors": [{"field": "agent_id", "message": "no active agent agent-2 in the roster"}]})
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        refused = await browser.post("/tasks/t-1/reassign", data={"csrf_token": token, "agent_id": "agent-2", "reason": "请假"})
        console.oversight.refusal = ServiceRefused(409, {"title": "Task not open", "detail": "Task t-1 is reported."})
        closed = await browser.post("/tasks/t-1/reassign", data={"csrf_token": token, "agent_id": "agent-2", "reason": "请假"})
    assert refused.status_code == 422 and messages(refused.text) == ["送达员不在岗或不在花名册中，请重新选择"]
    assert 'id="agent_id-t-1-error"' in refused.text and 'value="请假"' not in refused.text and ">请假</textarea>" in refused.text, "the answers are kept"
    assert closed.status_code == 409 and "该任务已不是待办任务（可能刚记录了送达结果或已关闭），未能改派。" in texts_of(closed.text)
    assert console.oversight.reassigned == []


async def test_the_roster_lists_the_agents_and_offers_supervisors_the_forms(console: Console) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        page = await browser.get("/roster")
    text = texts_of(page.text)
    assert "环翠组二 agent-2 环翠区、威海市 在岗 0 项" in text and "老王 agent-3 未指定 已停用 1 项" in text and "环翠组一 agent-1 环翠区 在岗 2 项" in text
    assert 'href="/roster/agent-2"' in page.text and 'action="/roster"' in page.text and "添加送达员" in text


async def test_an_auditor_reads_the_roster_without_its_forms(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "reader")
        page = await browser.get("/roster")
        form = await browser.get("/roster/agent-2")
        added = await browser.post("/roster", data={"csrf_token": token, "id": "agent-9", "name": "某人", "active": "on"})
    assert page.status_code == 200 and "环翠组二" in page.text and "<form" not in page.text.split("</header>")[1]
    assert "/roster/agent-2" not in page.text and form.status_code == 403 and added.status_code == 403 and "agent-9" not in console.oversight.roster


async def test_adding_an_agent_puts_them_with_their_areas_then_the_roster_says_so(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        added = await browser.post("/roster", data={"csrf_token": token, "id": "Agent-4", "name": " 新 人 ", "areas": "环翠区、 高区，经区,环翠区\n文登区", "active": "on"})
        page = await browser.get(added.headers["location"])
    assert added.status_code == 303 and added.headers["location"] == "/roster?added=agent-4#agent-agent-4"
    assert console.oversight.roster["agent-4"] == Agent(id="agent-4", name="新 人", areas=["环翠区", "高区", "经区", "文登区"], active=True, open_tasks=0)
    assert "已添加送达员“新 人”。" in texts_of(page.text)


@pytest.mark.parametrize(
    ("answers", "shown"),
    [
        ({"id": "王", "name": "新人"}, ["编号为2至64位小写字母、数字或连字符（-），以字母或数字开头，例如 agent-huancui-3"]),
        ({"id": "agent-2", "name": "新人"}, ["此编号已在花名册中，请换一个编号，或在花名册中修改该送达员"]),
        ({"id": "agent-4", "name": "  "}, ["请填写姓名"]),
        ({"id": "agent-4", "name": "新人", "areas": "环翠区、" + "长" * 51}, ["每个区域名称最多50个字"]),
    ],
)
async def test_adding_an_agent_names_what_is_wrong_beside_the_field(console: Console, answers: dict[str, str], shown: list[str]) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        page = await browser.post("/roster", data={"csrf_token": token, "active": "on"} | answers)
    assert page.status_code == 422 and messages(page.text) == shown and "请修改以下问题" in page.text
    assert sorted(console.oversight.roster) == ["agent-1", "agent-2", "agent-3"]


async def test_changing_an_agent_shows_them_then_puts_what_changed(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        form = await browser.get("/roster/agent-2")
        changed = await browser.post("/roster/agent-2", data={"csrf_token": token, "name": "环翠组二", "areas": "环翠区"})
    assert 'name="areas" type="text" value="环翠区、威海市"' in form.text and 'name="active" type="checkbox" checked' in form.text
    assert changed.status_code == 303 and changed.headers["location"] == "/roster?saved=agent-2#agent-agent-2"
    assert console.oversight.roster["agent-2"] == Agent(id="agent-2", name="环翠组二", areas=["环翠区"], active=False, open_tasks=0), "an unticked box deactivates"


async def test_the_last_active_agent_stays_active_and_the_page_says_why(console: Console) -> None:
    console.oversight.roster["agent-2"] = console.oversight.roster["agent-2"].model_copy(update={"active": False})
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        page = await browser.post("/roster/agent-1", data={"csrf_token": token, "name": "环翠组一", "areas": "环翠区"})
    assert page.status_code == 409 and messages(page.text) == ["不能停用最后一名在岗的送达员：新任务必须有人接收。请先让另一名送达员在岗。"]
    assert 'id="active-error"' in page.text and console.oversight.roster["agent-1"].active


async def test_changing_an_agent_the_roster_lacks_adds_nobody(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "boss")
        form = await browser.get("/roster/agent-9")
        changed = await browser.post("/roster/agent-9", data={"csrf_token": token, "name": "某人", "active": "on"})
    assert form.status_code == changed.status_code == 404 and "花名册中没有此送达员" in texts_of(changed.text) and "agent-9" not in console.oversight.roster


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/tasks/t-1/reassign", {"agent_id": "agent-2", "reason": "请假"}),
        ("/roster", {"id": "agent-4", "name": "新人", "active": "on"}),
        ("/roster/agent-2", {"name": "改名", "active": "on"}),
    ],
)
async def test_every_change_needs_the_sessions_csrf_token(console: Console, path: str, data: dict[str, str]) -> None:
    async with console.browser() as browser:
        await signed_in(browser, "boss")
        missing = await browser.post(path, data=data)
        wrong = await browser.post(path, data=data | {"csrf_token": "forged"})
    assert missing.status_code == wrong.status_code == 403 and "页面已失效" in texts_of(missing.text)
    assert console.oversight.reassigned == [] and "agent-4" not in console.oversight.roster and console.oversight.roster["agent-2"].name == "环翠组二"


async def test_the_board_and_the_changes_are_for_supervisors_only(console: Console) -> None:
    async with console.browser() as browser:
        token = await signed_in(browser, "agent-1")
        pages = [await browser.get(path) for path in ("/board", "/roster", "/roster/agent-1")]
        reassigned = await browser.post("/tasks/t-1/reassign", data={"csrf_token": token, "agent_id": "agent-2", "reason": "请假"})
    async with console.browser() as browser:
        await signed_in(browser, "reader")
        board = await browser.get("/board")
    assert [p.status_code for p in (*pages, reassigned, board)] == [403] * 5
    assert "无权访问" in texts_of(board.text) and console.oversight.reassigned == []


async def test_a_supervisor_lands_on_the_board_and_the_bar_names_each_role_its_pages(console: Console) -> None:
    bars = {}
    for username, path in (("boss", "/board"), ("reader", "/roster"), ("agent-1", "/today")):
        async with console.browser() as browser:
            await signed_in(browser, username)
            landing = await browser.get("/")
            page = await browser.get(path)
        bars[username] = (landing.headers["location"], re.findall(r'<a class="nav__link" href="([^"]+)"( aria-current="page")?>([^<]+)</a>', page.text))
    assert bars == {
        "boss": (
            "/board",
            [
                ("/board", ' aria-current="page"', "团队看板"),
                ("/roster", "", "花名册"),
                ("/holds", "", "待审核证据"),
                ("/notices", "", "通知列表"),
                ("/dashboard", "", "统计看板"),
                ("/notices/batch", "", "批量导入"),
                ("/firms", "", "律所登记"),
                ("/calendar", "", "节假日安排"),
            ],
        ),
        "reader": (
            "/welcome",
            [
                ("/roster", ' aria-current="page"', "花名册"),
                ("/holds", "", "待审核证据"),
                ("/notices", "", "通知列表"),
                ("/dashboard", "", "统计看板"),
                ("/calendar", "", "节假日安排"),
            ],
        ),
        "agent-1": ("/today", [("/today", ' aria-current="page"', "今日任务")]),
    }


async def test_each_link_in_the_bar_opens_for_its_role(console: Console) -> None:
    for username in ("boss", "reader", "agent-1"):
        async with console.browser() as browser:
            await signed_in(browser, username)
            page = await browser.get("/welcome")
            links = re.findall(r'<a class="nav__link" href="([^"]+)"', page.text)
            answers = {path: (await browser.get(path)).status_code for path in links}
        assert links and answers == dict.fromkeys(links, 200), username


def test_areas_are_read_from_any_of_the_separators_people_type() -> None:
    assert areas_of("环翠区、高区,经区，文登区;荣成市；乳山市\n威海市") == ["环翠区", "高区", "经区", "文登区", "荣成市", "乳山市", "威海市"]
    assert areas_of(" 环翠区 、、 环翠区 ,") == ["环翠区"] and areas_of("") == []
