"""docker-compose.yml, deploy/Dockerfile and the dev stack agree with the code: services, ports, env names, wiring, topics, databases."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.contracts.topics import PARTITIONS
from shared.plumbing.settings import CommonSettings, Environment
from songda.cli import SERVICE_MODULES, build_parser
from songda.devstack import ENV_PREFIX, MAIL_SINK_SMTP_PORT, PROCESSES, SERVICES, SIMULATORS, Stack

REPO = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
INIT_SQL = (REPO / "deploy" / "postgres" / "init.sql").read_text()
PG_START = (REPO / "deploy" / "postgres" / "start.sh").read_text()
KAFKA_START = (REPO / "deploy" / "kafka" / "start.sh").read_text()
POM = (REPO / "deploy" / "kafka" / "pom.xml").read_text()
DOCKERFILE = (REPO / "deploy" / "Dockerfile").read_text()
# What an operator exports before `docker compose up`: compose refuses to start without each of them.
SECRETS = {
    "SONGDA_JWT_SECRET": "s" * 40,
    "EMS_AUTHORIZATION": "court-authorisation-code",
    "EMS_SM4_KEY": "AAECAwQFBgcICQoLDA0ODw==",
    "EMS_PUSH_SECRET": "court-push-secret",
    "MAIL_DSN_SECRET": "court-mail-dsn-secret",
    "EVIDENCE_SIGNING_SEED": "Y291cnQgZXZpZGVuY2Ugc2lnbmluZyBzZWVkLCAzMiE=",
}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Resolves compose's ${VAR}, ${VAR:-default} and ${VAR:?message} the way compose would."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in env:
            return env[name]
        if op == ":-":
            return arg
        raise KeyError(f"{name} is required: {arg}")

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}", one, value)


def settings_class(service: str) -> type:
    # Imported per test, so a service whose package is missing fails its own cases only.
    module = importlib.import_module(f"{SERVICE_MODULES[service]}.config")
    return next(v for k, v in vars(module).items() if k.endswith("Settings") and getattr(v, "__module__", "") == module.__name__)


def test_the_stack_has_the_broker_the_database_the_topic_job_and_every_service() -> None:
    assert set(COMPOSE["services"]) == {"kafka", "postgres", "topics", *SERVICES, *SIMULATORS}


@pytest.mark.parametrize(("service", "port"), PROCESSES.items())
def test_each_service_runs_on_its_port_with_its_health_check(service: str, port: int) -> None:
    spec = COMPOSE["services"][service]
    prefix = ENV_PREFIX[service]
    assert spec["command"] == ["songda", "serve", service]
    build_parser().parse_args(spec["command"][1:])
    assert spec["ports"] == [f"{port}:{port}"]
    assert spec["environment"][f"{prefix}PORT"] == str(port)
    assert spec["environment"][f"{prefix}HOST"] == "0.0.0.0"
    assert f"http://127.0.0.1:{port}/healthz" in " ".join(spec["healthcheck"]["test"])
    if service in SERVICES:
        assert spec["depends_on"] == {"postgres": {"condition": "service_healthy"}, "topics": {"condition": "service_completed_successfully"}}
    assert spec["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}


@pytest.mark.parametrize("service", [*PROCESSES, "topics"])
def test_every_environment_variable_is_a_setting_the_code_reads(service: str) -> None:
    env = COMPOSE["services"][service]["environment"]
    common = set(CommonSettings.model_fields)
    own = set(settings_class(service).model_fields) if service in PROCESSES else set()
    for name in env:
        if name.startswith("SONGDA_"):
            assert name.removeprefix("SONGDA_").lower() in common, name
        else:
            assert name.startswith(ENV_PREFIX[service]), name
            assert name.removeprefix(ENV_PREFIX[service]).lower() in own, name


@pytest.mark.parametrize("service", SERVICES)
def test_the_settings_load_from_the_compose_environment(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in COMPOSE["services"][service]["environment"].items():
        monkeypatch.setenv(name, interpolate(str(value), SECRETS))
    settings = settings_class(service)()
    assert settings.port == SERVICES[service]
    assert settings.common.env is Environment.production
    assert settings.common.jwt_secret == SECRETS["SONGDA_JWT_SECRET"]
    assert settings.common.kafka_bootstrap == "kafka:9092"
    assert settings.resolved_database_url(service).endswith(f"@postgres:5432/songda_{service}")


def test_without_a_jwt_secret_compose_refuses_to_start() -> None:
    with pytest.raises(KeyError, match="SONGDA_JWT_SECRET is required"):
        interpolate(COMPOSE["services"]["intake"]["environment"]["SONGDA_JWT_SECRET"], {})


@pytest.mark.parametrize("credential", ["AUTHORIZATION", "SM4_KEY", "PUSH_SECRET"])
def test_the_ems_simulator_gets_the_gateways_ems_credentials_and_compose_demands_them(credential: str) -> None:
    gateway = COMPOSE["services"]["carrier_gateway"]["environment"][f"CARRIER_GATEWAY_EMS_{credential}"]
    assert COMPOSE["services"]["ems_sim"]["environment"][f"EMS_SIM_{credential}"] == gateway
    with pytest.raises(KeyError, match=f"EMS_{credential} is required"):
        interpolate(gateway, {})


@pytest.mark.parametrize("service", SERVICES)
def test_each_database_is_created_by_compose_and_by_the_local_script(service: str) -> None:
    database = f"songda_{service}"
    assert f"CREATE DATABASE {database};" in INIT_SQL
    assert database in re.search(r'DATABASES="([^"]+)"', PG_START).group(1).split()


def test_kafka_is_the_same_release_in_kraft_mode_with_auto_create_off() -> None:
    kafka = COMPOSE["services"]["kafka"]
    env = kafka["environment"]
    version = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM).group(1)
    assert kafka["image"] == f"apache/kafka:{version}"
    assert version.startswith("3.9.")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "auto.create.topics.enable=false" in KAFKA_START
    assert env["KAFKA_NUM_PARTITIONS"] == PARTITIONS
    assert f"num.partitions={PARTITIONS}" in KAFKA_START
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"


def test_topics_are_created_by_the_songda_command_before_any_service_starts() -> None:
    topics = COMPOSE["services"]["topics"]
    assert topics["command"] == ["songda", "topics"]
    build_parser().parse_args(topics["command"][1:])
    assert topics["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert topics["environment"]["SONGDA_KAFKA_BOOTSTRAP"] == "kafka:9092"


def test_the_image_installs_the_project_with_its_pinned_versions() -> None:
    for copied in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, flags=re.M):
        for path in copied.split():
            assert (REPO / path).exists(), path
    assert "pip install -c constraints.txt ." in DOCKERFILE
    assert re.search(r"^FROM python:3\.11", DOCKERFILE, flags=re.M)
    assert re.search(r"^USER songda$", DOCKERFILE, flags=re.M)
    exposed = re.search(r"^EXPOSE (.+)$", DOCKERFILE, flags=re.M).group(1).split()
    assert sorted(map(int, exposed)) == sorted([*PROCESSES.values(), MAIL_SINK_SMTP_PORT])


def test_compose_wires_the_processes_together_as_the_dev_stack_does() -> None:
    wires = Stack().wiring()
    assert {
        "CARRIER_GATEWAY_EMS_ORIGIN",
        "EMS_SIM_PUSH_URL",
        "MAIL_SINK_SMTP_PORT",
        "DELIVERY_SMTP_HOST",
        "DELIVERY_SMTP_PORT",
        "TWILIO_SIM_SMS_URL",
        "MAIL_SINK_REPLY_URL",
    } <= set(wires)
    for name, value in wires.items():
        if name in ("SONGDA_DOCUMENTS_DIR", "SONGDA_CALENDAR_DIR"):
            continue  # shared directories, not addresses: see the tests below
        service = next(s for s in PROCESSES if name.startswith(ENV_PREFIX[s]))
        # Compose reaches each process by its service name where the dev stack uses 127.0.0.1.
        expected = "mail_sink" if name == "DELIVERY_SMTP_HOST" else value
        for other, port in PROCESSES.items():
            expected = expected.replace(f"http://127.0.0.1:{port}", f"http://{other}:{port}")
        assert interpolate(str(COMPOSE["services"][service]["environment"][name]), {}) == expected, name
    assert COMPOSE["services"]["mail_sink"]["expose"] == [str(MAIL_SINK_SMTP_PORT)]


def test_intake_writes_and_delivery_reads_one_document_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SONGDA_DOCUMENTS_DIR", raising=False)
    assert Stack(env={"SONGDA_VAR_DIR": str(tmp_path)}).wiring()["SONGDA_DOCUMENTS_DIR"] == str(tmp_path / "documents")
    assert Stack(env={"SONGDA_DOCUMENTS_DIR": str(tmp_path / "shared")}).wiring()["SONGDA_DOCUMENTS_DIR"] == str(tmp_path / "shared")
    services = COMPOSE["services"]
    assert services["intake"]["environment"]["SONGDA_DOCUMENTS_DIR"] == services["delivery"]["environment"]["SONGDA_DOCUMENTS_DIR"] == "/app/var/documents"
    assert "documents:/app/var/documents" in services["intake"]["volumes"]
    assert "documents:/app/var/documents:ro" in services["delivery"]["volumes"]
    assert "documents" in COMPOSE["volumes"] and "/app/var/documents" in DOCKERFILE


def test_the_console_writes_and_every_service_reads_one_holiday_calendar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SONGDA_CALENDAR_DIR", raising=False)
    assert Stack(env={"SONGDA_VAR_DIR": str(tmp_path)}).wiring()["SONGDA_CALENDAR_DIR"] == str(tmp_path / "calendar")
    services = COMPOSE["services"]
    readers = {name: services[name] for name in SERVICES if name != "console"}
    assert services["console"]["volumes"] == ["calendar:/app/var/calendar"]
    assert {name: "calendar:/app/var/calendar:ro" in spec["volumes"] for name, spec in readers.items()} == dict.fromkeys(readers, True)
    assert {name: services[name]["environment"]["SONGDA_CALENDAR_DIR"] for name in SERVICES} == dict.fromkeys(SERVICES, "/app/var/calendar")
    assert "calendar" in COMPOSE["volumes"] and "/app/var/calendar" in DOCKERFILE


def test_a_stack_on_free_ports_takes_smtp_on_a_free_port_of_its_own() -> None:
    ports = {"delivery": 18002, "mail_sink": 18012}
    wires = Stack(ports=ports).wiring()
    assert wires["MAIL_SINK_SMTP_PORT"] == wires["DELIVERY_SMTP_PORT"] != str(MAIL_SINK_SMTP_PORT)
    assert wires["DELIVERY_SMTP_HOST"] == "127.0.0.1"
    assert Stack(ports=ports, smtp_port=18025).wiring()["DELIVERY_SMTP_PORT"] == "18025"
    assert "DELIVERY_SMTP_PORT" not in Stack(ports={"delivery": 18002}).wiring()
