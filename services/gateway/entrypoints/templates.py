"""The consoles' Jinja2 templates, shared by the pages and the town console's live stream (which
renders the overview table again for each push)."""
from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from shared.localtime import local

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
# every time on a page is Shanghai time (the read models keep UTC): {{ moment | local }}, {{ moment | local('%H:%M') }}
TEMPLATES.env.filters["local"] = lambda moment, fmt="%m-%d %H:%M": local(moment).strftime(fmt) if moment else ""
