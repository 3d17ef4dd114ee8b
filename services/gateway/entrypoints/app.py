"""The HTTP app: the API under /api/v1, sign-in, the consoles and phone pages, live updates over
server-sent events, the OpenAPI document at /openapi.json and its docs page at /docs — every
file served from here (no CDN)."""
from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from fastapi.responses import RedirectResponse

from services.gateway.entrypoints import api, listings, openapi, pages, problems, reads
from services.gateway.entrypoints.context import Context, principal, session_of
from services.gateway.entrypoints.limits import MAX_BODY_BYTES, MAX_UPLOAD_BYTES, BodyLimit
from services.gateway.entrypoints.problems import problem_responses
from services.gateway.entrypoints.sessions import COOKIE

STATIC = Path(__file__).resolve().parents[1] / "static"
VERSION = "1.0.0"
DESCRIPTION = f"""\
Louzu's HTTP API: seal and release buildings, temperature reports, testing check-offs, gate passes,
the supply queue, rosters, the duty rota and the town overview. Sign in with `POST /api/v1/session`;
the session cookie then authorises every call, and state-changing calls repeat the session's CSRF
token in `X-CSRF-Token`. Commands answer with the ids of the events they appended; a retry with the
same `Idempotency-Key` gets the same answer and changes nothing. Errors are RFC 9457 problem details
with a message in Chinese and in English and the field at fault: a body that is not JSON is a 400, a
field out of its limits a 422 naming it, a body over {MAX_BODY_BYTES // 2**20} MB or an uploaded file over \
{MAX_UPLOAD_BYTES // 2**20} MB a 413. A committee, compound or household outside the caller's grants answers 404, \
exactly as one that does not exist."""


class SignIn(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class SessionInfo(BaseModel):
    user_id: str
    display_name: str
    role: str = Field(description="the widest role held")
    tenants: list[str] = Field(description="committees the user can read")
    csrf_token: str = Field(description="repeat in X-CSRF-Token on every state-changing call")


def create_app(ctx: Context, stop: asyncio.Event) -> FastAPI:
    app = FastAPI(title="Louzu", version=VERSION, description=DESCRIPTION, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    app.state.ctx, app.state.stop = ctx, stop
    app.add_middleware(BodyLimit)
    problems.install(app)
    openapi.install(app)

    json_problem = app.exception_handlers[problems.ApiProblem]

    @app.exception_handler(problems.ApiProblem)
    async def _problem_page(request: Request, exc: problems.ApiProblem):
        """A person on a console page gets a page in their language; tools and the API get problem+json."""
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
            return await json_problem(request, exc)
        lang = request.cookies.get("louzu_lang", "zh")
        message = exc.problem.message_en if lang == "en" else exc.problem.message_zh
        return pages.page(request, "message.html", text=message, status_code=exc.status)

    @app.exception_handler(pages.Redirect)
    async def _to_sign_in(_request: Request, exc: pages.Redirect):
        return RedirectResponse(exc.to, 303)
    app.include_router(api.router)
    app.include_router(reads.router)
    app.include_router(listings.router)
    _session_routes(app)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)

    return app


def _session_routes(app: FastAPI) -> None:
    @app.post("/api/v1/session", operation_id="signIn", response_model=SessionInfo, tags=["session"],
              responses=problem_responses(401, 429, 503))
    async def sign_in(body: SignIn, request: Request):
        ctx: Context = request.app.state.ctx
        session = await pages.authenticate(ctx, request, body.user_id, body.password)
        who = await ctx.principal(session)
        response = JSONResponse(SessionInfo(user_id=who.user_id, display_name=who.display_name, role=who.role,
                                            tenants=sorted(who.tenants()), csrf_token=session.csrf).model_dump())
        pages.set_cookie(response, ctx, session)
        return response

    @app.get("/api/v1/session", operation_id="whoAmI", response_model=SessionInfo, tags=["session"],
             responses=problem_responses(401))
    async def who_am_i(request: Request, who=Depends(principal)):
        session = session_of(request)
        return SessionInfo(user_id=who.user_id, display_name=who.display_name, role=who.role,
                           tenants=sorted(who.tenants()), csrf_token=session.csrf)

    @app.delete("/api/v1/session", operation_id="signOut", status_code=204, tags=["session"])
    async def sign_out():
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/")
        return response


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Louzu API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui-5.35.0.css"></head>
<body><div id="ui"></div><script src="/static/vendor/swagger-ui-bundle-5.35.0.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script></body></html>"""
