"""docker-compose.yml runs the same system as `louzu up`. There is no Docker engine here, so the
file is read as YAML and checked against SERVICES: adding a service without its container fails."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from shared.infra.system import SERVICES

ROOT = Path(__file__).resolve().parents[2]
INFRA = {"nats", "postgres", "migrate"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def words(command) -> list[str]:
    return command.split() if isinstance(command, str) else list(command)


def named_volumes(service: dict, compose: dict) -> list[str]:
    names = [v.split(":")[0] if isinstance(v, str) else v.get("source", "") for v in service.get("volumes", [])]
    return [name for name in names if name in (compose.get("volumes") or {})]


def nats_config(services: dict) -> str:
    for volume in services["nats"]["volumes"]:
        source, target = volume.split(":")[:2]
        if target in words(services["nats"]["command"]):
            return (ROOT / source).read_text()
    raise AssertionError("the nats container is not started with a config file mounted from the repository")


def test_the_compose_file_parses_into_services_and_volumes(compose):
    assert isinstance(compose, dict)
    assert isinstance(compose.get("services"), dict) and compose["services"]
    assert isinstance(compose.get("volumes"), dict)


@pytest.mark.parametrize("server", ["nats", "postgres"])
def test_each_server_keeps_its_data_on_a_named_volume(server, services, compose):
    assert named_volumes(services[server], compose), f"{server} has no named volume"


@pytest.mark.parametrize("server", ["nats", "postgres"])
def test_each_server_has_a_healthcheck(server, services):
    test = services[server].get("healthcheck", {}).get("test")
    assert test and words(test)[0] in ("CMD", "CMD-SHELL")


def test_nats_is_healthy_only_once_jetstream_is_enabled(services):
    test = " ".join(words(services["nats"]["healthcheck"]["test"]))
    assert "wget" in test and ":8222/healthz?js-enabled-only=true" in test


def test_postgres_is_checked_with_pg_isready_on_the_louzu_database(services):
    assert "pg_isready" in " ".join(words(services["postgres"]["healthcheck"]["test"]))
    assert services["postgres"]["environment"]["POSTGRES_DB"] == "louzu"


def test_nats_runs_a_version_with_durable_jetstream_writes(services):
    image = services["nats"]["image"]
    match = re.match(r"nats:(\d+)\.(\d+)", image)
    assert match and (int(match[1]), int(match[2])) >= (2, 12), image


def test_the_nats_config_enables_jetstream_on_file_storage_with_sync_always(services):
    config = nats_config(services)
    assert re.search(r"^\s*jetstream\s*\{", config, re.M)
    assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.M)
    assert re.search(r'^\s*store_dir:\s*"?/data/jetstream"?\s*$', config, re.M)
    assert re.search(r'^\s*listen:\s*"?0\.0\.0\.0:4222"?\s*$', config, re.M)


def test_the_nats_jetstream_store_is_on_the_named_volume(services, compose):
    mounts = {v.split(":")[1] for v in services["nats"]["volumes"] if v.split(":")[0] in compose["volumes"]}
    assert any("/data/jetstream".startswith(mount) for mount in mounts), mounts


def test_migrate_runs_once_after_both_servers_are_healthy(services):
    migrate = services["migrate"]
    assert words(migrate["command"]) == ["louzu", "migrate"]
    assert migrate.get("restart", "no") == "no"
    for server in ("nats", "postgres"):
        assert migrate["depends_on"][server]["condition"] == "service_healthy"


def test_there_is_exactly_one_container_for_every_service_that_exists(services):
    containers = set(services) - INFRA
    assert containers == set(SERVICES), (
        f"docker-compose.yml must have one container per service in shared.infra.system.SERVICES: "
        f"missing {sorted(set(SERVICES) - containers)}, unknown {sorted(containers - set(SERVICES))}")


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_container_runs_the_same_module_as_louzu_up(name, services):
    command = words(services[name]["command"])
    assert command[:3] == ["python", "-m", f"services.{name}"], command
    assert command[1:] == SERVICES[name][1:], f"{name}: compose runs {command}, `louzu up` runs {SERVICES[name]}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_container_starts_after_migrate_succeeded_and_restarts(name, services):
    service = services[name]
    assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert service["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", sorted({"migrate", *SERVICES}))
def test_each_louzu_container_is_built_from_the_dockerfile_and_points_at_the_servers(name, services):
    service = services[name]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    assert service["environment"]["NATS_URL"] == "nats://nats:4222"
    assert service["environment"]["DATABASE_URL"] == "postgresql://postgres:postgres@postgres:5432/louzu"


def test_the_dockerfile_installs_the_project_and_runs_as_a_non_root_user():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    assert re.search(r"pip install \.", dockerfile)
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^CMD \["louzu", "--help"\]', dockerfile, re.M)
