"""The whole system through its public surface: `louzu up` in its own process, cadres' verbs as
separate processes, personal data checked in the raw bytes of the log and in every log line."""
import asyncio
import io
import json
import time
from pathlib import Path

import nats
import openpyxl
import pytest

from tests.support.louzu_cli import louzu, louzu_bytes, louzu_on_a_terminal, start_up, stop
from tests.support.people import sheet_rows, write_sheet

pytestmark = pytest.mark.e2e
def wait_for_lag_zero(home: Path, min_seq: int = 1) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        report = json.loads(louzu(home, "status", "--json").stdout)
        p = report["projections"]["registry"]
        if p["lag"] == 0 and p["last_seq"] >= min_seq:
            return report
        time.sleep(0.2)
    raise AssertionError("registry projection did not catch up")


@pytest.fixture
def home(tmp_path):
    return tmp_path / "var"


def test_a_cadre_imports_prints_and_restarts_without_losing_or_leaking_anything(home, tmp_path):
    rows = sheet_rows(40)
    bad = [*rows[:3], ("38", "1", "101", "坏行", "男", "310107195501011234", "12345", "户主", ""), *rows[3:]]
    up = start_up(home)
    try:
        louzu(home, "compound", "yinghuayuan", "--name", "樱花苑", "--town", "taopu")
        before = wait_for_lag_zero(home)

        refused = louzu(home, "import", str(write_sheet(tmp_path / "bad.csv", bad)), "--compound", "yinghuayuan",
                        check=False)
        assert refused.returncode == 1
        assert "第 5 行" in refused.stderr and "身份证号" in refused.stderr and "Row 5" in refused.stderr
        assert "手机号" in refused.stderr and "Nothing imported" in refused.stderr
        assert json.loads(louzu(home, "status", "--json").stdout)["stream"] == before["stream"]

        good = write_sheet(tmp_path / "good.csv", rows)
        assert "40 residents" in louzu(home, "import", str(good), "--compound", "yinghuayuan").stdout
        after_first = wait_for_lag_zero(home)
        assert "0 residents" in louzu(home, "import", str(good), "--compound", "yinghuayuan").stdout
        assert json.loads(louzu(home, "status", "--json").stdout)["stream"] == after_first["stream"]

        newcomer = sheet_rows(1, start_serial=900)[0][:2] + ("603",) + sheet_rows(1, start_serial=900)[0][3:]
        skipped = louzu(home, "import", str(write_sheet(tmp_path / "bad2.csv", [*bad, newcomer])), "--compound",
                        "yinghuayuan", "--skip-invalid")
        assert "1 residents, 1 households" in skipped.stdout and "1 row(s) skipped" in skipped.stdout

        xlsx = tmp_path / "t.xlsx"
        louzu(home, "table", "yinghuayuan", "--building", "38", "--format", "xlsx", "-o", str(xlsx))
        sheet = openpyxl.load_workbook(xlsx).active
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        assert len(values) == 42 and values[0][7] == "身份证号"
        assert all("********" in r[7] and "****" in r[8] for r in values[1:])
        assert all(sheet.cell(row=i, column=8).data_type == "s" for i in range(2, 43))

        verify = louzu(home, "verify")
        assert "registry: equal to a replay of the log" in verify.stdout
        assert "swapped" in louzu(home, "replay", "registry").stdout
    finally:
        out = stop(up)
    assert not (home / "run.json").exists()

    leaks = _personal_values(rows)
    store = (home / "nats" / "jetstream").rglob("*")
    raw = b"".join(p.read_bytes() for p in store if p.is_file())
    assert len(raw) > 10_000
    assert not [v for v in leaks if v.encode() in raw], "an ID number or phone is in the log's raw bytes"
    logs = out + "".join(p.read_text() for p in (home / "logs").glob("*.log"))
    assert not [v for v in leaks if v in logs], "an ID number or phone is in a log"

    again = start_up(home)  # a second `louzu up` on the same folder finds everything as it was left
    try:
        report = wait_for_lag_zero(home)
        assert report["stream"]["last_seq"] == after_first["stream"]["last_seq"] + 2  # the newcomer's household and record
        table = louzu(home, "table", "yinghuayuan", "--format", "csv", "-o", str(tmp_path / "t.csv"))
        assert table.returncode == 0
        assert (tmp_path / "t.csv").read_text(encoding="utf-8-sig").count("\n") == 42
    finally:
        stop(again)


def _personal_values(rows):
    return [r[5] for r in rows] + [r[6] for r in rows] + [r[5] for r in sheet_rows(1, start_serial=900)]


def test_documents_go_to_standard_output_without_o_and_status_names_the_operator_credential(home, tmp_path):
    up = start_up(home)
    try:
        louzu(home, "compound", "yinghuayuan", "--name", "樱花苑", "--town", "taopu")
        louzu(home, "import", str(write_sheet(tmp_path / "good.csv", sheet_rows(12))), "--compound", "yinghuayuan")
        wait_for_lag_zero(home)

        csv_out = louzu(home, "table", "yinghuayuan", "--format", "csv")
        lines = csv_out.stdout.splitlines()
        assert lines[0].startswith("楼号,单元,室号") and len(lines) == 13  # no BOM on a pipe; the header and 12 rows
        assert "12 residents" in csv_out.stderr
        assert not list(Path.cwd().glob("yinghuayuan.csv"))
        xlsx = louzu_bytes(home, "table", "yinghuayuan", "--format", "xlsx")
        assert openpyxl.load_workbook(io.BytesIO(xlsx)).active.max_row == 13
        on_terminal = louzu_on_a_terminal(home, "table", "yinghuayuan", "--format", "xlsx")
        assert on_terminal.returncode == 2 and "-o yinghuayuan.xlsx" in on_terminal.output
        assert "PK" not in on_terminal.output

        status = json.loads(louzu(home, "status", "--json").stdout)
        assert "nats_creds" not in status
        operator = json.loads(Path(status["nats_operator_file"]).read_text())
        context_path = Path(status["nats_context"])
        assert context_path.suffix == ".json" and context_path.stat().st_mode & 0o077 == 0
        context = json.loads(context_path.read_text())
        assert (context["user"], context["password"]) == (operator["user"], operator["password"])
        assert asyncio.run(_stream_messages_as(context)) == status["stream"]["messages"]
        assert f"nats --context {context_path}" in louzu(home, "status").stdout
        assert _nats_user_appears(home, "tenant-yinghuayuan")  # the committee, learnt from the log
    finally:
        stop(up)


async def _stream_messages_as(context: dict) -> int:
    nc = await nats.connect(context["url"], user=context["user"], password=context["password"])
    try:
        return (await nc.jetstream().stream_info("LOUZU_EVENTS")).state.messages
    finally:
        await nc.close()


def _nats_user_appears(home: Path, user: str) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if user in json.loads((home / "secrets" / "nats-users.json").read_text()):
            return True
        time.sleep(0.2)
    return False
