"""The gateway asks the owning service what only it can answer, over NATS request–reply, on real
servers: the roster service prints (a building, a whole compound, a file larger than one NATS
message, which comes through the Object Store), the registry imports a cadre's sheet (all or
nothing, naming the refused row), and a missing owner is a 503 with a bilingual message."""
from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from shared.crypto import load_or_create_secret
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import FILES_BUCKET, AggregateSubject
from shared.events import registry as e
from shared.links import open_building_token
from services.gateway.bootstrap import Gateway
from services.registry.bootstrap import Registry
from services.roster.bootstrap import Roster
from tests.conftest import eventually
from tests.support.gateway import make_user, register_compound, signed_in
from tests.support.people import HEADER, sheet_rows
from tests.support.registry import NOW, populate_building
from tests.support.running import running

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
PUBLIC_URL = "http://louzu.test"
POPPLER = all(shutil.which(t) for t in ("pdftotext", "pdfinfo", "pdftoppm", "zbarimg"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils or zbar-tools not installed")


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def pdf_text(path: Path) -> str:
    return run("pdftotext", "-layout", str(path), "-")


def path(tenant: str, rest: str) -> str:
    return f"/api/v1/committees/{tenant}/compounds/c1{rest}"


@pytest.fixture
def secrets(tmp_path) -> Path:
    return tmp_path / "secrets"


@pytest.fixture
async def gateway(platform, secrets):
    async with running(Roster(platform.nats_url, platform.database_url, secrets_dir=secrets, public_url=PUBLIC_URL),
                       Registry(platform.nats_url, platform.database_url, secrets_dir=secrets),
                       Gateway(platform.nats_url, platform.database_url, secrets, public_url=PUBLIC_URL)) as started:
        yield started[-1]


@pytest.fixture
async def cadre(gateway, nc, db, tenant):
    """A committee with compound c1 (buildings 41 and 42, in the roster read model) and its cadre."""
    store = EventStore(nc)
    await register_compound(store, tenant, "c1", "樱花苑", "taopu")
    await populate_building(store, tenant, building="41", floors=3)
    await populate_building(store, tenant, building="42", floors=2)
    user = f"cadre-{tenant}"
    await make_user(nc, user, "taopu", {"role": "committee_cadre", "grant_tenant": tenant})
    await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway.users WHERE user_id = $1", user))
    await eventually(lambda: db.fetchval("SELECT count(*) = 20 FROM proj_roster.residents WHERE tenant = $1", tenant))
    return await signed_in(gateway.app, user)


async def objects_left(nc, tenant: str) -> list[str]:
    store = await nc.jetstream().object_store(FILES_BUCKET)
    try:
        return [o.name for o in await store.list(ignore_deletes=True) if f"/{tenant}/" in o.name]
    except Exception:  # noqa: BLE001 - nats.py raises NotFoundError on an empty bucket
        return []


@needs_poppler
async def test_a_building_printed_through_the_gateway_is_the_roster_services_pdf_with_a_working_qr_code(
        cadre, tenant, secrets, nc, tmp_path):
    response = await cadre.get(path(tenant, "/buildings/41/roster"), params={"format": "pdf"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="roster-41.pdf"' in response.headers["content-disposition"]
    pdf = tmp_path / "41.pdf"
    pdf.write_bytes(response.content)
    text = pdf_text(pdf)
    assert "樱花苑 41号楼 楼组表" in text and "居民1010" in text and "居民3021" in text and "已脱敏" in text
    assert "42号楼" not in text
    run("pdftoppm", "-r", "300", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "q"))
    link = run("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(next(tmp_path.glob("q*.png")))).strip()
    assert link.startswith(f"{PUBLIC_URL}/r/")  # signed by the roster service, opened by the gateway's secret
    assert open_building_token(load_or_create_secret(secrets / "links.key"), link.rsplit("/", 1)[1]) == (
        tenant, "c1", "41")
    assert await objects_left(nc, tenant) == []  # the gateway took the file and deleted it


@needs_poppler
async def test_the_whole_compound_prints_as_one_file_with_every_building(cadre, tenant, tmp_path):
    response = await cadre.get(path(tenant, "/buildings/all/roster"), params={"format": "pdf"})
    assert response.status_code == 200, response.text
    pdf = tmp_path / "c1.pdf"
    pdf.write_bytes(response.content)
    text = pdf_text(pdf)
    assert "樱花苑 楼组表汇总" in text and "41号楼" in text and "42号楼" in text and "居民2021" in text
    sheet = await cadre.get(path(tenant, "/buildings/all/roster"), params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert sheet.headers["content-type"].startswith("text/csv") and len(rows) == 1 + 20
    assert {r[0] for r in rows[1:]} == {"41", "42"}


async def test_printing_a_building_that_does_not_exist_keeps_the_roster_services_refusal(cadre, tenant):
    response = await cadre.get(path(tenant, "/buildings/999/roster"), params={"format": "xlsx"})
    assert response.status_code == 404 and response.json()["code"] == "unknown_building"
    assert "999" in response.json()["message_zh"]


async def populate_big_compound(store: EventStore, tenant: str, buildings: int, households: int, people: int) -> int:
    appends, count = [], 0
    for b in range(1, buildings + 1):
        building = str(b)
        appends.append(store.append(AggregateSubject.make(tenant, "c1", "registry", "building", building),
                                    [e.BuildingCadreAssigned(building=building, cadre_id="c-li", cadre_name="李文娟",
                                                             assigned_by="t", assigned_at=NOW)],
                                    expected=0, meta=Metadata(uuid.uuid4().hex)))
        for k in range(households):
            room = f"{k // 10 + 1}{k % 10 + 1:02d}"
            hh = f"{building}-1-{room}"
            appends.append(store.append(
                AggregateSubject.make(tenant, "c1", "registry", "household", hh),
                [e.HouseholdRegistered(household_id=hh, building=building, entrance="1", room=room, floor=k // 10 + 1,
                                       registered_by="t", registered_at=NOW)], expected=0, meta=Metadata(uuid.uuid4().hex)))
            for i in range(people):
                rid = f"p{b}x{room}x{i}"
                count += 1
                appends.append(store.append(
                    AggregateSubject.make(tenant, "c1", "registry", "resident", rid),
                    [e.ResidentRegistered(resident_id=rid, household_id=hh, name=f"阿卜杜热合曼·买买提艾力{b}{room}{i}",
                                          sex="MF"[i % 2], birth_year=1940 + i, relation="户主" if i == 0 else "子女",
                                          flags=("elderly_alone", "chronic_illness") if i < 2 else (), id_hash=rid,
                                          id_number_sealed="v1:x", id_mask="310101********1234",
                                          phone_mask="138****5678", registered_by="t", registered_at=NOW)],
                    expected=0, meta=Metadata(uuid.uuid4().hex)))
    await asyncio.gather(*appends)
    return count


async def test_a_compound_print_larger_than_one_nats_message_arrives_whole_through_the_object_store(
        gateway, nc, db, tenant):
    store = EventStore(nc)
    await register_compound(store, tenant, "c1", "大小区", "taopu")
    residents = await populate_big_compound(store, tenant, buildings=9, households=320, people=3)
    user = f"cadre-{tenant}"
    await make_user(nc, user, "taopu", {"role": "committee_cadre", "grant_tenant": tenant})
    await eventually(lambda: db.fetchval("SELECT count(*) = $2 FROM proj_roster.residents WHERE tenant = $1",
                                         tenant, residents), timeout=120)
    await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway.users WHERE user_id = $1", user))
    cadre = await signed_in(gateway.app, user)
    response = await cadre.get(path(tenant, "/buildings/all/roster"), params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert len(response.content) > nc.max_payload  # more than one NATS message could carry
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + residents and "阿卜杜热合曼·买买提艾力932102" in {r[4] for r in rows}
    assert await objects_left(nc, tenant) == []


async def test_without_the_roster_service_a_print_is_a_bilingual_503(platform, nc, db, tenant, tmp_path):
    async with running(Gateway(platform.nats_url, platform.database_url, tmp_path / "secrets")) as (gateway,):
        user = f"cadre-{tenant}"
        await make_user(nc, user, "taopu", {"role": "committee_cadre", "grant_tenant": tenant})
        await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway.users WHERE user_id = $1", user))
        cadre = await signed_in(gateway.app, user)
        response = await cadre.get(path(tenant, "/buildings/41/roster"), params={"format": "pdf"})
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "service_unavailable"
    assert problem["message_en"] == "the roster service is not available; retry shortly"
    assert "roster" in problem["message_zh"] and "暂不可用" in problem["message_zh"]


def sheet_csv(rows: list[tuple]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode("utf-8-sig")


async def test_a_good_sheet_imported_through_the_gateway_is_registered_by_the_registry(cadre, tenant, db, nc):
    rows = sheet_rows(6, building="38")
    response = await cadre.post(path(tenant, "/imports"), files={"file": ("名单.csv", sheet_csv(rows), "text/csv")})
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome == {"imported": True, "residents_added": 6, "households_added": outcome["households_added"],
                       "buildings_added": 1, "unchanged": 0, "errors": []}
    assert outcome["households_added"] == len({r[2] for r in rows})
    await eventually(lambda: db.fetchval("SELECT count(*) = 6 FROM proj_registry.residents WHERE tenant = $1 "
                                         "AND household_id LIKE '38-%'", tenant))
    sealed = await db.fetchval("SELECT id_number_sealed FROM proj_registry.residents WHERE tenant = $1 AND "
                               "household_id LIKE '38-%' LIMIT 1", tenant)
    assert sealed and rows[0][5] not in sealed  # sealed by the registry, never in clear
    again = await cadre.post(path(tenant, "/imports"), files={"file": ("名单.csv", sheet_csv(rows), "text/csv")})
    assert again.json()["residents_added"] == 0 and again.json()["errors"] == []
    assert await objects_left(nc, tenant) == []  # the registry took the upload and deleted it


async def test_a_sheet_with_a_bad_row_imports_nothing_and_names_the_row_unless_told_to_skip_it(cadre, tenant, db):
    rows = sheet_rows(4, building="39", start_serial=300)
    bad = list(rows[2])
    bad[5] = bad[5][:-1] + ("0" if bad[5][-1] != "0" else "1")  # a wrong check digit
    rows[2] = tuple(bad)
    response = await cadre.post(path(tenant, "/imports"), files={"file": ("名单.csv", sheet_csv(rows), "text/csv")})
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert not outcome["imported"] and outcome["residents_added"] == 0 and outcome["buildings_added"] == 0
    assert [(err["row"], err["column"], err["code"]) for err in outcome["errors"]] == [(4, "id_number", "id_checksum")]
    assert "第 4 行" in outcome["errors"][0]["message_zh"] and "Row 4" in outcome["errors"][0]["message_en"]
    assert await db.fetchval("SELECT count(*) FROM proj_registry.buildings WHERE tenant = $1 AND building = '39'",
                             tenant) == 0
    skipping = await cadre.post(path(tenant, "/imports"), params={"skip_invalid": "true"},
                                files={"file": ("名单.csv", sheet_csv(rows), "text/csv")})
    assert skipping.json()["imported"] and skipping.json()["residents_added"] == 3
    assert [err["row"] for err in skipping.json()["errors"]] == [4]


async def test_without_the_registry_an_import_is_a_bilingual_503_and_leaves_no_file(platform, nc, db, tenant,
                                                                                    tmp_path):
    async with running(Gateway(platform.nats_url, platform.database_url, tmp_path / "secrets")) as (gateway,):
        user = f"cadre-{tenant}"
        await make_user(nc, user, "taopu", {"role": "committee_cadre", "grant_tenant": tenant})
        await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway.users WHERE user_id = $1", user))
        cadre = await signed_in(gateway.app, user)
        response = await cadre.post(path(tenant, "/imports"),
                                    files={"file": ("x.csv", sheet_csv(sheet_rows(1)), "text/csv")})
    assert response.status_code == 503
    assert response.json()["message_en"] == "the registry service is not available; retry shortly"
    assert await objects_left(nc, tenant) == []


async def test_the_consoles_print_buttons_fetch_files_the_roster_service_printed(cadre, tenant):
    async def building_page():
        page = await cadre.get(f"/c/{tenant}/c1/b/41")
        return page.text if page.status_code == 200 else None
    html = await eventually(building_page)
    links = re.findall(r'href="(/api/v1/committees/[^"]+/buildings/41/roster\?format=(pdf|xlsx))"', html)
    assert {fmt for _, fmt in links} == {"pdf", "xlsx"}
    for link, fmt in links:
        response = await cadre.get(link)
        assert response.status_code == 200, response.text
        assert response.content[:4] == {"pdf": b"%PDF", "xlsx": b"PK\x03\x04"}[fmt]


async def test_the_registry_will_not_read_a_file_stored_for_another_committee(gateway, nc, tenant):
    from shared.queries import files
    from shared.queries.registry import ImportResidents
    from shared.queries.serving import QueryClient
    other = f"o{tenant}"[:11]
    upload = await files.put(nc, "import", other, sheet_csv(sheet_rows(2)), suffix="csv", media_type="text/csv",
                             filename="upload.csv")
    reply = await QueryClient(nc, tenant, "registry").ask("import_residents", ImportResidents(
        tenant=tenant, compound="c1", actor="t", upload=upload))
    assert reply["ok"] is False and reply["error"]["code"] == "file_gone"
    assert await objects_left(nc, other) == [upload.object]  # untouched: it was not this committee's
    assert await files.take(nc, upload, other)  # its own committee's query can still take it


async def test_a_print_as_of_a_past_moment_is_the_roster_as_the_log_stood_then(cadre, nc, db, tenant):
    from datetime import datetime, timedelta, timezone
    import orjson
    from shared.eventlog.subjects import query_subject
    from shared.queries import files
    from shared.queries.roster import PrintRoster, RosterPrinted
    from shared.queries.serving import QueryClient
    client = QueryClient(nc, tenant, "roster")
    moment = datetime.now(timezone.utc)
    await populate_building(EventStore(nc), tenant, building="43", floors=1)
    await eventually(lambda: db.fetchval("SELECT count(*) = 24 FROM proj_roster.residents WHERE tenant = $1", tenant))

    async def buildings(as_of) -> set[str]:
        reply = await client.ask("print_roster", PrintRoster(tenant=tenant, compound="c1", actor="t", format="csv",
                                                             as_of=as_of))
        data = await files.take(nc, RosterPrinted.model_validate(reply).file, tenant)
        return {row[0] for row in list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]}
    assert await buildings(moment) == {"41", "42"} and await buildings(None) == {"41", "42", "43"}
    before = await client.ask("print_roster", PrintRoster(tenant=tenant, compound="c1", actor="t", building="41",
                                                          format="csv", as_of=moment - timedelta(hours=1)))
    assert before["ok"] is False and before["error"]["message_en"] == "no such building 41 at that time"
    later = await client.ask("print_roster", PrintRoster(tenant=tenant, compound="c1", actor="t", building="41",
                                                         format="csv", as_of=moment + timedelta(hours=1)))
    assert later["error"]["code"] == "as_of_future"
    naive = orjson.loads((await nc.request(query_subject(tenant, "roster", "print_roster"), orjson.dumps(
        {"tenant": tenant, "compound": "c1", "actor": "t", "format": "csv", "as_of": "2022-04-02T14:00:00"}),
        timeout=10)).data)
    assert naive["error"]["code"] == "invalid_field" and naive["error"]["field"] == "as_of"


async def test_a_refusal_carries_the_micro_error_headers_even_for_a_chinese_building(gateway, nc, tenant):
    import orjson
    from shared.eventlog.subjects import query_subject
    reply = await nc.request(query_subject(tenant, "roster", "print_roster"), orjson.dumps(
        {"tenant": tenant, "compound": "c1", "actor": "t", "building": "三号楼", "format": "pdf"}), timeout=10)
    body = orjson.loads(reply.data)
    assert body["error"]["code"] == "unknown_building" and "三号楼" in body["error"]["message_zh"]
    assert reply.headers["Nats-Service-Error-Code"] == "unknown_building"
    assert reply.headers["Nats-Service-Error"].isascii() and "\\u" in reply.headers["Nats-Service-Error"]
