"""Verbs that write a document follow the habit of curl and pandoc: `-o FILE` writes the file, no
`-o` (or `-o -`) writes standard output, and a binary document is not poured onto a terminal."""
from __future__ import annotations

import io
import sys

import pytest

from shared.cli import NeedsOutputFile, to_stdout, write_document
from services.registry.entrypoints.cli import _spreadsheet

COLUMNS = [("name", "姓名"), ("phone", "手机号")]
ROWS = [{"name": "张三", "phone": "138****5678"}, {"name": "=HYPERLINK()", "phone": ""}]


class Stdout(io.TextIOWrapper):
    def __init__(self, tty: bool) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8")
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def written(self) -> bytes:
        self.flush()
        return self.buffer.getvalue()


def stdout_is(monkeypatch, *, tty: bool) -> Stdout:
    """Standard output as a terminal or a pipe (set inside the test: pytest swaps it in for the call)."""
    out = Stdout(tty=tty)
    monkeypatch.setattr(sys, "stdout", out)
    return out


def test_a_text_document_without_o_goes_to_standard_output_even_on_a_terminal(monkeypatch):
    stdout_is(monkeypatch, tty=True)
    assert to_stdout(None, "csv", binary=False, example="y.csv")


def test_a_binary_document_without_o_is_refused_on_a_terminal_with_a_way_out(monkeypatch):
    stdout_is(monkeypatch, tty=True)
    with pytest.raises(NeedsOutputFile) as refused:
        to_stdout(None, "xlsx", binary=True, example="yinghuayuan.xlsx")
    assert "-o yinghuayuan.xlsx" in refused.value.message_en and "-o yinghuayuan.xlsx" in refused.value.message_zh
    assert "terminal" in refused.value.message_en and "终端" in refused.value.message_zh


def test_a_binary_document_without_o_goes_down_a_pipe(monkeypatch):
    stdout_is(monkeypatch, tty=False)
    assert to_stdout(None, "pdf", binary=True, example="38.pdf")


def test_o_dash_insists_on_standard_output_and_o_file_never_uses_it(monkeypatch):
    stdout_is(monkeypatch, tty=True)
    assert to_stdout("-", "pdf", binary=True, example="38.pdf")
    assert not to_stdout("38.pdf", "pdf", binary=True, example="38.pdf")


def test_on_standard_output_the_document_travels_alone_and_the_summary_goes_to_standard_error(monkeypatch, capsys):
    pipe = stdout_is(monkeypatch, tty=False)
    write_document(b"%PDF-1.7 ...", None, "12 bytes")
    assert pipe.written() == b"%PDF-1.7 ..."
    assert "12 bytes" in capsys.readouterr().err


def test_to_a_file_the_summary_names_the_file(tmp_path, capsys):
    target = tmp_path / "38.pdf"
    write_document(b"%PDF", str(target), "4 bytes")
    assert target.read_bytes() == b"%PDF"
    assert capsys.readouterr().out == f"{target}: 4 bytes\n"


def test_the_csv_on_standard_output_has_no_bom_and_the_csv_file_has_the_one_excel_needs():
    piped = _spreadsheet("csv", COLUMNS, ROWS, bom=False)
    saved = _spreadsheet("csv", COLUMNS, ROWS, bom=True)
    assert piped.decode("utf-8").splitlines() == ["姓名,手机号", "张三,138****5678", "'=HYPERLINK(),"]
    assert saved == b"\xef\xbb\xbf" + piped


def test_the_xlsx_is_a_workbook_in_memory():
    import openpyxl
    book = openpyxl.load_workbook(io.BytesIO(_spreadsheet("xlsx", COLUMNS, ROWS, bom=False)))
    assert [[c.value for c in row] for row in book.active.iter_rows()][1] == ["张三", "138****5678"]
