"""The HTTP API's commands under /api/v1: one route per row of `operations.py`, registered by
`routing.py`. Every operation first asks the signed-in principal whether it reaches the committee,
compound (and household) it names; one it does not reach is answered as if it did not exist (404).

A retried command carrying the same `Idempotency-Key` header gets the same answer (the same event
ids) and changes nothing: the command id is derived from the user and the key."""
from __future__ import annotations

from fastapi import APIRouter

from services.gateway.entrypoints.common import ERRORS
from services.gateway.entrypoints.operations import OPERATIONS
from services.gateway.entrypoints.routing import CommandAccepted, add_operations, authorize, send

router = APIRouter(prefix="/api/v1", responses=ERRORS)
add_operations(router, OPERATIONS, authorize)

__all__ = ["CommandAccepted", "router", "send"]
