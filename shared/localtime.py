"""The platform's local time: Shanghai (UTC+8, no daylight saving). Report windows, shift templates,
days of a seal and every time shown to a cadre or a resident are in it; the log and the read
models keep UTC."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "CST")


def local(moment: datetime) -> datetime:
    """`moment` in Shanghai time (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI)
