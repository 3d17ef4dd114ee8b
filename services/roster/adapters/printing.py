"""Printing the building roster (楼组表) and the gate-post duty rota: PDF, XLSX and CSV — the one
place the rest of the service imports printers from.

Pure functions, data in and bytes out: `roster_pdf`, `roster_xlsx` and `roster_csv` take a `Sheet`
(one building) or a `CompoundSheets` (every building, one file); `rota_pdf` takes a `RotaSheet`.
Nothing is read from disk but the Noto Sans CJK fonts (found through fontconfig), and the PDF
renderer fetches nothing at all. Split by purpose, each module importing only those before it:

- `fonts.py`: the font, what it can print (`unprintable`) and how wide;
- `layout.py`: the values as printed, shared by every format (labels, totals, one row per resident);
- `spreadsheets.py`: CSV and XLSX;
- `roster_pdf.py`: the roster PDF, planned page by page and laid out by WeasyPrint, in parallel
  printer processes when they run (it says how and why);
- `rota_pdf.py`: the duty rota on one page.
"""
from __future__ import annotations

from services.roster.adapters.fonts import FONT_FAMILY, FontMissing, UnprintableChar, unprintable
from services.roster.adapters.layout import TOTAL_LABELS, roster_rows
from services.roster.adapters.roster_pdf import roster_pdf, warm_up
from services.roster.adapters.rota_pdf import rota_pdf
from services.roster.adapters.spreadsheets import roster_csv, roster_xlsx

__all__ = ["FONT_FAMILY", "TOTAL_LABELS", "FontMissing", "UnprintableChar", "roster_csv", "roster_pdf", "roster_rows",
           "roster_xlsx", "rota_pdf", "unprintable", "warm_up"]
