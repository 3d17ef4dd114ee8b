"""The consoles and phone pages, rendered on the server (Jinja2) and made live with htmx: sign-in,
the town dispatcher's console (server-sent events), the committee console's compound and building
pages, the resident page behind a building's QR code, and the volunteer's page. Simplified Chinese
by default; English with /lang/en."""
from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from shared.commands import delivery, lockdown, roster
from shared.errors import Problem
from shared.links import open_building_token
from services.gateway.domain.access import Principal
from services.gateway.entrypoints import labels
from services.gateway.entrypoints.context import Context, context, session_of
from services.gateway.entrypoints.problems import ApiProblem, not_found
from services.gateway.entrypoints.common import ReadAfter
from services.gateway.entrypoints.routing import send
from services.gateway.entrypoints.sessions import COOKIE, SESSION_HOURS, Session, csrf_ok
from services.gateway.entrypoints.templates import TEMPLATES
from services.gateway.projections import health, places
from services.gateway.projections.overview import town_overview

router = APIRouter(include_in_schema=False, dependencies=[ReadAfter])


def set_cookie(response: Response, ctx: Context, session: Session) -> None:
    response.set_cookie(COOKIE, ctx.sessions.dump(session), max_age=SESSION_HOURS * 3600, httponly=True,
                        samesite="lax", secure=ctx.public_url.startswith("https"), path="/")


async def authenticate(ctx: Context, request: Request, user_id: str, password: str) -> Session:
    """The signed-in session, or a 401, 429 (too many failures from this address or for this user, on
    any gateway) or 503 (the shared counts cannot be reached: no try goes uncounted)."""
    from services.gateway.adapters.state import StateUnavailable, TooManyAttempts
    from services.gateway.application.access import sign_in
    client = request.client.host if request.client else "?"
    try:
        tried = await ctx.limits.attempt(f"ip:{client}", f"user:{user_id}")  # counted as failed until it succeeds
    except TooManyAttempts as exc:
        raise ApiProblem(exc.problem(), 429) from None
    except StateUnavailable:
        raise ApiProblem(Problem("service_unavailable", "登录暂不可用，请稍后重试",
                                 "signing in is unavailable for a moment; retry shortly"), 503) from None
    who = await sign_in(ctx.pool, user_id, password)
    if who is None:
        raise ApiProblem(Problem("unauthenticated", "用户名或密码错误", "wrong user id or password", "password"), 401)
    await ctx.limits.succeeded(tried)
    await ctx.forget_principal(who.user_id)  # grants as they are now, on every gateway, not as cached before
    _, session = ctx.sessions.issue(who.user_id)
    return session


def page(request: Request, template: str, status_code: int = 200, **values) -> HTMLResponse:
    lang = request.cookies.get("louzu_lang", "zh")
    session = session_of(request)
    return TEMPLATES.TemplateResponse(request, template, {"t": labels.table(lang), "lang": lang,
                                                      "csrf": session.csrf if session else "", **values},
                                      status_code=status_code)


async def who(request: Request) -> Principal | None:
    session = session_of(request)
    return await context(request).principal(session) if session else None


async def signed_in(request: Request) -> Principal:
    found = await who(request)
    if found is None:
        raise Redirect("/signin")
    return found


class Redirect(Exception):
    """Raised where a page needs a signed-in user; the app answers with a redirect to sign in."""


    def __init__(self, to: str) -> None:
        super().__init__(to)
        self.to = to


def _check_csrf(request: Request, sent: str | None) -> None:
    if not csrf_ok(session_of(request), sent or request.headers.get("X-CSRF-Token")):
        raise ApiProblem(Problem("csrf", "页面已过期，请刷新后重试", "the page expired; reload it"), 403)


@router.get("/")
async def home(request: Request):
    found = await who(request)
    if found is None:
        return RedirectResponse("/signin", 303)
    if found.role == "town_admin":  # sign-ins and grants are managed over the API: its documentation
        return RedirectResponse("/docs", 303)
    if found.role == "town_dispatcher":
        return RedirectResponse(f"/town/{quote(found.town)}", 303)
    if found.role == "committee_cadre":
        return RedirectResponse("/committee", 303)
    if found.role == "volunteer":
        return RedirectResponse("/volunteer", 303)
    return RedirectResponse("/resident", 303)


@router.get("/signin")
async def signin_page(request: Request, error: str = ""):
    return page(request, "signin.html", error=error)


@router.post("/signin")
async def signin_form(request: Request, user_id: str = Form(...), password: str = Form(...)):
    ctx = context(request)
    try:
        session = await authenticate(ctx, request, user_id.strip(), password)
    except ApiProblem as exc:
        lang = request.cookies.get("louzu_lang", "zh")
        message = exc.problem.message_zh if lang == "zh" else exc.problem.message_en
        return page(request, "signin.html", error=message, user_id=user_id)
    response = RedirectResponse("/", 303)
    set_cookie(response, ctx, session)
    return response


@router.post("/signout")
async def signout(request: Request):
    response = RedirectResponse("/signin", 303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
async def set_lang(request: Request, lang: str):
    response = RedirectResponse(request.headers.get("referer") or "/", 303)
    response.set_cookie("louzu_lang", "en" if lang == "en" else "zh", max_age=365 * 86400, samesite="lax")
    return response


# ---- town dispatcher -----------------------------------------------------------------------------

async def _overview(request: Request, town: str):
    found = await signed_in(request)
    if "town_dispatcher" not in found.roles or found.town != town:
        raise not_found()
    ctx = context(request)
    async with ctx.reader(sorted(found.tenants())) as conn:
        return found, await town_overview(conn, town, ctx.clock())


@router.get("/town/{town}")
async def town_page(request: Request, town: str):
    found, data = await _overview(request, town)
    return page(request, "town.html", who=found, town=town, o=data)


@router.get("/town/{town}/table")
async def town_table(request: Request, town: str):
    _found, data = await _overview(request, town)
    return page(request, "town_table.html", town=town, o=data)


@router.get("/town/{town}/events")
async def town_events(request: Request, town: str):
    """Server-sent events: the overview table again whenever the town's part of the log moves. The
    event id is the log's sequence; a reconnect (Last-Event-ID) resumes from there."""
    found, _ = await _overview(request, town)
    from services.gateway.entrypoints.live import overview_stream
    start = int(request.headers.get("Last-Event-ID") or 0)
    return StreamingResponse(overview_stream(request, found, town, start), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/town/{town}/dispatch")
async def town_dispatch(request: Request, town: str, tenant: str = Form(...), compound: str = Form(...),
                        request_id: str = Form(...), person_id: str = Form(...), name: str = Form(...),
                        from_compound: str = Form(...), from_tenant: str = Form(""), csrf_token: str = Form("")):
    found = await signed_in(request)
    _check_csrf(request, csrf_token)
    if not found.can("dispatchReinforcement", tenant, compound) or found.town != town:
        raise not_found()
    await send(context(request), found, roster.DispatchReinforcement, tenant, compound, None, {
        "request_id": request_id, "people": [{"person_id": person_id, "name": name, "from_compound": from_compound,
                                              "from_tenant": from_tenant}]})
    return await town_table(request, town)


# ---- committee console ---------------------------------------------------------------------------

@router.get("/committee")
async def committee_page(request: Request):
    found = await signed_in(request)
    tenants = sorted(g.tenant for g in found.grants if g.role == "committee_cadre")
    async with context(request).reader(tenants) as conn:
        compounds = await places.compounds(conn, tenants, limit=1000)
    return page(request, "committee.html", who=found, compounds=compounds)


@router.get("/c/{tenant}/{compound}")
async def compound_page(request: Request, tenant: str, compound: str):
    found = await signed_in(request)
    if not found.can("getBuildingRoster", tenant, compound):
        raise not_found()
    async with context(request).reader([tenant]) as conn:
        place = await places.compound(conn, tenant, compound)
        if place is None:
            raise not_found()
        buildings = await places.buildings(conn, tenant, compound, limit=10_000)
    return page(request, "compound.html", who=found, tenant=tenant, compound=compound, name=place["name"],
                buildings=buildings)


@router.post("/c/{tenant}/{compound}/seal")
async def seal_form(request: Request, tenant: str, compound: str, building: str = Form(...), town: str = Form(...),
                    reason: str = Form(...), ordered_by: str = Form(...), csrf_token: str = Form("")):
    found = await signed_in(request)
    _check_csrf(request, csrf_token)
    if not found.can("sealBuilding", tenant, compound):
        raise not_found()
    done = await send(context(request), found, lockdown.SealBuilding, tenant, compound, f"seal:{uuid.uuid4()}",
                      {"building": building, "town": town, "reason": reason, "ordered_by": ordered_by})
    return RedirectResponse(f"/c/{quote(tenant)}/{quote(compound)}/b/{quote(building)}?position={done.position}", 303)


@router.get("/c/{tenant}/{compound}/b/{building}")
async def building_page(request: Request, tenant: str, compound: str, building: str):
    found = await signed_in(request)
    if not found.can("getBuildingRoster", tenant, compound):
        raise not_found()
    from services.gateway.entrypoints.building import building_view
    ctx = context(request)
    view = await building_view(ctx, found, tenant, compound, building)
    if view is None:
        raise not_found()
    await ctx.access.audit(found, tenant, compound, what=f"roster {building} console masked",
                           operation="buildingConsole", why="committee console")
    return page(request, "building.html", who=found, tenant=tenant, compound=compound, building=building, v=view)


# ---- resident (QR code) --------------------------------------------------------------------------

@router.get("/r/{token}")
async def resident_link(request: Request, token: str, error: str = ""):
    place = open_building_token(context(request).link_secret, token)
    if place is None:
        return page(request, "message.html", title_key="link_expired")
    return page(request, "resident_identify.html", token=token, building=place[2], error=error)


@router.post("/r/{token}")
async def resident_identify(request: Request, token: str, room: str = Form(...), phone_last4: str = Form(...)):
    ctx = context(request)
    place = open_building_token(ctx.link_secret, token)
    if place is None:
        return page(request, "message.html", title_key="link_expired")
    tenant, compound, building = place
    client = request.client.host if request.client else "?"
    from services.gateway.adapters.state import StateUnavailable, TooManyAttempts
    try:
        tried = await ctx.limits.attempt(f"ip:{client}", f"room:{tenant}:{building}:{room}")
    except (TooManyAttempts, StateUnavailable):
        return page(request, "resident_identify.html", token=token, building=building, error_key="too_many")
    async with ctx.reader([tenant]) as conn:
        household = await places.household_by_phone(conn, tenant, compound, building, room.strip(),
                                                    phone_last4.strip())
    if household is None:
        return page(request, "resident_identify.html", token=token, building=building, error_key="no_match")
    await ctx.limits.succeeded(tried)
    _, session = ctx.sessions.issue("", (tenant, compound, building, household))
    response = RedirectResponse("/resident", 303)
    set_cookie(response, ctx, session)
    return response


@router.get("/resident")
async def resident_page(request: Request):
    found = await signed_in(request)
    from services.gateway.entrypoints.phone import resident_view
    view = await resident_view(context(request), found)
    if view is None:
        raise not_found()
    return page(request, "resident.html", who=found, v=view)


@router.post("/resident/report")
async def resident_report(request: Request, resident_id: str = Form(...), temperature: float = Form(...),
                          symptoms: str = Form(""), need: str = Form(""), csrf_token: str = Form("")):
    found = await signed_in(request)
    _check_csrf(request, csrf_token)
    grant = next((g for g in found.grants if g.role == "resident"), None)
    if grant is None:
        raise not_found()
    session = session_of(request)
    building = session.resident[2]
    done = await send(context(request), found, lockdown.ReportResident, grant.tenant, grant.compound, None, {
        "building": building, "household_id": grant.household_id, "resident_id": resident_id,
        "temperature": temperature, "symptoms": symptoms, "need": need})
    return RedirectResponse(f"/resident?done=report&position={done.position}", 303)


@router.post("/resident/supplies")
async def resident_supplies(request: Request, items: str = Form(...), category: str = Form("food"),
                            urgency: str = Form("normal"), csrf_token: str = Form("")):
    found = await signed_in(request)
    _check_csrf(request, csrf_token)
    grant = next((g for g in found.grants if g.role == "resident"), None)
    if grant is None:
        raise not_found()
    done = await send(context(request), found, delivery.RequestDelivery, grant.tenant, grant.compound, None, {
        "household_id": grant.household_id, "building": session_of(request).resident[2], "items": items,
        "category": category, "source": "shop", "urgency": urgency})
    return RedirectResponse(f"/resident?done=supplies&position={done.position}", 303)


# ---- volunteer -----------------------------------------------------------------------------------

@router.get("/v/{tenant}/{compound}/rounds/{round_id}")
async def volunteer_checkoff(request: Request, tenant: str, compound: str, round_id: str):
    """The check-off board at the testing site: who is not yet sampled, by floor; taps queue offline."""
    found = await signed_in(request)
    if not found.can("checkOffSample", tenant, compound):
        raise not_found()
    ctx = context(request)
    async with ctx.reader([tenant]) as conn:
        rows = await health.unsampled(conn, tenant, round_id)
    await ctx.access.audit(found, tenant, compound, what=f"unsampled {round_id} console", operation="checkoffBoard",
                           why="testing check-off")
    by_floor: dict[int, list[dict]] = {}
    for r in rows:
        by_floor.setdefault(r["floor"], []).append(r)
    return page(request, "checkoff.html", who=found, tenant=tenant, compound=compound, round_id=round_id,
                floors=sorted(by_floor.items(), reverse=True))


@router.post("/volunteer/gate")
async def volunteer_gate(request: Request, tenant: str = Form(...), compound: str = Form(...),
                         building: str = Form(...), room: str = Form(...), direction: str = Form(...),
                         reason: str = Form(...), csrf_token: str = Form("")):
    """The gate log: a resident going out or coming back, found by building and room."""
    found = await signed_in(request)
    _check_csrf(request, csrf_token)
    if not found.can("recordGatePass", tenant, compound):
        raise not_found()
    async with context(request).reader([tenant]) as conn:
        person = await places.resident_in_room(conn, tenant, compound, building, room)
    if person is None:
        raise ApiProblem(Problem("unknown_room", f"{building} 号楼没有 {room} 室的住户", f"no household in room {room} of "
                                 f"building {building}", "room"), 422)
    done = await send(context(request), found, lockdown.RecordGatePass, tenant, compound, None, {
        "building": building, "resident_id": person["resident_id"], "household_id": person["household_id"],
        "direction": direction, "reason": reason})
    return RedirectResponse(f"/volunteer?done=gate&position={done.position}", 303)


@router.get("/volunteer")
async def volunteer_page(request: Request):
    found = await signed_in(request)
    from services.gateway.entrypoints.phone import volunteer_view
    view = await volunteer_view(context(request), found)
    return page(request, "volunteer.html", who=found, v=view)
