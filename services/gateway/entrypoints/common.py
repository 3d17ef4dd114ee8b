"""What every HTTP route module of the API shares: the path prefix of a compound, the dependencies
(signed-in principal, context), the reach check and the JSON conversion of read rows."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Header

from services.gateway.domain.access import Principal
from services.gateway.entrypoints.context import Context, context, principal
from services.gateway.entrypoints.problems import ProblemDetails, not_found

C = "/committees/{tenant}/compounds/{compound}"
Who = Annotated[Principal, Depends(principal)]
Ctx = Annotated[Context, Depends(context)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
ERRORS = {k: {"model": ProblemDetails, "description": d} for k, d in (
    (401, "not signed in"), (404, "not found, or not yours"), (409, "refused by a rule"), (422, "invalid field"),
    (503, "a service is not running"))}


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
