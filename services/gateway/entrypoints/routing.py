"""One route per command, registered from a table (`operations.py`), not written by hand.

An HTTP operation is a `shared/commands` model and where it is addressed: the path names the
committee, compound and the aggregate (building, round, request…), the body is the command's other
fields — the same model, so every limit is written once. The route checks the caller's reach first
(one they do not reach is answered as if it did not exist), fills in what the server decides (the
command id, the actor), validates the whole command, sends it to its service over NATS and answers
with the ids of the events it appended and the stream position of the last one (body `position`,
header `Louzu-Position`), which a later read may send back to see its own write."""
from __future__ import annotations

import hashlib
import inspect
import re
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any, Awaitable, Callable, Literal, Mapping

from fastapi import APIRouter, Body, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from shared.commanding import CommandClient, ServiceUnavailable, validation_problem
from shared.commands.base import TOKEN, TOWN, Command
from shared.errors import Problem
from shared.events.gateway import USERS_TENANT
from services.gateway.domain.access import Principal
from services.gateway.entrypoints.common import ERRORS, IdempotencyKey, Who, reach
from services.gateway.entrypoints.context import Context
from services.gateway.entrypoints.problems import ApiProblem, not_found

ENVELOPE = frozenset({"name", "command_id", "tenant", "compound", "actor", "correlation_id"})
POSITION_HEADER = "Louzu-Position"
Fields = dict[str, Any]
Prepare = Callable[[Context, Principal, str, str, Fields], Awaitable[Fields]]


class CommandAccepted(BaseModel):
    """A command was executed (or had been: `duplicate`)."""

    event_ids: list[str] = Field(description="ids of the events the command appended")
    duplicate: bool = Field(description="true when this is a retry of a command already executed")
    position: int = Field(description="stream position of the command's last event; send it back as the "
                                      "Louzu-Position header (or ?position=) of a read to see this write")


@dataclass(frozen=True)
class Operation:
    """One HTTP operation that sends one command."""

    operation_id: str
    path: str  # under /api/v1; {tenant} and {compound} (or {town}) plus command fields by name
    command: type[Command]
    summary: str
    scope: Literal["compound", "town", "users"] = "compound"
    fixed: Mapping[str, Any] = field(default_factory=dict)  # fields the route decides, e.g. kind="extend"
    hidden: frozenset[str] = frozenset()  # command fields the body does not take (filled by `prepare`)
    household: str | None = None  # a body field naming a household the caller must reach
    prepare: Prepare | None = None  # adds or checks fields the owner cannot (e.g. a code looked up)
    body: type[BaseModel] | None = None  # a body other than the command's own fields
    example: Mapping[str, Any] | None = None

    @property
    def service(self) -> str:
        return service_of(self.command)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


def service_of(command: type[Command]) -> str:
    """The service that owns a command: its contract module's name (shared/commands/<service>.py)."""
    return command.__module__.rsplit(".", 1)[-1]


def command_fields(op: Operation) -> list[str]:
    """The fields of the command a client writes in the body."""
    taken = ENVELOPE | set(op.path_params) | set(op.fixed) | op.hidden
    return [name for name in op.command.model_fields if name not in taken]


def body_model(op: Operation) -> type[BaseModel] | None:
    if op.body is not None:
        return op.body
    names = command_fields(op)
    if not names:
        return None
    source = op.command.model_fields
    example = op.example if op.example is not None else example_for(op, names)
    return create_model(op.operation_id[0].upper() + op.operation_id[1:] + "Body",
                        __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": [example]}),
                        __doc__=op.summary, **{name: (source[name].annotation, source[name]) for name in names})


SAMPLES: dict[str, Any] = {
    "town": "taopu", "building": "38", "household_id": "38-1-302", "resident_id": "r3810302a",
    "reason": "302室阳性", "ordered_by": "镇防控办", "round_id": "r0322", "buildings": ["38"], "site": "小区广场",
    "starts_at": "2022-03-22T07:00:00+08:00", "tube_id": "T001", "code": "SH0123456789", "temperature": 36.6,
    "direction": "out", "items": "降压药 2 盒", "category": "medicine", "source": "shop", "assignee_id": "dz-zhou",
    "assignee_kind": "volunteer", "facility": "方舱医院", "task_key": "print_roster", "template_key": "sealing_notice",
    "display_name": "302 张", "kind": "household", "member_id": "m1", "positive": True, "days": 2,
    "supplier": "盒马", "offer": "蔬菜包 1 份", "unit_price_fen": 8800, "delivery_due": "2022-03-25", "quantity": 2,
    "purchase_id": "p0324", "person_id": "dz-zhou", "person_name": "周建华", "role": "party_volunteer",
    "day": "2022-03-24", "shift": "08:30-12:30", "post_id": "b38", "out_person": "dz-wu", "in_person": "dy-zhao",
    "person_ids": ["jw-yuan", "jw-li"], "people": 2, "from_day": "2022-03-24", "until_day": "2022-03-27",
    "entrances": 3, "floors": 6, "cadre_id": "li-wj", "cadre_name": "李文娟", "entrance": "1", "room": "302", "user_id": "li-wj", "to_cadre_id": "li-wj", "outcome": "filled",
}


def example_for(op: Operation, names: list[str]) -> dict[str, Any]:
    """A body that passes validation: the required fields (and a reason or note where one is asked
    for), from samples or the first allowed value."""
    out: dict[str, Any] = {}
    for name in names:
        info = op.command.model_fields[name]
        if not (info.is_required() or name in ("reason", "note", "force")):
            continue
        check = TypeAdapter(Annotated[info.annotation, info])
        choices = [SAMPLES.get(name, "x"), *getattr(info.annotation, "__args__", ())]
        for value in choices:
            try:
                check.validate_python(value)
            except (ValidationError, TypeError):
                continue
            out[name] = value
            break
    return out


def _path_param(op: Operation, name: str) -> Any:
    if name in ("tenant", "compound"):
        return Annotated[str, Path(min_length=1, max_length=64, pattern=TOKEN)]
    if name == "town":
        return Annotated[str, Path(min_length=1, max_length=58, pattern=TOWN)]
    info = op.command.model_fields.get(name)
    if info is None:
        return Annotated[str, Path(min_length=1, max_length=64)]
    schema = TypeAdapter(Annotated[info.annotation, info]).json_schema()
    return Annotated[str, Path(min_length=schema.get("minLength"), max_length=schema.get("maxLength"),
                               pattern=schema.get("pattern"), description=info.description)]


def add_operations(router: APIRouter, operations: list[Operation], authorize: Callable[..., tuple[str, str]]) -> None:
    """Register one route per operation. `authorize(who, op, path)` answers (tenant, compound) or raises 404."""
    for op in operations:
        model = body_model(op)
        router.add_api_route(op.path, _endpoint(op, model, authorize), methods=["POST"], operation_id=op.operation_id,
                             summary=op.summary, tags=[op.service], response_model=CommandAccepted,
                             responses={200: {"headers": {POSITION_HEADER: {
                                 "description": "stream position of the command's last event",
                                 "schema": {"type": "integer"}}}}, **ERRORS})


def _reached(op: Operation, authorize) -> Callable:
    """The reach check as a dependency: it runs before the body is read, so a caller outside the
    committee gets the same 404 whatever they send, never a 422 about a body they may not send."""
    async def reached(request: Request, who: Who) -> tuple[str, str]:
        return authorize(who, op, request.path_params)
    return reached


def _endpoint(op: Operation, model: type[BaseModel] | None, authorize) -> Callable:
    async def endpoint(**values: Any) -> CommandAccepted:
        who: Principal = values["who"]
        ctx: Context = values["request"].app.state.ctx
        path = {name: values[name] for name in op.path_params}
        body = values.get("body")
        fields: Fields = body.model_dump(exclude_unset=True) if isinstance(body, BaseModel) else {}
        tenant, compound = values["reached"]
        if op.household:
            reach(who, op.operation_id, tenant, compound, fields.get(op.household))
        fields.update({k: v for k, v in path.items() if k not in ("tenant", "compound")}, **op.fixed)
        if op.prepare is not None:
            fields = await op.prepare(ctx, who, tenant, compound, fields)
        accepted = await send(ctx, who, op.command, tenant, compound, values.get("key"), fields)
        values["response"].headers[POSITION_HEADER] = str(accepted.position)
        return accepted

    params = [inspect.Parameter("response", inspect.Parameter.KEYWORD_ONLY, annotation=Response),
              inspect.Parameter("who", inspect.Parameter.KEYWORD_ONLY, annotation=Who),
              inspect.Parameter("reached", inspect.Parameter.KEYWORD_ONLY,
                                annotation=Annotated[tuple[str, str], Depends(_reached(op, authorize))]),
              # the context from the request itself: as a plain-function dependency (`Ctx`) FastAPI would
              # call it in a worker thread, a tenth of the gateway's CPU per command (docs/benchmarks.md)
              inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
              inspect.Parameter("key", inspect.Parameter.KEYWORD_ONLY, annotation=IdempotencyKey, default=None)]
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=_path_param(op, name))
               for name in op.path_params]
    if model is not None:
        required = any(f.is_required() for f in model.model_fields.values())
        params.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY,
                                        annotation=Annotated[model, Body()] if required else
                                        Annotated[model | None, Body()], default=inspect.Parameter.empty
                                        if required else None))
    endpoint.__signature__ = inspect.Signature(params)
    endpoint.__name__ = op.operation_id
    endpoint.__doc__ = op.summary
    return endpoint


async def send(ctx: Context, who: Principal, command: type[Command], tenant: str, compound: str, key: str | None,
               fields: Fields) -> CommandAccepted:
    """Validate the whole command (a field out of its limits is a 422 naming it) and send it to its service."""
    command_id = hashlib.sha256(f"{who.user_id}\0{key}".encode()).hexdigest() if key else uuid.uuid4().hex
    try:
        cmd = command.model_validate({"command_id": command_id, "tenant": tenant, "compound": compound,
                                      "actor": who.user_id, **fields})
    except ValidationError as exc:
        raise ApiProblem(validation_problem(exc), 422) from None
    service = service_of(command)
    try:
        reply = await CommandClient(await ctx.bus_for(tenant), tenant, service).send(
            cmd.name, cmd.model_dump(mode="json", exclude_none=True))
    except ServiceUnavailable:
        raise ApiProblem(Problem("service_unavailable", f"{service} 服务暂不可用，请稍后重试",
                                 f"the {service} service is not available; retry shortly")) from None
    if not reply.get("ok"):
        err = reply["error"]
        raise ApiProblem(Problem(err["code"], err["message_zh"], err["message_en"], err.get("field")))
    return CommandAccepted(event_ids=list(reply["event_ids"]), duplicate=bool(reply.get("duplicate")),
                           position=int(reply.get("last_seq") or 0))


def compound_scope(who: Principal, op: Operation, path: Mapping[str, str]) -> tuple[str, str]:
    reach(who, op.operation_id, path["tenant"], path["compound"])
    return path["tenant"], path["compound"]


def town_scope(who: Principal, op: Operation, path: Mapping[str, str]) -> tuple[str, str]:
    if not who.can_town(op.operation_id, path["town"]):
        raise not_found()
    return f"town-{path['town']}", "all"


def users_scope(who: Principal, op: Operation, path: Mapping[str, str]) -> tuple[str, str]:
    if not who.can_town(op.operation_id, who.town):
        raise not_found()
    return USERS_TENANT, "all"


def authorize(who: Principal, op: Operation, path: Mapping[str, str]) -> tuple[str, str]:
    return {"compound": compound_scope, "town": town_scope, "users": users_scope}[op.scope](who, op, path)

