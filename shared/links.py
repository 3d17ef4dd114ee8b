"""Signed, expiring links printed in a building's QR code: they open the resident page of that
building and nothing else. The roster printer makes them and the gateway opens them, with the
deployment's link secret (`<LOUZU_HOME>/secrets/links.key`)."""
from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

LINK_DAYS = 30  # a printed roster's QR code works for a lockdown and then some
_SALT = "louzu-building-link"


def building_token(secret: bytes, tenant: str, compound: str, building: str) -> str:
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps([tenant, compound, building])


def open_building_token(secret: bytes, token: str, max_days: int = LINK_DAYS) -> tuple[str, str, str] | None:
    try:
        tenant, compound, building = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=max_days * 86400)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    return str(tenant), str(compound), str(building)


def building_url(public_url: str, secret: bytes, tenant: str, compound: str, building: str) -> str:
    return f"{public_url.rstrip('/')}/r/{building_token(secret, tenant, compound, building)}"
