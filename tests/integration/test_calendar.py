"""The holiday calendar on a running service (real PostgreSQL and Kafka): /healthz names the missing year, and a year imported with `songda calendar import` is used without a restart."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from services.console.config import ConsoleSettings
from services.console.main import create_app as create_console
from services.delivery.config import DeliverySettings
from services.delivery.main import create_app as create_delivery
from shared.plumbing import workdays
from shared.plumbing.auth import Role
from songda.cli import main as songda
from tests.support import common, eventually, running, token

MONITOR = token(Role.service, "monitor")
# 23 November 2026 in Beijing: next year's holidays are watched from November on, and the package has none for 2027.
CLOCK = {"clock": "scaled", "clock_epoch": "2026-11-23T01:00:00Z", "time_scale": 1.0}


def year_file(path: Path, **changes: Any) -> Path:
    """Writes a year file for 2027 made up for the test (not the State Council's schedule, which is not out yet)."""
    body: dict[str, Any] = {
        "year": 2027,
        "source": "测试数据（虚构）",
        "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}, {"name": "春节", "from": "2027-02-06", "to": "2027-02-12"}],
        "workdays": [{"date": "2027-02-13", "for": "春节"}],
    }
    path.write_text(json.dumps(body | changes, ensure_ascii=False), encoding="utf-8")
    return path


async def calendar_of(client: httpx.AsyncClient) -> dict[str, Any]:
    health = await client.get("/healthz", headers=MONITOR)
    assert health.status_code == 200, health.text
    return health.json()["calendar"]


async def test_healthz_names_the_missing_year_until_one_is_imported_without_a_restart(
    kafka: str, topic_prefix: str, make_database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SONGDA_CALENDAR_DIR", str(tmp_path / "calendar"))
    # The command line reads SONGDA_CALENDAR_DIR; the service, its settings' var_dir: the same directory.
    shared = common(kafka=kafka, prefix=topic_prefix, var_dir=tmp_path, **CLOCK)
    app = create_delivery(DeliverySettings(database_url=await make_database("delivery"), relay_poll_ms=50, common=shared))
    with capture_logs() as logs:
        async with running(app) as client:
            assert await calendar_of(client) == {"status": "degraded", "missing": [2027], "years": {"2026": "package", "2027": "missing"}}
            # A missing year degrades, it does not fail: readiness stays 200 and the public answer "ok".
            assert ((await client.get("/healthz")).status_code, (await client.get("/healthz")).json()) == (200, {"status": "ok"})

            refused = songda(["calendar", "import", str(year_file(tmp_path / "bad.json", workdays=[{"date": "2027-01-04", "for": "元旦"}]))])
            assert refused == 2 and "workdays[0].date: 2027-01-04 是工作日（周一），调休上班日应为周六或周日。" in capsys.readouterr().err
            assert not (tmp_path / "calendar" / "2027.json").exists()

            assert songda(["calendar", "import", str(year_file(tmp_path / "2027-notice.json"))]) == 0
            assert "2027 imported into" in capsys.readouterr().out

            async def covered() -> dict[str, Any] | None:
                shown = await calendar_of(client)
                return shown if shown["missing"] == [] else None

            assert await eventually(covered, timeout=20, what="the service to read the imported year") == {
                "status": "ok",
                "missing": [],
                "years": {"2026": "package", "2027": "imported"},
            }
            assert workdays.is_working_day(date(2027, 2, 13)) and not workdays.is_working_day(date(2027, 2, 8))
    assert [(e["event"], e["year"]) for e in logs if e["event"] in ("calendar.year_missing", "calendar.year_loaded")] == [
        ("calendar.year_missing", 2027),
        ("calendar.year_loaded", 2027),
    ]


async def test_the_consoles_healthz_names_the_missing_year_too(kafka: str, topic_prefix: str, tmp_path: Path) -> None:
    settings_ = ConsoleSettings(database_url=f"sqlite:///{tmp_path / 'console.db'}", common=common(kafka=kafka, prefix=topic_prefix, var_dir=tmp_path, **CLOCK))
    async with running(create_console(settings_)) as client:
        assert (await calendar_of(client))["missing"] == [2027]
