"""What every HTTP route module of the API shares: the path prefix of a compound, the dependencies
(signed-in principal, context), the reach check and the JSON conversion of read rows."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from services.gateway.domain.access import Principal
from services.gateway.entrypoints.context import Context, context, principal
from services.gateway.application.positions import PositionNotReached
from services.gateway.entrypoints.problems import ApiProblem, not_found, problem_responses
from services.gateway.projections.views import NAME as VIEWS
from shared.errors import Problem

C = "/committees/{tenant}/compounds/{compound}"
Who = Annotated[Principal, Depends(principal)]
Ctx = Annotated[Context, Depends(context)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
# what any operation on a committee may answer; openapi.honest() adds 400, 403 and 413 where they apply
ERRORS = problem_responses(401, 404, 409, 422, 503)


async def read_after(request: Request,
                     position: Annotated[int | None, Query(ge=0, le=2**62, description=(
                         "see the write that answered this position (or send the Louzu-Position header)"))] = None,
                     header: Annotated[int | None, Header(alias="Louzu-Position", ge=0, le=2**62)] = None) -> None:
    """A read that names a position waits — at most a few seconds — until the gateway's read model has
    applied the log that far, so a client sees its own write; then 503, never a stale answer."""
    wanted = max(position or 0, header or 0)
    if not wanted:
        return
    ctx = context(request)
    if not ctx.positions.passed((VIEWS,), wanted) and wanted > await ctx.positions.log_end():
        raise ApiProblem(Problem("invalid_field", f"位置 {wanted} 超出事件日志的末尾，请使用命令返回的位置",
                                 f"position {wanted} is past the end of the log; send the position a command "
                                 "answered", "position"), 422)
    try:
        await ctx.positions.wait((VIEWS,), wanted)
    except PositionNotReached as late:
        raise ApiProblem(Problem(
            "not_yet_visible", f"刚才的操作已记录（位置 {wanted}），但页面数据尚未更新，请几秒后刷新",
            f"your change is recorded (position {wanted}) but the views have not caught up yet (at {late.reached}); "
            "retry in a few seconds"), 503) from None


ReadAfter = Depends(read_after)


def reach(who: Principal, operation: str, tenant: str, compound: str, household: str | None = None) -> None:
    """One the caller does not reach is answered exactly as one that does not exist."""
    if not who.can(operation, tenant, compound, household):
        raise not_found()


def plain(value):
    """JSON-ready: dates as ISO strings, tuples as lists, records as dicts."""
    if hasattr(value, "items"):
        return {k: plain(v) for k, v in dict(value).items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
