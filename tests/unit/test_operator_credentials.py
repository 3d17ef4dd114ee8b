"""`louzu up` leaves the operator's credential under names that say what they are: a JSON file of
user and password (`nats_operator_file`), and a NATS CLI context (`nats_context`) that `nats
--context <file>` loads as it is (natscli reads a context from a path ending in .json)."""
from __future__ import annotations

import json
import stat

from shared.infra import nats_auth
from shared.infra.system import NATS_CONTEXT, System, read_state, urls, write_nats_context
from shared.settings import PlatformSettings

# The fields natscli's context file has (jsm.go natscontext `settings`); ours may hold only some.
NATS_CONTEXT_FIELDS = {"description", "url", "socks_proxy", "token", "user", "password", "creds", "nkey", "cert",
                       "key", "ca", "nsc", "jetstream_domain", "jetstream_api_prefix", "jetstream_event_prefix",
                       "inbox_prefix", "user_jwt", "color_scheme", "tls_first"}


def owner_only(path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_the_context_is_a_nats_cli_context_readable_by_its_owner_alone(tmp_path):
    path = write_nats_context(tmp_path / "nats-context" / "louzu.json", "nats://127.0.0.1:4222", "operator", "pw")
    context = json.loads(path.read_text())
    assert set(context) <= NATS_CONTEXT_FIELDS
    assert (context["url"], context["user"], context["password"]) == ("nats://127.0.0.1:4222", "operator", "pw")
    assert path.suffix == ".json" and owner_only(path) and owner_only(path.parent)


def test_the_state_names_the_operator_file_and_the_context_and_no_creds(tmp_path):
    settings = PlatformSettings(louzu_home=tmp_path)
    settings.secrets_dir.mkdir(parents=True)
    system = System(settings, nats_users=nats_auth.load_or_create(settings.secrets_dir, ["registry"]))
    system.write_state("nats://127.0.0.1:4222", "postgresql://db")
    state = read_state(settings)
    assert "nats_creds" not in state
    operator = json.loads(open(state["nats_operator_file"]).read())
    assert set(operator) == {"url", "user", "password"} and operator["user"] == nats_auth.OPERATOR
    context = json.loads(open(state["nats_context"]).read())
    assert state["nats_context"] == str(settings.home / NATS_CONTEXT)
    assert (context["url"], context["user"], context["password"]) == (operator["url"], operator["user"],
                                                                       operator["password"])
    assert "@" not in state["nats_url"]


def test_commands_connect_as_the_operator_named_by_the_state(tmp_path):
    settings = PlatformSettings(louzu_home=tmp_path)
    settings.secrets_dir.mkdir(parents=True)
    system = System(settings, nats_users=nats_auth.load_or_create(settings.secrets_dir, ["registry"]))
    system.write_state("nats://127.0.0.1:4222", "postgresql://db")
    nats_url, _ = urls(settings)
    assert nats_url.startswith("nats://operator:") and nats_url.endswith("@127.0.0.1:4222")


def test_without_users_the_context_has_the_given_url_only(tmp_path):
    settings = PlatformSettings(louzu_home=tmp_path)
    System(settings).write_state("nats://nats:4222", "postgresql://db")
    state = read_state(settings)
    assert state["nats_operator_file"] is None
    context = json.loads(open(state["nats_context"]).read())
    assert (context["url"], context["user"], context["password"]) == ("nats://nats:4222", "", "")
