"""On the demo compound, as a cadre at the command line: the account's gate post (4 party members in
pairs, growing to 13, plus reinforcements), a building's roster printed to PDF, the whole compound
to XLSX, an as-of roster for the audit, the rota's gaps and its one-page print — then `louzu verify`."""
import json
import subprocess
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest

from tests.support.louzu_cli import louzu, louzu_bytes, louzu_on_a_terminal, start_up, stop

pytestmark = pytest.mark.e2e


def test_the_demo_gate_post_and_the_printed_rosters(tmp_path):
    home = tmp_path / "var"
    up = start_up(home)
    try:
        before_demo = datetime.now(timezone.utc) - timedelta(seconds=1)
        demo = louzu(home, "demo")
        assert "rota: 4 gate posts, 13 party-member volunteers in pairs and 2 reinforcements" in demo.stdout

        pool = json.loads(louzu(home, "rota", "pool", "yinghuayuan", "--json").stdout)
        assert len([p for p in pool if p["role"] == "party_volunteer"]) == 13
        assert {p["role"] for p in pool if p["request_id"]} == {"reinforcement"}
        gaps = json.loads(louzu(home, "rota", "gaps", "yinghuayuan", "--json", "--from", "2000-01-01").stdout)
        assert gaps["buildings_without_post"] == [] and gaps["unplanned"] == []
        assert f"{len(gaps['short'])} shifts short" in demo.stdout
        printed = louzu(home, "rota", "print", "yinghuayuan", "--from", _first_day(home), "-o", str(tmp_path / "rota.pdf"))
        assert "4 个门岗 posts" in printed.stdout and _pages(tmp_path / "rota.pdf") == 1

        louzu(home, "roster", "yinghuayuan", "38", "-o", str(tmp_path / "38.pdf"))
        text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "38.pdf"), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "38" in text and "樱花苑" in text
        assert louzu_bytes(home, "roster", "yinghuayuan", "38").startswith(b"%PDF")  # no -o: down the pipe
        piped = louzu(home, "roster", "yinghuayuan", "38", "--format", "csv")
        assert piped.stdout.startswith("楼号,") and "bytes" in piped.stderr  # no BOM on a pipe
        on_terminal = louzu_on_a_terminal(home, "roster", "yinghuayuan", "38")
        assert on_terminal.returncode == 2 and "-o 38.pdf" in on_terminal.output
        assert louzu_bytes(home, "rota", "print", "yinghuayuan", "--from", _first_day(home)).startswith(b"%PDF")
        louzu(home, "roster", "yinghuayuan", "-o", str(tmp_path / "all.xlsx"))
        book = openpyxl.load_workbook(tmp_path / "all.xlsx")
        assert len(book.sheetnames) >= 4

        refused = louzu(home, "roster", "yinghuayuan", "38", "-o", str(tmp_path / "x.pdf"), "--clear", check=False)
        assert refused.returncode == 1 and "--reason" in refused.stderr and "Traceback" not in refused.stderr
        past = louzu(home, "roster", "yinghuayuan", "38", "--as-of", before_demo.isoformat(), "-o",
                     str(tmp_path / "then.pdf"), check=False)
        assert past.returncode == 1 and "找不到" in past.stderr  # the building was not registered yet then

        assert "roster: equal to a replay of the log" in louzu(home, "verify").stdout
    finally:
        stop(up)


def _first_day(home) -> str:
    rows = json.loads(louzu(home, "rota", "show", "yinghuayuan", "--json", "--from", "2000-01-01").stdout)
    return min(r["day"] for r in rows)


def _pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
