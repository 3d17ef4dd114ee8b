"""The platform's local time: Shanghai (UTC+8, no daylight saving). Report windows, shift templates,
days of a seal and every time shown to a cadre or a resident are in it; the log and the read
models keep UTC."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Iterable

SHANGHAI = timezone(timedelta(hours=8), "CST")


def local(moment: datetime) -> datetime:
    """`moment` in Shanghai time (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI)


def todays_report_windows(now: datetime, report_times: Iterable[str]) -> list[datetime]:
    """The starts of today's (Shanghai) report windows (the town policy's `HH:MM` times), in order."""
    day = local(now).date()
    return sorted(datetime.combine(day, time.fromisoformat(t), SHANGHAI) for t in report_times)


def open_report_window(now: datetime, report_times: Iterable[str]) -> datetime | None:
    """The start of the latest report window opened today at or before `now`; None before the day's
    first window opens (until then nobody is late with a report)."""
    opened = [start for start in todays_report_windows(now, report_times) if start <= now]
    return opened[-1] if opened else None
