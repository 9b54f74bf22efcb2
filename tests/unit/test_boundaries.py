"""The arrows between packages: shared imports no one, services never import each other, tooling stays out of the product."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())


def _module_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def imports(package: str) -> dict[str, set[str]]:
    """Maps every module file of `package` (a package folder or a single module) to the absolute module names it imports."""
    base = ROOT / package.replace(".", "/")
    paths = [base.with_suffix(".py")] if base.with_suffix(".py").is_file() else sorted(base.rglob("*.py"))
    return {str(path.relative_to(ROOT)): _module_imports(path) for path in paths}


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """Lists `file: module` for every import under `package` of a module under one of `forbidden`."""
    return sorted(f"{file}: {name}" for file, names in imports(package).items() for name in names if any(name == f or name.startswith(f + ".") for f in forbidden))


def test_there_are_the_four_services_and_the_console() -> None:
    assert SERVICES == ["carrier_gateway", "console", "delivery", "evidence", "intake"]


def test_shared_imports_no_service_no_simulator_and_no_tooling() -> None:
    assert offending("shared", ("services", "simulators", "songda")) == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service_no_simulator_and_no_tooling(service: str) -> None:
    others = tuple(f"services.{s}" for s in SERVICES if s != service)
    assert offending(f"services.{service}", (*others, "simulators", "songda")) == []


def test_simulators_import_no_service_and_no_tooling() -> None:
    # A simulator speaks the outside system's wire format (shared.contracts), never our services' insides.
    assert offending("simulators", ("services", "songda")) == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "leak.py").write_text("from services.intake import handlers\nimport songda.cli\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert offending("shared", ("services", "songda")) == ["shared/leak.py: services.intake", "shared/leak.py: services.intake.handlers", "shared/leak.py: songda.cli"]


# What a domain may not touch: frameworks, databases, the network, templates, logging.
IO = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "httpx", "aiokafka", "asyncpg", "aiosqlite", "aiosmtplib", "twilio", "jinja2", "weasyprint", "structlog")
# Of the plumbing, a domain may use the pure parts only: time zones and the working calendar, and masking.
PURE_PLUMBING = ("shared.plumbing.clock", "shared.plumbing.workdays", "shared.plumbing.masking")


@pytest.mark.parametrize("service", SERVICES)
def test_a_domain_is_pure(service: str) -> None:
    found = imports(f"services.{service}.domain")
    assert found, "every service has a domain"
    impure = sorted(
        f"{file}: {name}"
        for file, names in found.items()
        for name in names
        if name.split(".")[0] in IO or (name.startswith("shared.plumbing") and not name.startswith(PURE_PLUMBING))
    )
    assert impure == []
