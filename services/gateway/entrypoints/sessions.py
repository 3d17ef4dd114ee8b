"""Signed sessions and CSRF tokens.

A session is a cookie signed with the gateway's secret (itsdangerous, HMAC-SHA256) holding the user
id, a CSRF token and when it was issued; it expires after `SESSION_HOURS`. Every state-changing
request made with the cookie must repeat the CSRF token (form field `csrf_token` or header
`X-CSRF-Token`, which htmx sends for every request of a page). Nothing of a session is kept in the
gateway: any gateway given the same secrets folder reads the cookie and checks its token. Sign-in
attempts are limited per client address and per user id in NATS KV (`adapters/state.py`)."""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

COOKIE = "louzu_session"
SESSION_HOURS = 12


@dataclass(frozen=True)
class Session:
    user_id: str  # "" for a resident who came through a building link
    csrf: str
    resident: tuple[str, str, str, str] | None = None  # (tenant, compound, building, household) for residents


class Sessions:
    def __init__(self, secret: bytes) -> None:
        self._cookies = URLSafeTimedSerializer(secret, salt="louzu-session")

    def issue(self, user_id: str, resident: tuple[str, str, str, str] | None = None) -> tuple[str, Session]:
        session = Session(user_id, secrets.token_urlsafe(24), resident)
        return self.dump(session), session

    def dump(self, session: Session) -> str:
        return self._cookies.dumps({"u": session.user_id, "c": session.csrf,
                                    "r": list(session.resident) if session.resident else None})

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._cookies.loads(cookie, max_age=SESSION_HOURS * 3600)
        except (BadSignature, SignatureExpired):
            return None
        return Session(data["u"], data["c"], tuple(data["r"]) if data.get("r") else None)


def csrf_ok(session: Session | None, sent: str | None) -> bool:
    return bool(session and sent and hmac.compare_digest(session.csrf, sent))
