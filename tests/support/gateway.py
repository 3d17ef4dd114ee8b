"""Helpers for the gateway's tests: a running gateway on real servers, users with roles, compounds
in a town, and an HTTP client signed in as someone."""
from __future__ import annotations

import uuid

import httpx

from shared.commanding import CommandClient
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject
from shared.events import registry as r
from shared.events.gateway import USERS_TENANT
from services.gateway.application.access import hash_password
from tests.support.registry import NOW

PASSWORD = "correct-horse-38"
_HASH: dict[str, str] = {}


async def register_compound(store: EventStore, tenant: str, compound: str, name: str, town: str) -> None:
    await store.append(AggregateSubject.make(tenant, compound, "registry", "compound", compound),
                       [r.CompoundRegistered(compound=compound, name=name, town=town, registered_by="t",
                                             registered_at=NOW)], expected=None, meta=Metadata(uuid.uuid4().hex))


async def make_user(nc, user_id: str, town: str, *grants: dict, password: str = PASSWORD) -> None:
    client = CommandClient(nc, USERS_TENANT, "gateway")
    base = {"tenant": USERS_TENANT, "compound": "all", "actor": "admin"}
    if password not in _HASH:
        _HASH[password] = hash_password(password)
    reply = await client.send("register_user", {**base, "command_id": uuid.uuid4().hex, "user_id": user_id,
                                                "display_name": user_id, "town": town, "password_hash": _HASH[password]})
    assert reply["ok"], reply
    for grant in grants:
        reply = await client.send("grant_role", {**base, "command_id": uuid.uuid4().hex, "user_id": user_id, **grant})
        assert reply["ok"], reply


async def signed_in(app, user_id: str, password: str = PASSWORD) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://louzu.test")
    response = await client.post("/api/v1/session", json={"user_id": user_id, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client
