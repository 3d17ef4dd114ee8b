"""Commands of the gateway service over NATS request–reply (`louzu.cmd.louzu-users.gateway.<name>`):
sign-ins and role grants. Passwords never travel: the caller sends an argon2id hash."""
from __future__ import annotations

from pydantic import Field

from shared.commands.base import Command, Name, Town
from shared.events.gateway import Role

USER_ID = r"^[a-z0-9][a-z0-9_.-]{1,63}$"
TENANT = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class RegisterUser(Command):
    name: str = "register_user"
    user_id: str = Field(min_length=2, max_length=64, pattern=USER_ID)
    display_name: Name(50)
    town: Town
    password_hash: str = Field(max_length=300, pattern=r"^\$argon2id\$")


class ChangePassword(Command):
    name: str = "change_password"
    user_id: str = Field(min_length=2, max_length=64, pattern=USER_ID)
    password_hash: str = Field(max_length=300, pattern=r"^\$argon2id\$")


class GrantRole(Command):
    name: str = "grant_role"
    user_id: str = Field(min_length=2, max_length=64, pattern=USER_ID)
    role: Role
    grant_tenant: str = Field(default="", pattern=r"^([a-z0-9][a-z0-9_-]{0,63})?$")
    grant_compound: str = Field(default="", pattern=r"^([a-z0-9][a-z0-9_-]{0,63})?$")
    household_id: str = Field(default="", max_length=64, pattern=r"^([^\s/\\<>]{1,64})?$")


class RevokeRole(Command):
    name: str = "revoke_role"
    user_id: str = Field(min_length=2, max_length=64, pattern=USER_ID)
    role: Role
    grant_tenant: str = Field(default="", pattern=r"^([a-z0-9][a-z0-9_-]{0,63})?$")
    grant_compound: str = Field(default="", pattern=r"^([a-z0-9][a-z0-9_-]{0,63})?$")
    household_id: str = Field(default="", max_length=64, pattern=r"^([^\s/\\<>]{1,64})?$")


COMMANDS: dict[str, type[Command]] = {c.model_fields["name"].default: c for c in (
    RegisterUser, ChangePassword, GrantRole, RevokeRole)}
