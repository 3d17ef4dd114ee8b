"""Which delivery goes first, and why: urgent medicine, then vulnerable households, then whoever has
waited longest. Every rank comes with its reasons in Chinese and English, so a cadre can see why."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, TypeVar

from shared.events.registry import FLAG_LABELS

MEDICAL = ("medicine", "medical_supplies")
URGENT_LABELS = {"medicine": ("紧急药品", "urgent medicine"),
                 "medical_supplies": ("紧急医疗用品", "urgent medical supplies")}
TIER_POINTS = 10_000  # score: tier first, then minutes waited (capped below a tier)

T = TypeVar("T")


@dataclass(frozen=True)
class Priority:
    """Sort by `rank` (smallest first); `score` is the same order as a number, larger first, for display."""

    rank: tuple
    score: int
    reasons: list[tuple[str, str]] = field(default_factory=list)
    overdue: bool = False
    age_minutes: int = 0


def _get(request: Any, name: str) -> Any:
    return request.get(name) if isinstance(request, Mapping) else getattr(request, name)


def priority(request: Any, now: datetime, escalate_after: timedelta) -> Priority:
    """`request`: a Request state, a DeliveryRequested event, or a mapping with urgency, category,
    vulnerable, requested_at and request_id."""
    category, urgent = _get(request, "category"), _get(request, "urgency") == "urgent"
    flags = tuple(_get(request, "vulnerable") or ())
    requested_at: datetime = _get(request, "requested_at")
    age = max(now - requested_at, timedelta(0))
    minutes = int(age.total_seconds() // 60)
    reasons: list[tuple[str, str]] = []
    if urgent and category in MEDICAL:
        tier = 0
        reasons.append(URGENT_LABELS[category])
    elif flags:
        tier = 1
    else:
        tier = 2
    reasons.extend(FLAG_LABELS[f] for f in FLAG_LABELS if f in flags)
    reasons.append((f"已等待 {minutes} 分钟", f"waiting {minutes} min"))
    overdue = age >= escalate_after
    if overdue:
        limit = int(escalate_after.total_seconds() // 60)
        reasons.append((f"已超时（超过 {limit} 分钟）", f"overdue (over {limit} min)"))
    score = (2 - tier) * TIER_POINTS + min(minutes, TIER_POINTS - 1)
    return Priority(rank=(tier, requested_at, str(_get(request, "request_id"))), score=score, reasons=reasons,
                    overdue=overdue, age_minutes=minutes)


def sort_queue(requests: Iterable[T], now: datetime, escalate_after: timedelta) -> list[T]:
    """The requests in the order they should be carried; ties by request time, then request id."""
    return sorted(requests, key=lambda r: priority(r, now, escalate_after).rank)
