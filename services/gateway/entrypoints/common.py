"""What every HTTP route module of the API shares: the path prefix of a compound, the dependencies
(signed-in principal, context), the reach check and the JSON conversion of read rows."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Header

from services.gateway.domain.access import Principal
from services.gateway.entrypoints.context import Context, context, principal
from services.gateway.entrypoints.problems import not_found, problem_responses

C = "/committees/{tenant}/compounds/{compound}"
Who = Annotated[Principal, Depends(principal)]
Ctx = Annotated[Context, Depends(context)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
# what any operation on a committee may answer; openapi.honest() adds 400, 403 and 413 where they apply
ERRORS = problem_responses(401, 404, 409, 422, 503)


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
