"""What every command carries: an idempotency key, the tenant and compound, and who issued it."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = ""
    command_id: str = Field(min_length=8, max_length=200, description="idempotency key: a retry sends the same id")
    tenant: str = Field(description="residents' committee")
    compound: str = Field(description="compound id")
    actor: str = Field(description="user id of whoever issued the command")
    correlation_id: str | None = None
