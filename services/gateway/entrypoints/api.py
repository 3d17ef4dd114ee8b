"""The HTTP API's commands under /api/v1. Commands go to the services over NATS and answer with the
resulting event ids. Every operation first asks the signed-in principal whether it reaches the
committee, compound (and household) named in the path; one it does not reach is answered as if it
did not exist (404).

A retried command carrying the same `Idempotency-Key` header gets the same answer (the same event
ids) and changes nothing: the command id is derived from the user and the key."""
from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared.commanding import CommandClient, ServiceUnavailable
from shared.errors import Problem
from services.gateway.domain.access import Principal
from services.gateway.entrypoints.common import C, ERRORS, Ctx, IdempotencyKey, Who, plain, reach
from services.gateway.entrypoints.context import Context
from services.gateway.entrypoints.problems import ApiProblem

router = APIRouter(prefix="/api/v1", responses=ERRORS)


class CommandAccepted(BaseModel):
    """A command was executed (or had been: `duplicate`)."""

    event_ids: list[str] = Field(description="ids of the events the command appended")
    duplicate: bool = Field(description="true when this is a retry of a command already executed")


async def command(ctx: Context, who: Principal, service: str, name: str, tenant: str, compound: str, key: str | None,
                  **body: Any) -> CommandAccepted:
    command_id = (hashlib.sha256(f"{who.user_id}\0{key}".encode()).hexdigest() if key else uuid.uuid4().hex)
    payload = {"command_id": command_id, "tenant": tenant, "compound": compound, "actor": who.user_id,
               **{k: v for k, v in body.items() if v is not None}}
    try:
        reply = await CommandClient(await ctx.bus_for(tenant), tenant, service).send(name, plain(payload))
    except ServiceUnavailable:
        raise ApiProblem(Problem("service_unavailable", f"{service} 服务暂不可用，请稍后重试",
                                 f"the {service} service is not available; retry shortly")) from None
    if not reply.get("ok"):
        err = reply["error"]
        raise ApiProblem(Problem(err["code"], err["message_zh"], err["message_en"], err.get("field")))
    return CommandAccepted(event_ids=list(reply["event_ids"]), duplicate=bool(reply.get("duplicate")))



# ---- lockdown ------------------------------------------------------------------------------------

class SealBody(BaseModel):
    town: str = Field(description="town whose policy applies")
    reason: str = Field(min_length=1, max_length=500)
    ordered_by: str = Field(min_length=1, max_length=100, description="who ordered it, e.g. 镇防控办")


class RescheduleBody(BaseModel):
    days: float = Field(gt=0, le=60, description="days to add to the current phase")
    reason: str = Field(min_length=1, max_length=500)


class ReleaseBody(BaseModel):
    reason: str = Field(default="", max_length=500, description="required when releasing early")


@router.post(C + "/buildings/{building}/seal", operation_id="sealBuilding", response_model=CommandAccepted)
async def seal_building(tenant: str, compound: str, building: str, body: SealBody, who: Who, ctx: Ctx,
                        key: IdempotencyKey = None):
    reach(who, "sealBuilding", tenant, compound)
    return await command(ctx, who, "lockdown", "seal_building", tenant, compound, key, building=building,
                         **body.model_dump())


@router.post(C + "/buildings/{building}/extend", operation_id="extendSealing", response_model=CommandAccepted)
async def extend_sealing(tenant: str, compound: str, building: str, body: RescheduleBody, who: Who, ctx: Ctx,
                         key: IdempotencyKey = None):
    reach(who, "extendSealing", tenant, compound)
    return await command(ctx, who, "lockdown", "reschedule_episode", tenant, compound, key, building=building,
                         kind="extend", **body.model_dump())


@router.post(C + "/buildings/{building}/release", operation_id="releaseBuilding", response_model=CommandAccepted)
async def release_building(tenant: str, compound: str, building: str, body: ReleaseBody, who: Who, ctx: Ctx,
                           key: IdempotencyKey = None):
    reach(who, "releaseBuilding", tenant, compound)
    return await command(ctx, who, "lockdown", "release_building", tenant, compound, key, building=building,
                         **body.model_dump())


class ReportBody(BaseModel):
    household_id: str
    resident_id: str
    temperature: float = Field(ge=34.0, le=43.0, description="°C")
    symptoms: str = Field(default="", max_length=500)
    need: str = Field(default="", max_length=500)


@router.post(C + "/buildings/{building}/reports", operation_id="reportResident", response_model=CommandAccepted)
async def report_resident(tenant: str, compound: str, building: str, body: ReportBody, who: Who, ctx: Ctx,
                          key: IdempotencyKey = None):
    reach(who, "reportResident", tenant, compound, body.household_id)
    return await command(ctx, who, "lockdown", "report_resident", tenant, compound, key, building=building,
                         **body.model_dump())


class GatePassBody(BaseModel):
    resident_id: str
    household_id: str
    direction: Literal["out", "in"]
    reason: str = Field(min_length=1, max_length=200)


@router.post(C + "/buildings/{building}/gate-passes", operation_id="recordGatePass", response_model=CommandAccepted)
async def record_gate_pass(tenant: str, compound: str, building: str, body: GatePassBody, who: Who, ctx: Ctx,
                           key: IdempotencyKey = None):
    reach(who, "recordGatePass", tenant, compound)
    return await command(ctx, who, "lockdown", "record_gate_pass", tenant, compound, key, building=building,
                         **body.model_dump())


class RoundBody(BaseModel):
    round_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]{0,31}$")
    buildings: list[str] = Field(min_length=1)
    site: str = Field(min_length=1, max_length=200)
    starts_at: datetime


@router.post(C + "/rounds", operation_id="scheduleTestingRound", response_model=CommandAccepted)
async def schedule_round(tenant: str, compound: str, body: RoundBody, who: Who, ctx: Ctx, key: IdempotencyKey = None):
    reach(who, "scheduleTestingRound", tenant, compound)
    return await command(ctx, who, "lockdown", "schedule_testing_round", tenant, compound, key, **body.model_dump())


class CheckOffBody(BaseModel):
    """Who was sampled: by resident and household (a tap on the roster), or by the sampling code on
    the resident's phone (a scan), which names them."""

    resident_id: str | None = None
    household_id: str | None = None
    code: str | None = Field(default=None, min_length=4, max_length=64, description="a scanned sampling code")
    tube_id: str = Field(min_length=1, max_length=64)
    method: Literal["code", "roster", "door"] = "roster"


@router.post(C + "/rounds/{round_id}/samples", operation_id="checkOffSample", response_model=CommandAccepted)
async def check_off(tenant: str, compound: str, round_id: str, body: CheckOffBody, who: Who, ctx: Ctx,
                    key: IdempotencyKey = None):
    reach(who, "checkOffSample", tenant, compound)
    fields = body.model_dump(exclude={"code"})
    if body.code:
        async with ctx.reader([tenant]) as conn:
            booked = await conn.fetchrow("SELECT resident_id, household_id FROM proj_lockdown.sampling_codes "
                                         "WHERE tenant = $1 AND round_id = $2 AND code = $3", tenant, round_id,
                                         body.code.strip())
        if booked is None:
            raise ApiProblem(Problem("unknown_code", f"采样码「{body.code}」未在本轮预约，请改为点选姓名",
                                     f"sampling code {body.code!r} is not booked in this round; tap the name instead",
                                     "code"), 422)
        fields.update(resident_id=booked["resident_id"], household_id=booked["household_id"], method="code")
    elif not (body.resident_id and body.household_id):
        raise ApiProblem(Problem("invalid_field", "请扫描采样码，或指定居民和户号",
                                 "scan a sampling code, or name the resident and household", "code"), 422)
    return await command(ctx, who, "lockdown", "check_off_sample", tenant, compound, key, round_id=round_id, **fields)


class CloseRoundBody(BaseModel):
    force: bool = Field(default=False, description="close with residents unaccounted for, listing them")


@router.post(C + "/rounds/{round_id}/close", operation_id="closeTestingRound", response_model=CommandAccepted)
async def close_round(tenant: str, compound: str, round_id: str, body: CloseRoundBody, who: Who, ctx: Ctx,
                      key: IdempotencyKey = None):
    reach(who, "closeTestingRound", tenant, compound)
    return await command(ctx, who, "lockdown", "close_testing_round", tenant, compound, key, round_id=round_id,
                         **body.model_dump())


# ---- delivery ------------------------------------------------------------------------------------

class DeliveryBody(BaseModel):
    household_id: str
    building: str
    items: str = Field(min_length=1, max_length=500)
    category: Literal["medicine", "food", "daily_goods", "medical_supplies"]
    source: Literal["relatives_at_gate", "shop", "committee_stock", "group_purchase"] = "shop"
    urgency: Literal["urgent", "normal"] = "normal"


@router.post(C + "/deliveries", operation_id="requestDelivery", response_model=CommandAccepted)
async def request_delivery(tenant: str, compound: str, body: DeliveryBody, who: Who, ctx: Ctx,
                           key: IdempotencyKey = None):
    reach(who, "requestDelivery", tenant, compound, body.household_id)
    on_behalf = "resident" not in {g.role for g in who.grants_over(tenant, compound, body.household_id)}
    return await command(ctx, who, "delivery", "request_delivery", tenant, compound, key, on_behalf=on_behalf,
                         **body.model_dump())


class AssignBody(BaseModel):
    assignee_id: str = Field(min_length=1, max_length=64)
    assignee_kind: Literal["gate_post_pair", "volunteer"] = "volunteer"


@router.post(C + "/deliveries/{request_id}/assign", operation_id="assignDelivery", response_model=CommandAccepted)
async def assign_delivery(tenant: str, compound: str, request_id: str, body: AssignBody, who: Who, ctx: Ctx,
                          key: IdempotencyKey = None):
    reach(who, "assignDelivery", tenant, compound)
    return await command(ctx, who, "delivery", "assign_delivery", tenant, compound, key, request_id=request_id,
                         **body.model_dump())


class CompleteBody(BaseModel):
    confirmed_by_resident: bool = False
    note: str = Field(default="", max_length=500)


@router.post(C + "/deliveries/{request_id}/complete", operation_id="completeDelivery", response_model=CommandAccepted)
async def complete_delivery(tenant: str, compound: str, request_id: str, body: CompleteBody, who: Who, ctx: Ctx,
                            key: IdempotencyKey = None):
    reach(who, "completeDelivery", tenant, compound)
    return await command(ctx, who, "delivery", "complete_delivery", tenant, compound, key, request_id=request_id,
                         **body.model_dump())


# ---- roster and rota -----------------------------------------------------------------------------

class DispatchBody(BaseModel):
    people: list[dict] = Field(min_length=1, description="[{person_id, name, from_compound, from_tenant}]")


@router.post(C + "/reinforcements/{request_id}/dispatch", operation_id="dispatchReinforcement",
             response_model=CommandAccepted)
async def dispatch_reinforcement(tenant: str, compound: str, request_id: str, body: DispatchBody, who: Who, ctx: Ctx,
                                 key: IdempotencyKey = None):
    reach(who, "dispatchReinforcement", tenant, compound)
    return await command(ctx, who, "roster", "dispatch_reinforcement", tenant, compound, key, request_id=request_id,
                         people=body.people)
