"""The HTTP API's OpenAPI document made honest, as the app serves it at /openapi.json
(`document.py` writes it to docs/openapi.json).

FastAPI's own document says every error is `application/json` and knows nothing of what the app does
around its routes. `honest()` declares what each operation really answers, from what the code does:
every error as `application/problem+json` with the `ProblemDetails` schema; 400 and 422 where there
is a body or parameters to get wrong, 401 and 403 (CSRF) where the route needs a signed-in principal,
404 where the path names something, 413 everywhere (the body limit covers every request).

tests/unit/test_openapi.py fails when docs/openapi.json drifts from the code."""
from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.gateway.entrypoints.problems import MEDIA, PROBLEM_REF, STATUSES, ProblemDetails, problem_responses

SAFE = {"GET", "HEAD", "OPTIONS"}
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def install(app: FastAPI) -> None:
    """Serve the honest document at the app's openapi_url."""
    plain = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = honest(plain(), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def honest(doc: dict, app: FastAPI) -> dict:
    from services.gateway.entrypoints.context import principal
    operations = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()
                  if isinstance(op, dict) and "operationId" in op}
    for route in api_routes(app.routes):
        if not route.include_in_schema:
            continue
        for method in route.methods:
            operation = operations.get(route.operation_id) if route.operation_id else None
            if operation is None:
                operation = doc["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(possible_errors(route, method, principal) - {int(s) for s in responses if s.isdigit()}):
                responses[str(status)] = problem_responses(status)[status]
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    _as_problem(int(status), response)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["ProblemDetails"] = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    text = json.dumps(doc["paths"])
    for name in FASTAPI_VALIDATION:
        if f'"#/components/schemas/{name}"' not in text:
            schemas.pop(name, None)
    return doc


def api_routes(routes) -> list[APIRoute]:
    """Every API route, also those of included routers (FastAPI ≥ 0.16x keeps an included router whole
    in `app.routes` instead of copying its routes there)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found.extend(api_routes(inner.routes))
    return found


def possible_errors(route: APIRoute, method: str, principal) -> set[int]:
    errors = {413}
    if _needs(route.dependant, principal):
        errors |= {401} if method in SAFE else {401, 403}
    if route.body_field is not None:
        errors |= {400, 422}
    dependant = route.dependant
    if dependant.path_params:
        errors |= {404, 422}
    if dependant.query_params or dependant.header_params or dependant.cookie_params:
        errors.add(422)
    return errors


def _needs(dependant: Dependant, call) -> bool:
    return dependant.call is call or any(_needs(d, call) for d in dependant.dependencies)


def _as_problem(status: int, response: dict) -> None:
    """Whatever a route or FastAPI wrote for an error, the handlers send problem details."""
    if response.get("description") in (None, "", "Validation Error") and status in STATUSES:
        response["description"] = STATUSES[status]
    response["content"] = {MEDIA: {"schema": {"$ref": PROBLEM_REF}}}
