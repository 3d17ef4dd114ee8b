"""Errors a cadre can act on: a code, a message in Chinese and in English, and the field at fault."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    code: str
    message_zh: str
    message_en: str
    field: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "message_zh": self.message_zh, "message_en": self.message_en, "field": self.field}


class DomainError(Exception):
    """A command was refused by a business rule; nothing was changed."""

    def __init__(self, code: str, message_zh: str, message_en: str, field: str | None = None) -> None:
        super().__init__(message_en)
        self.problem = Problem(code, message_zh, message_en, field)
