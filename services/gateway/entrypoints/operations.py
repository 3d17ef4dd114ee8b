"""Every command the HTTP API sends: one row per operation (its id, where it is addressed, its
`shared/commands` model). Who may call each one is `domain/access.py::OPERATIONS`; how a row becomes
a route is `routing.py`. A command the services issue themselves (`advance_phase`,
`lend_duty_person`) has no row."""
from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.commands import delivery as d, gateway as g, lockdown as k, registry as r, roster as o
from shared.commands.base import IDENT, Household, Ident, Name
from shared.errors import Problem
from services.gateway.domain.access import Principal
from services.gateway.entrypoints.context import Context
from services.gateway.entrypoints.problems import ApiProblem, not_found
from services.gateway.entrypoints.routing import Fields, Operation
from services.gateway.projections import places

C = "/committees/{tenant}/compounds/{compound}"
B = C + "/buildings/{building}"
R = C + "/rounds/{round_id}"
D = C + "/deliveries/{request_id}"
P = C + "/purchases/{purchase_id}"
ROTA = C + "/rota"


class CheckOffBody(BaseModel):
    """Who was sampled: by resident and household (a tap on the roster), or by the sampling code on
    the resident's phone (a scan), which names them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"code": "SH0123456789", "tube_id": "T001"}, {"resident_id": "r3810302a", "household_id": "38-1-302",
                                                     "tube_id": "T001", "method": "roster"}]})
    resident_id: Ident | None = None
    household_id: Household | None = None
    code: str | None = Field(default=None, min_length=4, max_length=64, pattern=IDENT,
                             description="a scanned sampling code")
    tube_id: Ident
    method: Literal["code", "roster", "door"] = "roster"


async def check_off_by_code(ctx: Context, who: Principal, tenant: str, compound: str, fields: Fields) -> Fields:
    code = fields.pop("code", None)
    if code:
        async with ctx.reader([tenant]) as conn:
            booked = await places.sampling_code(conn, tenant, fields["round_id"], code.strip())
        if booked is None:
            raise ApiProblem(Problem("unknown_code", f"采样码「{code}」未在本轮预约，请改为点选姓名",
                                     f"sampling code {code!r} is not booked in this round; tap the name instead",
                                     "code"), 422)
        fields.update(resident_id=booked["resident_id"], household_id=booked["household_id"], method="code")
    elif not (fields.get("resident_id") and fields.get("household_id")):
        raise ApiProblem(Problem("invalid_field", "请扫描采样码，或指定居民和户号",
                                 "scan a sampling code, or name the resident and household", "code"), 422)
    return fields


async def for_household(ctx: Context, who: Principal, tenant: str, compound: str, fields: Fields) -> Fields:
    """A cadre who asks for a household asks on its behalf (a phone call, a neighbour)."""
    roles = {grant.role for grant in who.grants_over(tenant, compound, fields.get("household_id"))}
    return {**fields, "on_behalf": "resident" not in roles}


class NewUser(BaseModel):
    """A sign-in for someone of the administrator's town; the password is hashed at the edge and never travels."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"user_id": "li-wj", "display_name": "李文娟", "password": "a-long-passphrase-2022"}]})
    user_id: str = Field(min_length=2, max_length=64, pattern=g.USER_ID)
    display_name: Name(50)
    password: str = Field(min_length=10, max_length=200, description="at least 10 characters")


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"password": "a-new-passphrase-22"}]})
    password: str = Field(min_length=10, max_length=200, description="at least 10 characters")


async def of_the_town(ctx: Context, who: Principal, user_id: str) -> None:
    """Another town's sign-in is answered as one that does not exist."""
    if await ctx.access.town_of(user_id) != who.town:
        raise not_found("本镇没有该用户", "no such user in your town")


async def hashed(ctx: Context, who: Principal, tenant: str, compound: str, fields: Fields) -> Fields:
    from services.gateway.application.access import hash_password
    if "display_name" not in fields:  # a new password for someone who exists
        await of_the_town(ctx, who, fields["user_id"])
    password = fields.pop("password")
    fields["password_hash"] = await asyncio.to_thread(hash_password, password)
    if "display_name" in fields:
        fields["town"] = who.town
    return fields


async def within_town(ctx: Context, who: Principal, tenant: str, compound: str, fields: Fields) -> Fields:
    """A town administrator grants roles over the town's own committees only."""
    await of_the_town(ctx, who, fields["user_id"])
    role, scope = fields.get("role"), fields.get("grant_tenant", "")
    if role in ("town_admin", "town_dispatcher"):
        if scope:
            raise ApiProblem(Problem("invalid_field", "镇级角色不属于某个居委，请不要指定居委",
                                     "a town role belongs to no committee: leave grant_tenant empty", "grant_tenant"),
                             422)
    elif scope not in who.town_tenants:
        raise not_found("本镇没有该居委", "no such committee in your town")
    return fields


def ops() -> list[Operation]:
    return [
        # ---- lockdown: sealing, the playbook, the building group, the gate log
        Operation("sealBuilding", B + "/seal", k.SealBuilding, "Seal a building (2-day seal, then health monitoring)"),
        Operation("extendSealing", B + "/extend", k.RescheduleEpisode, "Extend the current phase",
                  fixed={"kind": "extend"}),
        Operation("shortenSealing", B + "/shorten", k.RescheduleEpisode, "Shorten the current phase",
                  fixed={"kind": "shorten"}),
        Operation("resetSealing", B + "/reset", k.RescheduleEpisode, "Start the current phase again (a new case)",
                  fixed={"kind": "reset"}),
        Operation("releaseBuilding", B + "/release", k.ReleaseBuilding, "Release a building"),
        Operation("completePlaybookTask", B + "/tasks/{task_key}/complete", k.CompleteTask,
                  "Mark a task of the town's playbook done for this building"),
        Operation("publishNotice", B + "/notices", k.PublishNotice, "Post a notice from the town's templates"),
        Operation("joinBuildingGroup", B + "/group", k.JoinGroup, "Add a household member or service party to "
                  "the building group (楼组群)"),
        Operation("leaveBuildingGroup", B + "/group/{member_id}/leave", k.LeaveGroup,
                  "Remove someone from the building group"),
        Operation("recordGatePass", B + "/gate-passes", k.RecordGatePass, "Log an exit or entry at the gate post"),
        Operation("reportResident", B + "/reports", k.ReportResident, "Report a resident's temperature",
                  household="household_id"),
        Operation("transferResident", B + "/transfers", k.TransferResident, "Record a transfer (转运) of a resident"),
        Operation("recordDisinfection", B + "/disinfections", k.DisinfectBuilding,
                  "Record the disinfection (消杀) of the building"),
        # ---- lockdown: mass testing
        Operation("scheduleTestingRound", C + "/rounds", k.ScheduleTestingRound,
                  "Schedule a testing round, floors called down in slots"),
        Operation("bookSamplingCodes", R + "/codes", k.BookSamplingCode, "Book a resident's sampling code"),
        Operation("checkOffSample", R + "/samples", k.CheckOffSample, "Check off a resident as sampled",
                  body=CheckOffBody, prepare=check_off_by_code),
        Operation("markAbsent", R + "/absences", k.MarkAbsent, "Mark a resident absent from the round, with why"),
        Operation("closeTestingRound", R + "/close", k.CloseTestingRound, "Close a round once everyone is accounted for"),
        Operation("recordTestResult", R + "/results", k.RecordTestResult, "Record a pooled tube's result"),
        # ---- lockdown: the town's policy and playbook
        Operation("setTownPolicy", "/towns/{town}/policy", k.SetTownPolicy, "Set the town's policy (a new version)",
                  scope="town"),
        Operation("publishPlaybook", "/towns/{town}/playbook", k.PublishPlaybook,
                  "Publish the town's standard workflow and notice templates", scope="town"),
        # ---- delivery
        Operation("requestDelivery", C + "/deliveries", d.RequestDelivery, "Ask for supplies to a household's door",
                  household="household_id", hidden=frozenset({"on_behalf"}), prepare=for_household),
        Operation("acceptDelivery", D + "/accept", d.AcceptDelivery, "Accept a request into the queue"),
        Operation("assignDelivery", D + "/assign", d.AssignDelivery, "Give a request to a volunteer or gate pair"),
        Operation("pickUpDelivery", D + "/pick-up", d.PickUpDelivery, "The items were picked up"),
        Operation("completeDelivery", D + "/complete", d.CompleteDelivery, "The items reached the door"),
        Operation("failDelivery", D + "/fail", d.FailDelivery, "The delivery could not be made"),
        Operation("retryDelivery", D + "/retry", d.RetryDelivery, "Put a failed request back in the queue"),
        Operation("cancelDelivery", D + "/cancel", d.CancelDelivery, "Cancel a request"),
        Operation("escalateDelivery", D + "/escalate", d.EscalateDelivery, "Hand a stuck request to a cadre"),
        Operation("openGroupPurchase", C + "/purchases", d.OpenGroupPurchase, "Open a group purchase (团购)"),
        Operation("orderGroupPurchase", P + "/orders", d.OrderGroupPurchase, "Order units of a group purchase",
                  household="household_id"),
        Operation("cancelGroupPurchaseOrder", P + "/orders/{household_id}/cancel", d.CancelGroupPurchaseOrder,
                  "Cancel a household's order"),
        Operation("closeGroupPurchase", P + "/close", d.CloseGroupPurchase, "Close a group purchase to new orders"),
        Operation("recordGroupPurchaseArrival", P + "/arrival", d.RecordGroupPurchaseArrival,
                  "The group purchase arrived: deliveries are queued"),
        # ---- roster: the gate-post rota and reinforcements
        Operation("enrollDutyPerson", ROTA + "/people", o.EnrollDutyPerson, "Enrol a volunteer or cadre in the pool"),
        Operation("setDutyAvailability", ROTA + "/people/{person_id}/availability", o.SetDutyAvailability,
                  "Change when someone can serve"),
        Operation("withdrawDutyPerson", ROTA + "/people/{person_id}/withdraw", o.WithdrawDutyPerson,
                  "Take someone out of the pool"),
        Operation("openGatePost", ROTA + "/posts", o.OpenGatePost, "Open a gate post for a sealed building"),
        Operation("closeGatePost", ROTA + "/posts/{post_id}/close", o.CloseGatePost, "Close a gate post"),
        Operation("planRota", ROTA + "/plan", o.PlanRota, "Plan pairs: one day on, one day off, fair"),
        Operation("swapShift", ROTA + "/posts/{post_id}/swaps", o.SwapShift, "Swap someone out of a shift"),
        Operation("checkInShift", ROTA + "/posts/{post_id}/check-ins", o.CheckInShift, "Check in at a shift"),
        Operation("checkOutShift", ROTA + "/posts/{post_id}/check-outs", o.CheckOutShift,
                  "Check out of a shift, with a handover note"),
        Operation("setStandby", ROTA + "/standby", o.SetStandby, "Cadres on 24-hour standby for a day"),
        Operation("requestReinforcement", C + "/reinforcements", o.RequestReinforcement,
                  "Ask the town for more people"),
        Operation("dispatchReinforcement", C + "/reinforcements/{request_id}/dispatch", o.DispatchReinforcement,
                  "The town sends people to a committee that asked", example={"people": [
                      {"person_id": "zb-he", "name": "何晓东", "from_compound": "lanxiyuan", "from_tenant": "lanxiyuan"}]}),
        Operation("closeReinforcement", C + "/reinforcements/{request_id}/close", o.CloseReinforcement,
                  "Close a reinforcement request"),
        # ---- registry: the three-level net (residents come in through imports: their ID numbers are sealed there)
        Operation("registerCompound", C, r.RegisterCompound, "Register the compound a committee serves"),
        Operation("registerBuilding", C + "/buildings", r.RegisterBuilding, "Register a building"),
        Operation("assignBuildingCadre", B + "/cadre", r.AssignBuildingCadre,
                  "Make a cadre responsible (包干) for a building"),
        Operation("registerHousehold", C + "/households", r.RegisterHousehold, "Register a household"),
        Operation("updateResident", C + "/residents/{resident_id}", r.UpdateResident,
                  "Correct a resident's household, name, relation or flags",
                  hidden=frozenset({"phone_sealed", "phone_mask"})),
        Operation("moveOutResident", C + "/residents/{resident_id}/move-out", r.MoveOutResident,
                  "A resident moved out"),
        Operation("verifyResident", C + "/residents/{resident_id}/verify", r.VerifyResident,
                  "A door-to-door visit confirmed a resident's record"),
        Operation("eraseResident", C + "/residents/{resident_id}/erase", r.EraseResident,
                  "Erase a resident's personal data (crypto-shredding; the events stay, unreadable)"),
        # ---- users: sign-ins and grants, by the town's administrator
        Operation("registerUser", "/users", g.RegisterUser, "Give someone of the town a sign-in", scope="users",
                  body=NewUser, prepare=hashed, hidden=frozenset({"password_hash", "town"})),
        Operation("changePassword", "/users/{user_id}/password", g.ChangePassword, "Set a new password",
                  scope="users", body=NewPassword, prepare=hashed, hidden=frozenset({"password_hash"})),
        Operation("grantRole", "/users/{user_id}/grants", g.GrantRole, "Grant a role over a committee or the town",
                  scope="users", prepare=within_town),
        Operation("revokeRole", "/users/{user_id}/grants/revoke", g.RevokeRole, "Revoke a role", scope="users",
                  prepare=within_town),
    ]


OPERATIONS = ops()
