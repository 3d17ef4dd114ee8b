"""Printer processes: a roster laid out in two processes is the same document as one laid out in
one, a whole compound gets a bookmark per building, and a printer process killed mid-print loses
nothing (the print is made in the calling process and the printers start afresh)."""
from __future__ import annotations

import os
import signal
import threading
import time

import pikepdf
import pytest

from services.roster.adapters import roster_pdf as printer
from services.roster.domain.sheet import CompoundSheets
from tests.unit.test_roster_printing import GENERATED, building, fonts, page_count, pdf_text

pytestmark = pytest.mark.skipif(os.cpu_count() == 1, reason="one core: printer processes are never started")


@pytest.fixture(scope="module")
def workers():
    assert printer.start_workers(2) == 2
    yield printer._workers
    printer.stop_workers()


def pages_text(path) -> list[str]:
    return [pdf_text(path, first=n, last=n) for n in range(1, page_count(path) + 1)]


def test_two_processes_print_the_same_pages_as_one(workers, tmp_path):
    sheet = building("8", 150)  # ~300 residents: 5 pages, cut into two runs
    _, pages = printer.plan(sheet)
    assert len(printer._runs(pages, 2)) == 2
    parallel = tmp_path / "two.pdf"
    parallel.write_bytes(printer.roster_pdf(sheet))
    printer.stop_workers()
    try:
        single = tmp_path / "one.pdf"
        single.write_bytes(printer.roster_pdf(sheet))
    finally:
        printer.start_workers(2)
    assert page_count(parallel) == len(pages) > 2
    assert pages_text(parallel) == pages_text(single)
    for name, _ in fonts(parallel):
        assert "Noto-Sans-CJK-SC" in name
    assert f"第{len(pages)}页/共{len(pages)}页" in "".join(pages_text(parallel)[-1].split())


def test_a_compound_gets_a_bookmark_per_building(workers, tmp_path):
    sheets = tuple(building(str(b), 40, start=100 * b, special=b == 1) for b in range(1, 7))
    doc = CompoundSheets("yinghuayuan", "樱花苑", GENERATED, sheets)
    path = tmp_path / "compound.pdf"
    path.write_bytes(printer.roster_pdf(doc))
    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        titles = [item.title for item in outline.root]
        starts = [pdf.pages.index(pikepdf.Page(item.destination[0])) for item in outline.root]
        assert titles == ["樱花苑 楼组表汇总"] + [f"樱花苑 {s.building}号楼 楼组表" for s in sheets]
        assert starts[0] == 0 and starts == sorted(starts)
        for title, start in zip(titles[1:], starts[1:]):
            assert title in pdf_text(path, first=start + 1, last=start + 1)


def test_a_printer_process_killed_mid_print_loses_nothing(workers, tmp_path):
    sheet = building("9", 260)
    victim = next(iter(workers.pool._processes))  # a printer's pid
    printed: list[bytes] = []
    printing = threading.Thread(target=lambda: printed.append(printer.roster_pdf(sheet)))
    printing.start()
    time.sleep(0.3)  # the runs are being laid out (on a fast moment the print may be done already)
    os.kill(victim, signal.SIGKILL)
    printing.join(120)
    assert printed, "the print was lost"
    second = printer.roster_pdf(sheet)  # if the first print finished before the kill, this one meets it
    assert printer._workers.pool is None  # the broken printers were let go; these prints were made here
    for n, pdf in enumerate((printed[0], second)):
        path = tmp_path / f"after-kill-{n}.pdf"
        path.write_bytes(pdf)
        text = pdf_text(path)
        assert all(r.id_number in text for h in sheet.households for r in h.residents)
    assert printer.start_workers(2) == 2
    again = tmp_path / "again.pdf"
    again.write_bytes(printer.roster_pdf(sheet))
    assert pages_text(again) == pages_text(tmp_path / "after-kill-1.pdf")
