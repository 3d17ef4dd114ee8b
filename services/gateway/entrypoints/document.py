"""The HTTP API's OpenAPI document, written from the code:

    python -m services.gateway.entrypoints.document > docs/openapi.json

tests/unit/test_openapi.py fails when docs/openapi.json drifts from the code."""
from __future__ import annotations

import asyncio
import json

from services.gateway.entrypoints.app import create_app


def openapi_document() -> dict:
    return create_app(None, asyncio.Event()).openapi()  # type: ignore[arg-type] - documenting needs no connections


def render(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(openapi_document()), end="")
