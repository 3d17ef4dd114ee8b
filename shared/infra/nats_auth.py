"""NATS users for the embedded default: one per service, whose subject permissions cover only that
service's own subjects, and one operator for tools that must read every stream (the CLI, backups,
audits).

A service may publish events only under its own name (`louzu.evt.*.*.<service>.>`) and receive
commands and queries only for itself (`louzu.cmd.*.<service>.>`, `louzu.qry.*.<service>.>`). Each
committee (tenant) has a user of its own that may send commands and queries only for that committee
(`louzu.cmd.<tenant>.>`, `louzu.qry.<tenant>.>`): the gateway sends the consoles' commands and
queries (a roster print, an import) through the connection of the committee they are for, and has
no permission to send either itself. Services may use the JetStream API (reading the log is how
every read model is fed) and answer the requests they receive; those that pass files beside the
messages (roster, registry, gateway) may also write to the files bucket (`$O.louzu-files.>`), which
no committee user can reach. Passwords are random, kept in
`<LOUZU_HOME>/secrets/nats-users.json` (owner-only), and travel inside each service's NATS_URL.
`louzu status --json` names the operator's user/password file `nats_operator_file` and a NATS CLI context `nats_context`."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Iterable
from urllib.parse import quote, urlsplit, urlunsplit

from shared.eventlog.subjects import FILES_BUCKET

from shared.eventlog.subjects import KV_WRITERS

OPERATOR = "operator"
USERS_FILE = "nats-users.json"
OPERATOR_FILE = "nats-operator.json"
TENANT_PREFIX = "tenant-"
FILE_USERS = frozenset({"roster", "registry", "gateway"})  # who passes files beside the messages


def tenant_user(tenant: str) -> str:
    return TENANT_PREFIX + tenant


def load_or_create(secrets_dir: Path, services: Iterable[str], tenants: Iterable[str] = ()) -> dict[str, str]:
    """user → password, for the operator, every service and every tenant; new ones get a password."""
    path = secrets_dir / USERS_FILE
    users = json.loads(path.read_text()) if path.exists() else {}
    wanted = [OPERATOR, *services, *(tenant_user(t) for t in tenants)]
    if all(name in users for name in wanted):
        return users
    for name in wanted:
        users.setdefault(name, secrets.token_urlsafe(24))
    secrets_dir.mkdir(parents=True, exist_ok=True)
    _write_private(path, json.dumps(users, indent=2))
    return users


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.replace(path)


def permissions(user: str) -> dict:
    if user.startswith(TENANT_PREFIX):
        tenant = user[len(TENANT_PREFIX):]
        return {"publish": {"allow": [f"louzu.cmd.{tenant}.>", f"louzu.qry.{tenant}.>"]},
                "subscribe": {"allow": ["_INBOX.>"]}}
    publish = [f"louzu.evt.*.*.{user}.>", "$JS.API.>", "$JS.ACK.>",
               *(f"$KV.{bucket}.>" for bucket, writer in KV_WRITERS.items() if writer == user)]
    if user in FILE_USERS:
        publish += [f"$O.{FILES_BUCKET}.>", "$JS.FC.>"]  # a file's chunks and metadata; flow control
    subscribe = [f"louzu.cmd.*.{user}.>", f"louzu.qry.*.{user}.>", "_INBOX.>"]
    if user == "gateway":  # its projection runners announce their checkpoints to every gateway process
        publish.append("louzu.checkpoint.*")
        subscribe.append("louzu.checkpoint.*")
    return {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}, "allow_responses": True}


def authorization_block(users: dict[str, str]) -> str:
    """The `authorization { users = [...] }` section of nats-server.conf."""
    entries = []
    for name, password in users.items():
        entry = {"user": name, "password": password}
        if name != OPERATOR:
            entry["permissions"] = permissions(name)
        entries.append(json.dumps(entry))
    return "authorization {\n  users = [\n    " + ",\n    ".join(entries) + "\n  ]\n}\n"


def with_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{quote(user, safe='')}:{quote(password, safe='')}@{host}", parts.path,
                       parts.query, parts.fragment))


def write_operator_creds(secrets_dir: Path, url: str, users: dict[str, str]) -> Path:
    """The operator's user and password for tools (`nats_operator_file` in `louzu status --json`)."""
    path = secrets_dir / OPERATOR_FILE
    _write_private(path, json.dumps({"url": url, "user": OPERATOR, "password": users[OPERATOR]}, indent=2))
    return path


def tenant_url(secrets_dir: Path, base_url: str, tenant: str) -> str | None:
    """The URL a committee's commands go through, or None if this deployment has no users (or not
    yet one for this tenant: `louzu up` adds it within seconds of the committee's first compound)."""
    path = secrets_dir / USERS_FILE
    if not path.exists():
        return None
    password = json.loads(path.read_text()).get(tenant_user(tenant))
    return with_user(base_url, tenant_user(tenant), password) if password else None


def operator_url(creds_path: Path) -> str:
    creds = json.loads(Path(creds_path).read_text())
    return with_user(creds["url"], creds["user"], creds["password"])
