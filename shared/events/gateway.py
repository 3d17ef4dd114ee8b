"""Events of the gateway service: who may sign in (users and their role grants) and the audit
trail of every read of personal data through the consoles and the HTTP API.

Sign-ins are unique across the deployment: every user lives under the tenant `louzu-users`, compound
`all`, aggregate `user`. Reads of a committee's personal data are recorded under that committee's
tenant and compound, aggregate `audit`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.eventlog.envelope import Event, register

Role = Literal["town_admin", "town_dispatcher", "committee_cadre", "volunteer", "resident"]
ROLES: tuple[str, ...] = ("town_admin", "town_dispatcher", "committee_cadre", "volunteer", "resident")


USERS_TENANT = "louzu-users"


class GatewayEvent(Event):
    service = "gateway"


@register
class UserRegistered(GatewayEvent):
    """Someone was given a sign-in."""

    aggregate = "user"
    user_id: str = Field(description="sign-in name, unique within the town")
    display_name: str = Field(description="name shown in the consoles")
    town: str = Field(description="town the user belongs to")
    password_hash: str = Field(description="argon2id hash of the password (never the password)")
    registered_by: str = Field(description="user id of whoever created the sign-in")
    registered_at: datetime = Field(description="when")


@register
class PasswordChanged(GatewayEvent):
    """A user's password was changed."""

    aggregate = "user"
    user_id: str = Field(description="user id")
    password_hash: str = Field(description="argon2id hash of the new password")
    changed_by: str = Field(description="user id")
    changed_at: datetime = Field(description="when")


@register
class RoleGranted(GatewayEvent):
    """A user was given a role over a scope: a town (dispatcher), a committee's compounds (cadre), a
    compound's gate posts and deliveries (volunteer), or one household (resident)."""

    aggregate = "user"
    user_id: str = Field(description="user id")
    role: Role = Field(description="town_admin (sign-ins and grants of the town), town_dispatcher, committee_cadre, "
                                   "volunteer or resident")
    tenant: str = Field(default="", description="committee (tenant) the role covers; empty for a town dispatcher")
    compound: str = Field(default="", description="compound, for a volunteer or a resident")
    household_id: str = Field(default="", description="household, for a resident")
    granted_by: str = Field(description="user id")
    granted_at: datetime = Field(description="when")


@register
class RoleRevoked(GatewayEvent):
    """A role grant was taken back."""

    aggregate = "user"
    user_id: str = Field(description="user id")
    role: Role = Field(description="role")
    tenant: str = Field(default="", description="committee")
    compound: str = Field(default="", description="compound")
    household_id: str = Field(default="", description="household")
    revoked_by: str = Field(description="user id")
    revoked_at: datetime = Field(description="when")


@register
class PersonalDataRead(GatewayEvent):
    """Someone viewed, printed or exported residents' personal data (who, what, when, why)."""

    aggregate = "audit"
    user_id: str = Field(description="who read it")
    role: Role = Field(description="in which role")
    what: str = Field(description="what was read, e.g. roster 38 pdf masked")
    operation: str = Field(description="the HTTP operation id or console page")
    why: str = Field(description="the purpose given, or the operation's standing purpose")
    clear: bool = Field(default=False, description="ID numbers or phones were shown in clear")
    read_at: datetime = Field(description="when")
