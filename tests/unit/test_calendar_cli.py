"""`songda calendar import`: a checked year file written where the services read it, or the flaws named and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.plumbing.holidays import read_year
from songda.cli import main as songda

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "calendar-2026.example.json"


@pytest.fixture
def calendar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SONGDA_CALENDAR_DIR", str(tmp_path / "calendar"))
    return tmp_path / "calendar"


def test_the_example_imports_and_a_second_import_replaces_it(calendar: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert songda(["calendar", "import", str(EXAMPLE)]) == 0
    assert f"2026 imported into {calendar / '2026.json'}: 7 holidays (33 days off), 6 make-up workdays" in capsys.readouterr().out
    assert read_year((calendar / "2026.json").read_bytes()) == read_year(EXAMPLE.read_bytes())
    assert songda(["calendar", "import", str(EXAMPLE)]) == 0
    assert "2026 replaced into" in capsys.readouterr().out


def test_a_flawed_file_is_refused_with_every_flaw_and_nothing_written(calendar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flawed = tmp_path / "2027.json"
    flawed.write_text('{"year": 2027, "holidays": [], "workdays": []}', encoding="utf-8")
    assert songda(["calendar", "import", str(flawed)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "calendar import: 2027.json refused, nothing written:",
        "  source: 应写明依据的通知（如“国务院办公厅关于2027年部分节假日安排的通知”及文号）。",
        "  holidays: 应列出当年的节假日（至少一项）。",
    ]
    assert not calendar.exists()


def test_a_missing_file_is_named(calendar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert songda(["calendar", "import", str(tmp_path / "nope.json")]) == 1
    assert "calendar import: cannot read" in capsys.readouterr().err and not calendar.exists()
