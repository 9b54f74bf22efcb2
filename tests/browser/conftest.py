"""Browser fixtures: Debian's Chromium driven by Playwright (never a browser of Playwright's own), one stack of processes for the session, and phone and desktop windows."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from playwright.async_api import Browser, BrowserContext, async_playwright

from shared.contracts.topics import ALL_TOPICS, TopicNames, create_topics
from shared.plumbing.clock import ScaledClock
from songda.devstack import PROCESSES, SERVICES, Stack
from tests.browser.support import AGENTS, CHROMIUM, CHROMIUM_ARGS, COURTS, DESKTOP, EPOCH, HOME, PHONE, TIME_SCALE, BrowserStack
from tests.support import free_port, pg_url, stack_env


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Returns Debian's Chromium, or fails every browser test saying how to get it (they never download a browser)."""
    if shutil.which(str(CHROMIUM)) is None:
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install Debian's package (apt-get install chromium; .ci/run does) or point SONGDA_CHROMIUM at one.", pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """Launches headless Chromium once for the session."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="session")
async def stack(kafka: str, postgres: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BrowserStack]:
    """Starts the console, the services and the simulators as processes on topics and PostgreSQL databases of their own, with two agents, a supervisor and two courts' clerks."""
    prefix = f"b{uuid.uuid4().hex[:10]}."
    await create_topics(kafka, prefix=prefix)
    workdir = tmp_path_factory.mktemp("browser-stack")
    databases = {name: f"t_{uuid.uuid4().hex[:10]}_{name}" for name in SERVICES}
    connection = await asyncpg.connect(postgres)
    try:
        for database in databases.values():
            await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    clock = ScaledClock(epoch=EPOCH, anchor=datetime.now(UTC), scale=TIME_SCALE)
    env = {**stack_env(kafka=kafka, prefix=prefix), **clock.environment(), "SONGDA_VAR_DIR": str(workdir / "var")}
    env |= {f"{name.upper()}_DATABASE_URL": pg_url(database) for name, database in databases.items()}
    stack = Stack(env=env, ports={name: free_port() for name in PROCESSES}, log_dir=workdir / "log", run_dir=workdir / "run")
    built = BrowserStack(stack=stack, clock=clock, env=env)
    try:
        stack.start()
        stack.wait_healthy()
        for agent in AGENTS:
            built.add_user(agent, "agent", agent)
        built.add_user("supervisor", "supervisor")
        for username, court_id in COURTS.items():
            built.add_user(username, "court", court_id)
        yield built
    finally:
        stack.stop()
        connection = await asyncpg.connect(postgres)
        try:
            for database in databases.values():
                await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await connection.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
        await admin.start()
        try:
            await admin.delete_topics([TopicNames(prefix).physical(t) for t in ALL_TOPICS])
        finally:
            await admin.close()


async def _context(browser: Browser, viewport: dict[str, int], *, mobile: bool) -> BrowserContext:
    return await browser.new_context(
        viewport=viewport,
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        geolocation={"latitude": HOME["location"]["lat"], "longitude": HOME["location"]["lon"]},
        permissions=["geolocation"],
    )


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A phone-sized window (390 × 844, touch), at the recipient's door as far as GPS goes."""
    context = await _context(browser, PHONE, mobile=True)
    yield context
    await context.close()


@pytest.fixture
async def desktop(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A desktop window (1280 × 900)."""
    context = await _context(browser, DESKTOP, mobile=False)
    yield context
    await context.close()
