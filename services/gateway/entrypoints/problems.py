"""Errors as RFC 9457 problem details (`application/problem+json`), with the message in Chinese and
in English and the field at fault. A body that cannot be read (not JSON, not a form) is a 400, a
field out of its limits a 422 naming it, a body over its limit a 413. A 500 carries no detail of the
failure: it is logged with an id the response repeats, for the operator.

`STATUSES` says once what each error status means; the OpenAPI document declares them from it."""
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
          "internal_error": 500, "busy": 503, "invalid_body": 400, "too_large": 413}

# every error status the API answers, and what it means (the OpenAPI document's descriptions)
STATUSES = {400: "the body cannot be read: not JSON, or not a form", 401: "not signed in",
            403: "missing or wrong CSRF token", 404: "not found, or not yours", 409: "refused by a rule",
            413: "the body or the file is too large", 422: "a field is invalid; `field` names it",
            429: "too many sign-in attempts; retry later", 503: "a service is not running, or not caught up"}
PROBLEM_REF = "#/components/schemas/ProblemDetails"


def problem_responses(*statuses: int) -> dict:
    """OpenAPI responses for these statuses: problem details, as the handlers below send them."""
    return {status: {"description": STATUSES[status], "content": {MEDIA: {"schema": {"$ref": PROBLEM_REF}}}}
            for status in statuses}


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
        if unreadable(first):
            return problem_response(invalid_body(first), 400)
        return problem_response(invalid_field(first), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return problem_response(Problem("not_found", "找不到该页面或记录", "not found"), 404)
        if exc.status_code == 405:
            return problem_response(Problem("method_not_allowed", "不支持该操作", "method not allowed"), 405)
        if exc.status_code == 400:
            return problem_response(Problem("invalid_body", "请求内容无法解析，请检查格式",
                                            f"the request body cannot be read: {exc.detail}", "body"), 400)
        if exc.status_code == 413:
            return problem_response(too_large(getattr(exc, "limit", None)), 413)
        return problem_response(Problem("http_error", "请求无法处理", str(exc.detail)), exc.status_code)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        instance = uuid.uuid4().hex[:12]
        log.error("http.internal_error", path=request.url.path, error=type(exc).__name__, instance=instance,
                  exc_info=True)
        return problem_response(Problem("internal_error", f"系统内部错误，已记录（编号 {instance}），请联系管理员",
                                        f"internal error, logged as {instance}; tell the operator"), 500,
                                instance=f"urn:louzu:error:{instance}")


def unreadable(error: dict) -> bool:
    """The body is not JSON at all (FastAPI's `json_invalid`, or a body sent as another media type),
    as opposed to JSON whose fields are wrong."""
    loc = tuple(error.get("loc", ()))
    return error.get("type") == "json_invalid" or (loc == ("body",) and isinstance(error.get("input"), bytes))


def invalid_body(error: dict) -> Problem:
    where = error.get("ctx", {}).get("error") if error.get("type") == "json_invalid" else None
    return Problem("invalid_body", "请求内容不是有效的 JSON（Content-Type: application/json）",
                   "the request body is not valid JSON" + (f": {where}" if where else
                                                           "; send it as Content-Type: application/json"), "body")


def too_large(limit: int | None) -> Problem:
    if limit is None:
        return Problem("too_large", "内容过大", "the request is too large", "body")
    size = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit // 1024} KB"
    return Problem("too_large", f"内容过大：最多 {size}", f"the request is too large: at most {size}", "body")


def invalid_field(error: dict) -> Problem:
    """A 422 naming the field (its dotted path in the body, query or header) in both languages."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header", "cookie"))
    where = where or "body"
    return Problem("invalid_field", f"字段「{where}」{_zh(error)}", f"field {where!r} is invalid: {error.get('msg')}",
                   where)


def _zh(error: dict) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    phrases = {"missing": "必须填写", "string_too_short": "至少 {min_length} 个字符", "string_too_long":
               "最多 {max_length} 个字符", "string_pattern_mismatch": "格式不对", "too_short": "至少 {min_length} 项",
               "too_long": "最多 {max_length} 项", "greater_than": "须大于 {gt}", "greater_than_equal": "须不小于 {ge}",
               "less_than": "须小于 {lt}", "less_than_equal": "须不大于 {le}", "literal_error": "只能是 {expected}",
               "enum": "只能是 {expected}", "extra_forbidden": "不认识该字段"}
    if kind in phrases:
        try:
            return phrases[kind].format(**ctx)
        except (KeyError, IndexError):
            pass
    if kind.startswith(("datetime", "date", "time")):
        return "不是有效的日期或时间"
    if kind.endswith(("_type", "_parsing")):
        return "类型不对"
    return f"无效：{kind}"
