"""WeasyPrint, set up once per process: the font configuration (fontconfig start-up is slow), the
stylesheets, a URL fetcher that serves the document's own generated images and nothing else, and
one render at a time (the font configuration is shared)."""
from __future__ import annotations

import functools
import gc
import html
import threading
from typing import Mapping

_render_lock = threading.Lock()


class PaginationDrift(RuntimeError):
    """WeasyPrint made a different number of pages than the document planned: the printed page
    numbers would be wrong, so the document is not returned."""


@functools.cache
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@functools.cache
def _stylesheet(css: str):
    from weasyprint import CSS

    return CSS(string=css, font_config=_font_config())


def _fetcher(resources: Mapping[str, bytes]):
    """Serves `louzu:` images generated for this document: a printed roster never loads anything
    from the network or the disk, whatever a value in it says."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class Fetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url in resources:
                kind = "image/png" if url.endswith(".png") else "image/svg+xml"
                return URLFetcherResponse(url, resources[url], headers={"Content-Type": kind})
            raise ValueError(f"the printer fetches nothing: {url[:60]}")

    return Fetcher()


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"</head><body>{body}</body></html>")


def render(document: str, css: str, *, resources: Mapping[str, bytes] | None = None, cache_css: bool = True,
           expected_pages: int | None = None) -> bytes:
    """The PDF of an HTML document. `expected_pages`: the number of pages the document was planned
    on; any other number raises `PaginationDrift`."""
    from weasyprint import CSS, HTML

    with _render_lock:
        stylesheet = _stylesheet(css) if cache_css else CSS(string=css, font_config=_font_config())
        # WeasyPrint makes ~10^6 short-lived objects per roster: the cyclic garbage collector,
        # running every few thousand allocations, costs 15-25 % of a render. Collect once after.
        collecting = gc.isenabled()
        gc.disable()
        try:
            laid_out = HTML(string=document, url_fetcher=_fetcher(resources or {})).render(
                stylesheets=[stylesheet], font_config=_font_config())
            if expected_pages is not None and len(laid_out.pages) != expected_pages:
                raise PaginationDrift(f"planned {expected_pages} pages, laid out {len(laid_out.pages)}")
            return laid_out.write_pdf()
        finally:
            if collecting:
                gc.enable()
