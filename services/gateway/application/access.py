"""Sign-ins and grants as commands on the user aggregate; signing in; the audit trail of reads."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Callable

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.commands import gateway as c
from shared.errors import DomainError
from shared.eventlog.envelope import Metadata
from shared.eventlog.executor import CommandResult, Executor
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject, slug
from shared.events import gateway as e
from services.gateway.domain import access
from services.gateway.domain.access import Grant, Principal, User
from services.gateway.projections.places import town_tenants

SERVICE = "gateway"
HASHER = PasswordHasher()  # argon2id, the library's defaults (RFC 9106 second recommended option)
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise DomainError("weak_password", f"密码至少 {MIN_PASSWORD} 位", f"a password needs at least {MIN_PASSWORD} "
                          "characters", "password")
    return HASHER.hash(password)


def user_subject(user_id: str) -> AggregateSubject:
    return AggregateSubject.make(e.USERS_TENANT, "all", SERVICE, "user", slug(user_id))


class AccessService:
    def __init__(self, store: EventStore, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.store, self.clock = store, clock
        self.users: Executor[User] = Executor(store, SERVICE, User, access.apply)

    async def execute(self, cmd: c.Command) -> CommandResult:
        rules = {c.RegisterUser: access.register_user, c.ChangePassword: access.change_password,
                 c.GrantRole: access.grant_role, c.RevokeRole: access.revoke_role}
        if type(cmd) not in rules:
            raise DomainError("unknown_command", "无法识别的指令", f"unknown command {cmd.name}")
        rule, now = rules[type(cmd)], self.clock()
        return await self.users.execute(cmd, user_subject(cmd.user_id), lambda u: rule(u, cmd, now))

    async def town_of(self, user_id: str) -> str | None:
        """The town of a sign-in as the log has it now (None: no such sign-in)."""
        user = User()
        for recorded in await self.store.read_aggregate(user_subject(user_id)):
            user = access.apply(user, recorded.event)
        return user.registered.town if user.registered else None

    async def audit(self, principal: Principal, tenant: str, compound: str, *, what: str, operation: str, why: str,
                    clear: bool = False) -> None:
        """Record a read of personal data before the data leaves the gateway."""
        event = e.PersonalDataRead(user_id=principal.user_id, role=principal.role or "resident", what=what,
                                   operation=operation, why=why, clear=clear, read_at=self.clock())
        subject = AggregateSubject.make(tenant, compound, SERVICE, "audit", slug(principal.user_id))
        await self.store.append(subject, [event], expected=None, meta=Metadata(uuid.uuid4().hex, None, None,
                                                                               f"/louzu/gateway/{principal.user_id}"))


async def sign_in(pool: asyncpg.Pool, user_id: str, password: str, schema: str = "proj_gateway") -> Principal | None:
    """The principal if the password matches, else None (the same answer for an unknown user)."""
    row = await pool.fetchrow(f'SELECT user_id, display_name, town, password_hash FROM "{schema}".users '
                              'WHERE user_id = $1', user_id)
    try:
        HASHER.verify(row["password_hash"] if row else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return await principal_of(pool, row["user_id"], schema) if row else None


_DUMMY = HASHER.hash("not-a-password-at-all")  # same work for an unknown user: no timing oracle


async def principal_of(pool: asyncpg.Pool, user_id: str, schema: str = "proj_gateway") -> Principal | None:
    row = await pool.fetchrow(f'SELECT user_id, display_name, town FROM "{schema}".users WHERE user_id = $1', user_id)
    if row is None:
        return None
    grants = await pool.fetch(f'SELECT role, tenant, compound, household_id FROM "{schema}".grants WHERE user_id = $1 '
                              'ORDER BY role, tenant, compound, household_id', user_id)
    in_town = await town_tenants(pool, row["town"])  # the committees a town dispatcher reaches
    return Principal(row["user_id"], row["display_name"], row["town"],
                     tuple(Grant(g["role"], g["tenant"], g["compound"], g["household_id"]) for g in grants),
                     frozenset(in_town))
