"""Signed sessions, CSRF tokens and sign-in rate limits.

A session is a cookie signed with the gateway's secret (itsdangerous, HMAC-SHA256) holding the user
id, a CSRF token and when it was issued; it expires after `SESSION_HOURS`. Every state-changing
request made with the cookie must repeat the CSRF token (form field `csrf_token` or header
`X-CSRF-Token`, which htmx sends for every request of a page). Sign-in attempts are limited per client address and per user id."""
from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

COOKIE = "louzu_session"
SESSION_HOURS = 12
ATTEMPTS, WINDOW_S = 5, 60.0


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


class RateLimit:
    """At most `ATTEMPTS` failed sign-ins per key in `WINDOW_S` seconds (sliding window, in memory:
    one gateway process; several would share it through a store — not needed at a town's scale)."""

    def __init__(self, attempts: int = ATTEMPTS, window: float = WINDOW_S) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, *keys: str) -> float:
        """Seconds to wait, 0 if allowed."""
        now, wait = time.monotonic(), 0.0
        for key in keys:
            failures = self._failures[key]
            while failures and now - failures[0] > self.window:
                failures.popleft()
            if len(failures) >= self.attempts:
                wait = max(wait, self.window - (now - failures[0]))
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._failures[key].append(now)
        if len(self._failures) > 50_000:
            self._failures.clear()
