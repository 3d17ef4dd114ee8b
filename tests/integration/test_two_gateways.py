"""Two gateway processes behind one address, on real servers and real HTTP ports, given the same
secrets folder: a session signed in on one works on the other with its CSRF token, failed sign-ins
on both add up to one limit, a revoked grant stops working on both within the promised 10 s (and a sign-in on one drops what both had cached), and the
town's live stream opened on one pushes what a command sent through the other changed. And what
makes that hold underneath: the gateway's NATS user may write its KV buckets (nobody else may), and
a command decided on one gateway's outdated copy of a user is decided again on the log's."""
import asyncio
import json
import time
import uuid

import httpx
import nats
import pytest

from services.gateway.adapters.kv import Bucket, Keys
from services.gateway.adapters.principals import PRINCIPAL_TTL_S, PrincipalCache
from services.gateway.adapters.state import RateLimit, StateUnavailable, open_state
from services.gateway.application.access import AccessService
from services.gateway.bootstrap import Gateway
from services.gateway.entrypoints.sessions import COOKIE
from services.lockdown.bootstrap import Lockdown
from services.roster.bootstrap import Roster
from shared.commanding import CommandClient
from shared.commands.gateway import COMMANDS
from shared.eventlog.store import EventStore
from shared.infra import nats_auth
from shared.infra.embedded import EmbeddedNats
from shared.infra.system import free_port
from tests.conftest import eventually
from tests.integration.test_town_live import events
from tests.support.gateway import PASSWORD, USERS_TENANT, make_user, register_compound
from tests.support.registry import populate_building
from tests.support.running import running

pytestmark = pytest.mark.integration


@pytest.fixture
async def pair(platform, tmp_path, tenant):
    """Gateways A and B on their own ports, one secrets folder; lockdown and roster behind them."""
    secrets = tmp_path / "secrets"
    async with running(Lockdown(platform.nats_url, platform.database_url, schedule_interval=3600,
                                schedule_tenant=tenant),
                       Roster(platform.nats_url, platform.database_url),
                       Gateway(platform.nats_url, platform.database_url, secrets),
                       Gateway(platform.nats_url, platform.database_url, secrets)) as started:
        urls = []
        for gateway in started[-2:]:
            port = free_port()
            await gateway.serve("127.0.0.1", port)
            urls.append(f"http://127.0.0.1:{port}")
        yield urls


@pytest.fixture
async def town(pair, nc, db, tenant):
    """A compound with building 41 in a fresh town; a cadre of its committee and the town's dispatcher."""
    town = "town" + uuid.uuid4().hex[:6]
    await register_compound(EventStore(nc), tenant, "c1", "樱花苑", town)
    await populate_building(EventStore(nc), tenant, building="41", floors=1)
    users = {"cadre": f"cadre-{tenant}", "dispatcher": f"d-{town}"}
    await make_user(nc, users["cadre"], town, {"role": "committee_cadre", "grant_tenant": tenant})
    await make_user(nc, users["dispatcher"], town, {"role": "town_dispatcher"})
    await eventually(lambda: db.fetchval("SELECT count(*) = 2 FROM proj_gateway.grants WHERE user_id = ANY($1)",
                                         list(users.values())))
    await eventually(lambda: db.fetchval("SELECT count(*) = 2 FROM proj_roster.households WHERE tenant = $1", tenant))
    return {"town": town, "tenant": tenant, **users}


def roster(tenant: str) -> str:
    return f"/api/v1/committees/{tenant}/compounds/c1/buildings/41/roster"


async def sign_in(url: str, user_id: str, password: str = PASSWORD) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return await client.post("/api/v1/session", json={"user_id": user_id, "password": password})


def client_with(url: str, signed: httpx.Response) -> httpx.AsyncClient:
    """A client of this gateway carrying the cookie and CSRF token another gateway issued."""
    return httpx.AsyncClient(base_url=url, timeout=30, cookies={COOKIE: signed.cookies[COOKIE]},
                             headers={"X-CSRF-Token": signed.json()["csrf_token"]})


async def test_a_session_signed_in_on_one_gateway_works_on_the_other_with_its_csrf_token(pair, town):
    a, b = pair
    signed = await sign_in(a, town["cadre"])
    assert signed.status_code == 200
    async with client_with(b, signed) as on_b:
        me = await on_b.get("/api/v1/session")
        assert me.status_code == 200 and me.json()["user_id"] == town["cadre"]
        assert me.json()["csrf_token"] == signed.json()["csrf_token"]
        assert (await on_b.get(roster(town["tenant"]))).status_code == 200
        seal = f"/api/v1/committees/{town['tenant']}/compounds/c1/buildings/41/seal"
        body = {"town": town["town"], "reason": "阳性", "ordered_by": "镇防控办"}
        forged = await on_b.post(seal, json=body, headers={"X-CSRF-Token": "not-the-token"})
        assert forged.status_code == 403 and forged.json()["code"] == "csrf"
        sealed = await on_b.post(seal, json=body)
        assert sealed.status_code == 200, sealed.text


async def test_failed_sign_ins_on_both_gateways_add_up_and_the_sixth_on_either_is_held_back(pair, town):
    a, b = pair
    for url in (a, b, a, b, a):
        wrong = await sign_in(url, town["cadre"], "not-the-password")
        assert wrong.status_code == 401 and wrong.json()["code"] == "unauthenticated"
    for url in (b, a):
        held = await sign_in(url, town["cadre"])  # even the right password: the user waits
        assert held.status_code == 429 and held.json()["code"] == "too_many_attempts"
        seconds = int(held.json()["message_en"].split("retry in ")[1].split(" s")[0])
        assert 0 < seconds <= 60 and f"{seconds} 秒" in held.json()["message_zh"]


async def test_ten_wrong_passwords_sent_at_once_through_both_gateways_are_checked_at_most_five_times(pair, town):
    """A try is counted before its password hash is computed: parallel guesses cannot slip past."""
    a, b = pair
    answers = await asyncio.gather(*(sign_in((a, b)[i % 2], town["cadre"], f"guess-{i}") for i in range(10)))
    assert sorted(r.status_code for r in answers) == [401] * 5 + [429] * 5


async def test_a_revoked_grant_stops_working_on_both_gateways_within_ten_seconds(pair, town, nc, db):
    a, b = pair
    signed = await sign_in(a, town["cadre"])
    async with client_with(a, signed) as on_a, client_with(b, signed) as on_b:
        assert (await on_a.get(roster(town["tenant"]))).status_code == 200
        assert (await on_b.get(roster(town["tenant"]))).status_code == 200  # both have read the grant
        revoked = await CommandClient(nc, USERS_TENANT, "gateway").send("revoke_role", {
            "command_id": uuid.uuid4().hex, "tenant": USERS_TENANT, "compound": "all", "actor": "admin",
            "user_id": town["cadre"], "role": "committee_cadre", "grant_tenant": town["tenant"]})
        assert revoked["ok"] and revoked["event_ids"], revoked
        await eventually(lambda: db.fetchval("SELECT count(*) = 0 FROM proj_gateway.grants WHERE user_id = $1",
                                             town["cadre"]))
        applied = time.monotonic()

        async def refused_on_both():
            return all([(await on.get(roster(town["tenant"]))).status_code == 404 for on in (on_a, on_b)])
        await eventually(refused_on_both, timeout=PRINCIPAL_TTL_S + 5, interval=0.25)
        assert time.monotonic() - applied <= PRINCIPAL_TTL_S + 1


async def test_a_grant_given_while_signed_in_shows_on_both_gateways_as_soon_as_the_user_signs_in_again_on_one(
        pair, town, nc, db):
    """Signing in drops the principal every gateway has cached, not only the one signed in on."""
    a, b = pair
    overview = f"/api/v1/towns/{town['town']}/overview"
    signed = await sign_in(a, town["cadre"])
    async with client_with(b, signed) as on_b:
        assert (await on_b.get(overview)).status_code == 404  # B has read (and cached) the cadre's grants
        cached_at = time.monotonic()
        await make_user_grant(nc, town["cadre"], {"role": "town_dispatcher"})
        await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway.grants WHERE user_id = $1 "
                                             "AND role = 'town_dispatcher'", town["cadre"]))
        assert (await sign_in(a, town["cadre"])).status_code == 200
        assert (await on_b.get(overview)).status_code == 200
        assert time.monotonic() - cached_at < PRINCIPAL_TTL_S  # B's own copy would still have been fresh


async def make_user_grant(nc, user_id: str, grant: dict) -> None:
    reply = await CommandClient(nc, USERS_TENANT, "gateway").send("grant_role", {
        "command_id": uuid.uuid4().hex, "tenant": USERS_TENANT, "compound": "all", "actor": "admin",
        "user_id": user_id, **grant})
    assert reply["ok"] and reply["event_ids"], reply


async def test_the_town_stream_opened_on_one_gateway_pushes_a_seal_sent_through_the_other(pair, town):
    a, b = pair
    signed = await sign_in(a, town["dispatcher"])
    async with client_with(a, signed) as on_a, client_with(b, signed) as on_b:
        async with on_b.stream("GET", f"/town/{town['town']}/events") as live:
            lines = live.aiter_lines()
            [(first, _, html)] = await events(lines, 1)
            assert "樱花苑" in html and 'data-building="41"' not in html
            sealed = await on_a.post(f"/api/v1/committees/{town['tenant']}/compounds/c1/buildings/41/seal",
                                     json={"town": town["town"], "reason": "阳性", "ordered_by": "镇防控办"})
            assert sealed.status_code == 200, sealed.text
            pushed, html = first, ""
            while 'data-building="41"' not in html:
                [(pushed, _, html)] = await asyncio.wait_for(events(lines, 1), 30)
            assert pushed > first


async def test_a_role_revoked_through_one_instance_after_it_was_granted_through_the_other_is_revoked(nc):
    """Each instance keeps the aggregates it has loaded; a revocation decided on one that has not
    seen the grant would be a silent no-op (nothing to revoke) without a look at the log."""
    one, other = AccessService(EventStore(nc)), AccessService(EventStore(nc))
    user = f"u-{uuid.uuid4().hex[:8]}"

    def command(name: str, **fields):
        return COMMANDS[name].model_validate({"tenant": USERS_TENANT, "compound": "all", "actor": "admin",
                                              "command_id": uuid.uuid4().hex, "user_id": user, **fields})
    await one.execute(command("register_user", display_name=user, town="t", password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"))
    await other.execute(command("grant_role", role="town_dispatcher"))
    revoked = await one.execute(command("revoke_role", role="town_dispatcher"))
    assert revoked.event_ids and type(revoked.events[0]).__name__ == "RoleRevoked"
    again = await other.execute(command("grant_role", role="town_dispatcher"))  # its copy still holds the grant
    assert again.event_ids and type(again.events[0]).__name__ == "RoleGranted"


async def test_the_gateway_s_nats_user_may_write_its_buckets_and_another_service_s_user_may_not(tmp_path):
    users = nats_auth.load_or_create(tmp_path / "secrets", ["gateway", "roster"])
    server = EmbeddedNats(tmp_path, authorization=nats_auth.authorization_block(users)).start()
    try:
        as_gateway = await nats.connect(nats_auth.with_user(server.url, "gateway", users["gateway"]))
        async def refused(_error) -> None:  # the server's "Permissions Violation": what this test expects
            pass
        as_roster = await nats.connect(nats_auth.with_user(server.url, "roster", users["roster"]), error_cb=refused)
        try:
            limits, principals = await open_state(as_gateway, b"k" * 32)
            await limits.succeeded(await limits.attempt("ip:10.0.0.1"))
            await principals.put("someone", None)
            assert await principals.get("someone") == (True, None)
            _, theirs = await open_state(as_roster, b"k" * 32)  # reading the bucket's settings is allowed
            with pytest.raises((nats.errors.Error, asyncio.TimeoutError)):
                await asyncio.wait_for(theirs.kv.put(theirs.keys("principal:someone"), b"null"), 3)
            assert await principals.get("someone") == (True, None)
            assert (await principals.kv.get(principals.keys("principal:someone"))).revision == 1  # not written again
        finally:
            await as_roster.close()
            await as_gateway.close()
    finally:
        server.stop()


async def test_an_unreachable_bucket_costs_the_cache_not_the_promise_and_holds_sign_ins_back():
    """Without KV the principal is read from the database at every request (the 10 s promise holds
    without the cache), and a sign-in is refused for now rather than left uncounted."""
    class Down:
        async def get(self, *_args, **_kwargs):
            raise nats.errors.TimeoutError
        put = create = update = delete = get

    keys = Keys(b"k" * 32)
    cache = PrincipalCache(Down(), keys)
    assert await cache.get("someone") == (False, None)
    await cache.put("someone", None)
    await cache.forget("someone")
    with pytest.raises(StateUnavailable):
        await RateLimit(Down(), keys).attempt("ip:10.0.0.1", "user:someone")


async def test_a_bucket_the_server_lost_is_made_again_at_the_next_write(nc):
    """Memory storage does not survive a nats-server restart; the gateway process does."""
    bucket = await Bucket(nc, f"test-{uuid.uuid4().hex[:8]}", 10).open()
    try:
        limits = RateLimit(bucket, Keys(b"k" * 32))
        await limits.attempt("ip:10.0.0.1")
        await nc.jetstream().delete_key_value(bucket.name)
        await limits.attempt("ip:10.0.0.1")
        assert len(json.loads((await bucket.get(limits.keys("ip:10.0.0.1"))).value)) == 1  # counted afresh
    finally:
        await nc.jetstream().delete_key_value(bucket.name)
