"""Who may see and do what. A user holds role grants; a `Principal` is a signed-in user with the
tenants (committees) and compounds those grants reach. Every HTTP operation asks `Principal.can`
before it touches anything, and an operation on a building outside the principal's reach is
answered exactly like one on a building that does not exist (404): nothing leaks.

The user aggregate's rules are here too: register, change password, grant, revoke."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.commands import gateway as c
from shared.errors import DomainError
from shared.eventlog.envelope import Event
from shared.events import gateway as e

# operation → roles that may call it (within their scope)
CADRE = frozenset({"committee_cadre"})
CADRE_AND_TOWN = frozenset({"committee_cadre", "town_dispatcher"})
ON_DUTY = frozenset({"committee_cadre", "volunteer"})
READERS = frozenset({"committee_cadre", "volunteer", "town_dispatcher"})
TOWN = frozenset({"town_dispatcher"})
ADMIN = frozenset({"town_admin"})


def _all(roles: frozenset[str], *operations: str) -> dict[str, frozenset[str]]:
    return dict.fromkeys(operations, roles)


OPERATIONS: dict[str, frozenset[str]] = {
    **_all(CADRE_AND_TOWN, "sealBuilding", "extendSealing", "shortenSealing", "resetSealing", "releaseBuilding",
           "getBuildingRoster", "printBuildingRoster", "scheduleTestingRound", "closeTestingRound",
           "recordTestResult", "transferResident", "recordDisinfection", "requestReinforcement",
           "closeReinforcement", "listFevers", "listMissedReports", "listOutNow", "getGroupCoverage"),
    **_all(CADRE, "completePlaybookTask", "publishNotice", "joinBuildingGroup", "leaveBuildingGroup",
           "bookSamplingCodes", "markAbsent", "acceptDelivery", "assignDelivery", "failDelivery", "retryDelivery",
           "cancelDelivery", "escalateDelivery", "openGroupPurchase", "closeGroupPurchase",
           "recordGroupPurchaseArrival", "enrollDutyPerson", "setDutyAvailability", "withdrawDutyPerson",
           "openGatePost", "closeGatePost", "planRota", "swapShift", "setStandby", "importResidents",
           "registerCompound", "registerBuilding", "assignBuildingCadre", "registerHousehold", "updateResident",
           "moveOutResident", "verifyResident", "eraseResident"),
    **_all(ON_DUTY, "checkOffSample", "recordGatePass", "pickUpDelivery", "completeDelivery", "checkInShift",
           "checkOutShift"),
    **_all(READERS, "listUnsampled", "getDeliveryQueue", "getRota", "listNotices", "listPlaybookTasks",
           "listCompounds", "listBuildings", "listHouseholds", "listResidents"),
    "reportResident": frozenset({"committee_cadre", "resident"}),
    "requestDelivery": frozenset({"committee_cadre", "resident"}),
    "orderGroupPurchase": frozenset({"committee_cadre", "resident"}),
    "cancelGroupPurchaseOrder": frozenset({"committee_cadre", "resident"}),
    "getHousehold": frozenset({"resident", "committee_cadre"}),
    **_all(TOWN, "getTownOverview", "dispatchReinforcement", "setTownPolicy", "publishPlaybook",
           "listReinforcements"),
    **_all(ADMIN, "registerUser", "changePassword", "grantRole", "revokeRole", "listUsers"),
}
# roles that see personal data only masked, whatever they ask for
MASKED_ONLY = frozenset({"volunteer", "resident", "town_dispatcher"})


@dataclass(frozen=True)
class Grant:
    role: str
    tenant: str = ""
    compound: str = ""
    household_id: str = ""


@dataclass(frozen=True)
class Principal:
    user_id: str
    display_name: str
    town: str
    grants: tuple[Grant, ...]
    town_tenants: frozenset[str] = frozenset()  # committees of the town (for a dispatcher)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    @property
    def role(self) -> str:
        """The principal's widest role, for the audit trail and the landing page."""
        for role in ("town_admin", "town_dispatcher", "committee_cadre", "volunteer", "resident"):
            if role in self.roles:
                return role
        return ""

    def tenants(self) -> frozenset[str]:
        """Every committee whose data this principal may read at all."""
        reach = {g.tenant for g in self.grants if g.tenant}
        if "town_dispatcher" in self.roles:
            reach |= self.town_tenants
        return frozenset(reach)

    def grants_over(self, tenant: str, compound: str | None = None, household: str | None = None) -> list[Grant]:
        found = []
        for g in self.grants:
            if g.role == "town_dispatcher" and tenant in self.town_tenants:
                found.append(g)
            elif g.tenant == tenant and (not g.compound or compound is None or g.compound == compound):
                if g.role == "resident" and household is not None and g.household_id != household:
                    continue
                found.append(g)
        return found

    def can(self, operation: str, tenant: str, compound: str | None = None, household: str | None = None) -> bool:
        allowed = OPERATIONS.get(operation, frozenset())
        return any(g.role in allowed for g in self.grants_over(tenant, compound, household))

    def can_town(self, operation: str, town: str) -> bool:
        """Town-wide operations (policy, playbook, sign-ins): a town role of this very town."""
        allowed = OPERATIONS.get(operation, frozenset())
        return bool(town) and self.town == town and any(g.role in allowed for g in self.grants if not g.tenant)

    def masked_only(self, tenant: str) -> bool:
        return not any(g.role == "committee_cadre" for g in self.grants_over(tenant))


@dataclass
class User:
    registered: e.UserRegistered | None = None
    password_hash: str = ""
    grants: set[Grant] = field(default_factory=set)


def apply(u: User, ev: Event) -> User:
    match ev:
        case e.UserRegistered():
            u.registered, u.password_hash = ev, ev.password_hash
        case e.PasswordChanged():
            u.password_hash = ev.password_hash
        case e.RoleGranted():
            u.grants.add(Grant(ev.role, ev.tenant, ev.compound, ev.household_id))
        case e.RoleRevoked():
            u.grants.discard(Grant(ev.role, ev.tenant, ev.compound, ev.household_id))
    return u


def _known(u: User, user_id: str) -> None:
    if u.registered is None:
        raise DomainError("unknown_user", f"没有用户「{user_id}」", f"there is no user {user_id}", "user_id")


def register_user(u: User, cmd: c.RegisterUser, now: datetime) -> list[Event]:
    if u.registered is not None:
        raise DomainError("user_exists", f"用户名「{cmd.user_id}」已被使用", f"user id {cmd.user_id} is taken", "user_id")
    return [e.UserRegistered(user_id=cmd.user_id, display_name=cmd.display_name, town=cmd.town,
                             password_hash=cmd.password_hash, registered_by=cmd.actor, registered_at=now)]


def change_password(u: User, cmd: c.ChangePassword, now: datetime) -> list[Event]:
    _known(u, cmd.user_id)
    return [e.PasswordChanged(user_id=cmd.user_id, password_hash=cmd.password_hash, changed_by=cmd.actor,
                              changed_at=now)]


def _grant_of(cmd: c.GrantRole | c.RevokeRole) -> Grant:
    needs = {"town_admin": (), "town_dispatcher": (), "committee_cadre": ("grant_tenant",),
             "volunteer": ("grant_tenant", "grant_compound"),
             "resident": ("grant_tenant", "grant_compound", "household_id")}[cmd.role]
    for name in needs:
        if not getattr(cmd, name):
            raise DomainError("scope_missing", f"角色「{cmd.role}」需要指定 {name}", f"role {cmd.role} needs {name}", name)
    return Grant(cmd.role, cmd.grant_tenant, cmd.grant_compound, cmd.household_id)


def grant_role(u: User, cmd: c.GrantRole, now: datetime) -> list[Event]:
    _known(u, cmd.user_id)
    grant = _grant_of(cmd)
    if grant in u.grants:
        return []
    return [e.RoleGranted(user_id=cmd.user_id, role=grant.role, tenant=grant.tenant, compound=grant.compound,
                          household_id=grant.household_id, granted_by=cmd.actor, granted_at=now)]


def revoke_role(u: User, cmd: c.RevokeRole, now: datetime) -> list[Event]:
    _known(u, cmd.user_id)
    grant = _grant_of(cmd)
    if grant not in u.grants:
        return []
    return [e.RoleRevoked(user_id=cmd.user_id, role=grant.role, tenant=grant.tenant, compound=grant.compound,
                          household_id=grant.household_id, revoked_by=cmd.actor, revoked_at=now)]
