"""Queries over NATS request–reply, served and sent the way `shared/commanding.py` serves commands:
a queue group per service (its instances share the load), every message answered — malformed ones
included — with the reply or a clear bilingual refusal, never a stack trace.

As in nats.py's `nats/micro` services, a refusal also carries the `Nats-Service-Error` and
`Nats-Service-Error-Code` headers; the body says `{"ok": false, "error": {...}}` like a refused
command. `register_queries` declares the same subscriber on a FastStream broker for the AsyncAPI
contract; `QueryServer` serves it with a lean nats-py subscription."""
from __future__ import annotations

from typing import Awaitable, Callable, Mapping

import orjson
from faststream.nats import NatsBroker, NatsMessage
from nats.aio.client import Client as NATS
from nats.errors import NoRespondersError, TimeoutError as NatsTimeout
from pydantic import BaseModel, ValidationError

from shared.commanding import RequestServer, ServiceUnavailable, validation_problem
from shared.errors import DomainError, Problem
from shared.eventlog.subjects import query_filter, query_subject
from shared.logging import get_logger
from shared.queries.base import Query, Reply

log = get_logger("louzu.queries")
Answer = Callable[[Query], Awaitable[Reply]]
Queries = Mapping[str, tuple[type[Query], type[Reply]]]
ERROR_HEADER, ERROR_CODE_HEADER = "Nats-Service-Error", "Nats-Service-Error-Code"  # as nats.micro sends them


def _header(text: str) -> str:
    """One line of ASCII (a building number may be Chinese; a line break would end the headers)."""
    return " ".join(text.split()).encode("ascii", "backslashreplace").decode()[:300]


def refused(problem: Problem) -> dict:
    return {"ok": False, "error": problem.as_dict()}


async def answer(queries: Queries, handle: Answer, tenant: str, name: str, body: dict) -> dict:
    spec = queries.get(name)
    if spec is None:
        return refused(Problem("unknown_query", f"无法识别的查询「{name}」", f"unknown query {name!r}"))
    try:
        query = spec[0].model_validate(body)
    except ValidationError as exc:
        return refused(validation_problem(exc))
    if query.tenant != tenant:
        return refused(Problem("wrong_tenant", "查询的居委与主题不符", "the query's tenant does not match its subject",
                               "tenant"))
    try:
        return (await handle(query)).model_dump(mode="json")
    except DomainError as exc:
        return refused(exc.problem)
    except Exception as exc:  # noqa: BLE001 - a bug: answered and logged, never a silent timeout
        log.error("query.failed", query=name, tenant=tenant, error=type(exc).__name__, exc_info=True)
        return refused(Problem("internal_error", "系统内部错误，已记录，请联系管理员",
                               "internal error; it was logged — tell the operator"))


def register_queries(broker: NatsBroker, service: str, queries: Queries, handle: Answer, *, title: str,
                     description: str) -> None:
    """The query subscriber as a FastStream declaration (what the AsyncAPI contract is made from)."""
    @broker.subscriber(query_filter(service), queue=f"{service}-queries", title=title, description=description)
    async def on_query(body: dict, msg: NatsMessage) -> dict:
        _, _, tenant, _, name = msg.raw_message.subject.split(".")
        return await answer(queries, handle, tenant, name, body)


class QueryServer(RequestServer):
    """Serves one service's queries: at most `concurrency` in progress (a print is seconds of CPU;
    the rest wait their turn in order), every message answered, a refusal with the micro headers."""

    def __init__(self, nc: NATS, service: str, queries: Queries, handle: Answer, *, concurrency: int = 4) -> None:
        super().__init__(nc, query_filter(service), f"{service}-queries",
                         lambda tenant, name, body: answer(queries, handle, tenant, name, body),
                         Problem("malformed_query", "查询格式错误（应为 JSON 对象）",
                                 "malformed query: the body must be a JSON object"),
                         concurrency=concurrency, drain_s=60, headers=_refusal_headers)


def _refusal_headers(reply: dict) -> dict | None:
    if reply.get("ok"):
        return None
    return {ERROR_HEADER: _header(reply["error"]["message_en"]), ERROR_CODE_HEADER: _header(reply["error"]["code"])}


class QueryClient:
    """Asks one service for one committee. Not retried: a print takes seconds, and a second one
    would only print again."""

    def __init__(self, nc: NATS, tenant: str, service: str, *, timeout: float = 120) -> None:
        self.nc, self.tenant, self.service, self.timeout = nc, tenant, service, timeout

    async def ask(self, name: str, query: BaseModel) -> dict:
        subject = query_subject(self.tenant, self.service, name)
        try:
            reply = await self.nc.request(subject, query.model_dump_json().encode(), timeout=self.timeout)
        except NoRespondersError:
            raise ServiceUnavailable(f"the {self.service} service is not running (服务未运行)") from None
        except NatsTimeout:
            raise ServiceUnavailable(f"the {self.service} service did not answer (服务无应答)") from None
        return orjson.loads(reply.data)
