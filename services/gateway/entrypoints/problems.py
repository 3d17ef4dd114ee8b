"""Errors as RFC 9457 problem details (`application/problem+json`), with the message in Chinese and
in English and the field at fault. A 500 carries no detail of the failure: it is logged with an id
the response repeats, for the operator."""
from __future__ import annotations

import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import DomainError, Problem
from shared.logging import get_logger

log = get_logger("louzu.gateway")
MEDIA = "application/problem+json"

# error code → HTTP status; anything else a rule refuses is a 409 (the request conflicts with the state)
STATUS = {"not_found": 404, "unknown_building": 404, "unknown_compound": 404, "unknown_request": 404,
          "unknown_round": 404, "unknown_post": 404, "unknown_user": 404, "invalid_field": 422, "format": 422,
          "as_of_format": 422, "reason_required": 422, "unauthenticated": 401, "forbidden": 403,
          "csrf": 403, "too_many_attempts": 429, "service_unavailable": 503, "log_unavailable": 503,
          "internal_error": 500, "busy": 503}


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, extended with Louzu's bilingual message and the field at fault."""

    type: str = Field(description="a URI naming the kind of problem: urn:louzu:problem:<code>")
    title: str = Field(description="short English summary")
    status: int = Field(description="HTTP status")
    detail: str = Field(description="what went wrong, in English")
    code: str = Field(description="stable error code")
    message_zh: str = Field(description="what went wrong, in Simplified Chinese")
    message_en: str = Field(description="what went wrong, in English")
    field: str | None = Field(default=None, description="the request field or row at fault")
    instance: str | None = Field(default=None, description="error id for the operator (500 only)")


class ApiProblem(Exception):
    def __init__(self, problem: Problem, status: int | None = None) -> None:
        super().__init__(problem.message_en)
        self.problem, self.status = problem, status or STATUS.get(problem.code, 409)


def not_found(what_zh: str = "找不到该记录", what_en: str = "not found") -> ApiProblem:
    """The same answer for "does not exist" and "not yours": nothing leaks."""
    return ApiProblem(Problem("not_found", what_zh, what_en), 404)


def problem_response(problem: Problem, status: int, instance: str | None = None,
                     headers: dict | None = None) -> JSONResponse:
    body = ProblemDetails(type=f"urn:louzu:problem:{problem.code}", title=problem.code.replace("_", " "),
                          status=status, detail=problem.message_en, code=problem.code, message_zh=problem.message_zh,
                          message_en=problem.message_en, field=problem.field, instance=instance)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def _api(_request: Request, exc: ApiProblem):
        return problem_response(exc.problem, exc.status)

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError):
        return problem_response(exc.problem, STATUS.get(exc.problem.code, 409))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header"))
        return problem_response(Problem("invalid_field", f"字段「{where}」无效：{first.get('type')}",
                                        f"field {where!r} is invalid: {first.get('msg')}", where or None), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return problem_response(Problem("not_found", "找不到该页面或记录", "not found"), 404)
        if exc.status_code == 405:
            return problem_response(Problem("method_not_allowed", "不支持该操作", "method not allowed"), 405)
        return problem_response(Problem("http_error", "请求无法处理", str(exc.detail)), exc.status_code)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        instance = uuid.uuid4().hex[:12]
        log.error("http.internal_error", path=request.url.path, error=type(exc).__name__, instance=instance,
                  exc_info=True)
        return problem_response(Problem("internal_error", f"系统内部错误，已记录（编号 {instance}），请联系管理员",
                                        f"internal error, logged as {instance}; tell the operator"), 500,
                                instance=f"urn:louzu:error:{instance}")
