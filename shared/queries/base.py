"""What every query and reply carries. A query names its committee and compound (the committee is
also the subject's tenant token, and must match it) and who is asking; a reply says `ok`.
A file travels beside the messages, in the files bucket, and the messages carry a `StoredFile`."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TOKEN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class Query(BaseModel):
    """A question for the service that owns the answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    tenant: str = Field(pattern=TOKEN, description="residents' committee; the same as the subject's tenant token")
    compound: str = Field(pattern=TOKEN, description="compound id")
    actor: str = Field(min_length=1, max_length=200, description="user id of whoever asks (for the audit trail)")


class Reply(BaseModel):
    """A query's answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ok: Literal[True] = Field(default=True, description="the query was answered")


class Refusal(BaseModel):
    """Why a query was not answered, for a cadre to act on."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(description="stable machine code, e.g. invalid_field, unknown_building, file_gone")
    message_zh: str = Field(description="message in Chinese, for the cadre")
    message_en: str = Field(description="message in English")
    field: str | None = Field(default=None, description="the field at fault, if any")


class QueryRefused(BaseModel):
    """The query was refused: invalid, unknown, not allowed, or the owner could not answer it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ok: Literal[False] = Field(description="the query was not answered")
    error: Refusal


class StoredFile(BaseModel):
    """A file in the JetStream Object Store bucket `louzu-files`, kept 15 minutes at most: whoever
    receives this fetches it by `object`, checks it against `digest`, and deletes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    object: str = Field(min_length=1, max_length=200, pattern=r"^[a-z0-9_-]+/[a-z0-9_-]+/[a-z0-9_-]+\.[a-z0-9]+$",
                        description="the object's name: <purpose>/<tenant>/<id>.<suffix>")
    size: int = Field(ge=0, description="bytes")
    media_type: str = Field(min_length=1, max_length=120, description="e.g. application/pdf, text/csv; charset=utf-8")
    digest: str = Field(pattern=r"^SHA-256=[A-Za-z0-9_=-]+$",
                        description="SHA-256 of the bytes, as the Object Store writes it (SHA-256=<base64url>)")
    filename: str = Field(min_length=1, max_length=200, description="a name to save it under, e.g. roster-41.pdf")
