"""render.yaml against the code: resource types, required fields, wiring, secrets, and env vars.

What each service reads is not listed by hand: `reads()` runs the service's own `from_env`
on a recording mapping, so a variable added to a settings module shows up here at once and
the blueprint must then provide it (or it must have a safe default, see `test_env_vars`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from libs.errors import SettingsError
from libs.server import GRACEFUL_SHUTDOWN_S
from services.ingress.settings import IngressSettings
from services.notifier.settings import NotifierSettings
from services.orders.settings import OrdersSettings

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = ROOT / "render.yaml"

# Render service name -> (module run by startCommand, its settings factory, Render type).
SERVICES: dict[str, tuple[str, Callable[[Mapping[str, str]], object], str]] = {
    "wa-ingress": ("services.ingress", IngressSettings.from_env, "web"),
    "wa-orders": ("services.orders", OrdersSettings.from_env, "web"),
    "wa-notifier": ("services.notifier", NotifierSettings.from_env, "pserv"),
}
KEY_VALUE = "wa-redis"
DATABASE = "wa-orders-db"

# The outside contract's environment (shared CONTRACT.md, "Environment"): whichever of these a
# service reads, production must set explicitly. HOST is the exception: its default, 0.0.0.0,
# is what Render needs. Anything else a service reads is a tunable that must have a default.
CONTRACT_VARS = frozenset(
    {
        *("REDIS_URL", "DATABASE_URL", "PUBLIC_BASE_URL", "TRUST_PROXY_HEADERS", "METRICS_TOKEN"),
        *("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_SECONDARY"),
        *("TWILIO_WHATSAPP_FROM", "TWILIO_API_BASE_URL"),
        *("ADMIN_API_TOKEN", "ADMIN_EMAIL", "ADMIN_PASSWORD", "SESSION_SECRET"),
        *("ENVIRONMENT", "PORT", "LOG_LEVEL"),
    }
)
NOT_REQUIRED_IN_PRODUCTION = frozenset({"HOST"})
# Read by Render's build, not by the services.
PLATFORM_VARS = frozenset({"PYTHON_VERSION"})
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|SIGNING_KEY|_SID$")

# A valid production environment, used to see which variables `from_env` reads.
PRODUCTION_LIKE = {
    "ENVIRONMENT": "production",
    "PORT": "10000",
    "LOG_LEVEL": "INFO",
    "REDIS_URL": "redis://red-example:6379",
    "REDIS_KEY_PREFIX": "wa",
    "DATABASE_URL": "postgresql://wa:secret@dpg-example/wa_ordering",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "t" * 32,
    "TWILIO_WHATSAPP_FROM": "whatsapp:+15557650000",
    "PUBLIC_BASE_URL": "https://wa-ingress.onrender.com",
    "ADMIN_API_TOKEN": "a" * 44,
    "SESSION_SECRET": "s" * 44,
}
# What a `sync: false`, `generateValue` or `from*` entry becomes on Render, for validation.
PLACEHOLDERS = {
    **PRODUCTION_LIKE,
    "TWILIO_AUTH_TOKEN_SECONDARY": "",
    "TWILIO_WEBHOOK_SIGNING_KEY": "",
    "ADMIN_EMAIL": "owner@example.com",
    "ADMIN_PASSWORD": "p" * 16,
}


class RecordingEnv(Mapping[str, str]):
    """A mapping that remembers every key looked up (`get`, `[]` and `in` all go through here)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.seen: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.seen.add(key)
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


Factory = Callable[[Mapping[str, str]], object]


def reads(factory: Factory, env: Mapping[str, str] = PRODUCTION_LIKE) -> set[str]:
    """Every variable `factory` looks at when building settings from `env`."""
    recorder = RecordingEnv(env)
    factory(recorder)
    return recorder.seen


def required(factory: Factory) -> set[str]:
    """The variables whose absence makes `factory` fail (it names them in `SettingsError`)."""
    missing = set()
    for name in reads(factory):
        try:
            factory({k: v for k, v in PRODUCTION_LIKE.items() if k != name})
        except SettingsError as exc:
            assert exc.name == name, f"removing {name} failed on {exc.name}"
            missing.add(name)
    return missing


@pytest.fixture(scope="module")
def blueprint() -> dict[str, Any]:
    """render.yaml, parsed."""
    data = yaml.safe_load(BLUEPRINT.read_text())
    assert isinstance(data, dict)
    return data


def resource(blueprint: dict[str, Any], name: str) -> dict[str, Any]:
    """The service (or database) called `name`; fails when there is none or several."""
    found = [s for s in blueprint.get("services", []) + blueprint.get("databases", []) if s["name"] == name]
    assert len(found) == 1, f"{name}: expected exactly one resource, found {len(found)}"
    return dict(found[0])


def env_entries(blueprint: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """Every env var a service gets, groups expanded: key -> its entry (value, sync, from...)."""
    groups = {g["name"]: g["envVars"] for g in blueprint.get("envVarGroups", [])}
    entries: dict[str, dict[str, Any]] = {}
    for entry in resource(blueprint, name).get("envVars", []):
        expanded = groups[entry["fromGroup"]] if "fromGroup" in entry else [entry]
        for item in expanded:
            assert item["key"] not in entries, f"{name}: {item['key']} set twice"
            entries[item["key"]] = item
    return entries


def test_resource_types_and_required_fields(blueprint: dict[str, Any]) -> None:
    for name, (module, _, kind) in SERVICES.items():
        service = resource(blueprint, name)
        assert service["type"] == kind, name
        assert service["runtime"] == "python", name
        assert "requirements.lock" in service["buildCommand"], name
        assert re.search(r"pip install (--no-deps )?\.(\s|$)", service["buildCommand"]), name
        assert service["startCommand"] == f"python -m {module}", name
        assert service.get("plan") not in (None, "free"), f"{name}: free instances sleep"
        if kind == "web":
            # /health, not /ready: see the comment in render.yaml and docs/deploy.md.
            assert service["healthCheckPath"] == "/health", name
        else:
            assert "healthCheckPath" not in service, f"{name}: private services get TCP checks only"
    assert "preDeployCommand" not in resource(blueprint, "wa-ingress")
    assert resource(blueprint, "wa-orders")["preDeployCommand"] == "python -m services.orders migrate"


def test_each_service_scales_on_its_own(blueprint: dict[str, Any]) -> None:
    for name in SERVICES:
        service = resource(blueprint, name)
        scaling = service.get("scaling")
        assert (scaling is None) != ("numInstances" not in service), f"{name}: scaling xor numInstances"
        if scaling is None:
            assert service["numInstances"] >= 1
            continue
        assert 1 <= scaling["minInstances"] <= scaling["maxInstances"], name
        targets = [scaling.get("targetCPUPercent"), scaling.get("targetMemoryPercent")]
        assert any(targets), f"{name}: autoscaling needs a CPU or memory target"
        assert all(t is None or 1 <= t <= 90 for t in targets), name
    ingress = resource(blueprint, "wa-ingress")
    assert ingress["scaling"]["minInstances"] >= 2, "Twilio must always get an answer"


def test_shutdown_delay_covers_the_graceful_shutdown(blueprint: dict[str, Any]) -> None:
    """Render kills after maxShutdownDelaySeconds (default 30, at most 300): drain + lifespan must fit.

    The lifespans' own bounds: orders waits 15 s for the consumer and 5 s for the relay;
    notifier's SHUTDOWN_GRACE_SECONDS is at most 20.
    """
    lifespan_bound = {"wa-ingress": 5, "wa-orders": 20, "wa-notifier": 20}
    for name, bound in lifespan_bound.items():
        delay = resource(blueprint, name)["maxShutdownDelaySeconds"]
        assert GRACEFUL_SHUTDOWN_S + bound <= delay <= 300, name


def test_key_value_is_a_durable_internal_queue(blueprint: dict[str, Any]) -> None:
    kv = resource(blueprint, KEY_VALUE)
    assert kv["type"] == "keyvalue"
    assert kv["maxmemoryPolicy"] == "noeviction", "an evicted stream is lost orders"
    assert kv["plan"] not in (None, "free"), "the free plan does not persist to disk"
    assert kv["ipAllowList"] == [], "internal connections only"
    for name in SERVICES:
        assert env_entries(blueprint, name)["REDIS_URL"] == {
            "key": "REDIS_URL",
            "fromService": {"type": "keyvalue", "name": KEY_VALUE, "property": "connectionString"},
        }, name


def test_database_is_wired_to_orders_alone(blueprint: dict[str, Any]) -> None:
    db = resource(blueprint, DATABASE)
    assert db["plan"] != "free", "free databases expire"
    assert db["ipAllowList"] == []
    assert env_entries(blueprint, "wa-orders")["DATABASE_URL"]["fromDatabase"] == {
        "name": DATABASE,
        "property": "connectionString",
    }
    for name in ("wa-ingress", "wa-notifier"):
        entries = env_entries(blueprint, name).values()
        assert not any("fromDatabase" in e for e in entries), f"{name} must not see the database"


def test_one_region() -> None:
    data = yaml.safe_load(BLUEPRINT.read_text())
    regions = {r.get("region") for r in data["services"] + data["databases"]}
    assert len(regions) == 1 and None not in regions, f"private networking needs one region: {regions}"


def test_ports_are_reachable_on_the_private_network(blueprint: dict[str, Any]) -> None:
    """Prometheus scrapes over the private network, where Render reserves these ports."""
    for name in SERVICES:
        port = int(env_entries(blueprint, name)["PORT"]["value"])
        assert port not in (10000, 18012, 18013, 19099), name


def test_shared_settings_come_from_groups(blueprint: dict[str, Any]) -> None:
    groups = {g["name"] for g in blueprint["envVarGroups"]}
    for name in SERVICES:
        used = {e["fromGroup"] for e in resource(blueprint, name)["envVars"] if "fromGroup" in e}
        assert "wa-common" in used and used <= groups, name


@pytest.mark.parametrize("name", list(SERVICES))
def test_env_vars(blueprint: dict[str, Any], name: str) -> None:
    """Provided: every required variable and every contract variable the service reads.

    Nothing else: a variable the service does not read is an error (so is one another
    service needs, e.g. DATABASE_URL on ingress). Tunables keep their code defaults.
    """
    _, factory, _ = SERVICES[name]
    read = reads(factory)
    provided = set(env_entries(blueprint, name))
    must = (required(factory) | (read & CONTRACT_VARS)) - NOT_REQUIRED_IN_PRODUCTION
    assert not must - provided, f"{name} reads but render.yaml does not provide: {sorted(must - provided)}"
    extra = provided - read - PLATFORM_VARS
    assert not extra, f"{name} does not read: {sorted(extra)}"
    for tunable in read - provided:
        factory({k: v for k, v in PRODUCTION_LIKE.items() if k != tunable})  # has a default


@pytest.mark.parametrize("name", list(SERVICES))
def test_blueprint_values_pass_the_services_own_checks(blueprint: dict[str, Any], name: str) -> None:
    """The environment Render would build (literals + placeholders) is valid production config."""
    _, factory, _ = SERVICES[name]
    env = {}
    for key, entry in env_entries(blueprint, name).items():
        env[key] = str(entry["value"]) if "value" in entry else PLACEHOLDERS.get(key, "x" * 44)
    factory(env)


def test_no_secret_has_a_literal_value(blueprint: dict[str, Any]) -> None:
    entries = [e for g in blueprint["envVarGroups"] for e in g["envVars"]]
    for name in SERVICES:
        entries += [e for e in resource(blueprint, name)["envVars"] if "key" in e]
    for entry in entries:
        sources = {"value", "sync", "generateValue", "fromService", "fromDatabase"} & entry.keys()
        assert len(sources) == 1, f"{entry['key']}: exactly one source, got {sorted(sources)}"
        if "sync" in entry:
            assert entry["sync"] is False, entry["key"]
        if SECRET_NAME.search(entry["key"]):
            assert "value" not in entry, f"{entry['key']} is a secret: use sync: false or generateValue"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_env_example_lists_every_variable_a_service_reads(name: str) -> None:
    _module, factory, _type = SERVICES[name]
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    lines = [line for line in example.splitlines() if "=" in line and not line.startswith("#")]
    listed = {line.split("=", 1)[0] for line in lines}
    missing = reads(factory, PLACEHOLDERS) - listed
    assert not missing, f".env.example does not list {sorted(missing)} ({name} reads them)"
