"""A supply request carries its standing in the queue — the delivery service's tier and reasons —
so that whoever shows the queue (the gateway) need not know the priority rule. No I/O."""
from datetime import datetime, timedelta, timezone

import pytest

from services.delivery.domain import model
from services.delivery.domain.model import Request
from services.delivery.domain.priority import priority
from shared.commands import delivery as c

T0 = datetime(2022, 3, 21, 12, 0, tzinfo=timezone.utc)
BASE = {"command_id": "cmd-00000001", "tenant": "yinghuayuan", "compound": "yinghuayuan", "actor": "cadre1"}


def requested(category, urgency, flags):
    cmd = c.RequestDelivery(**BASE, household_id="41-1-302", building="41", items="x", category=category,
                            urgency=urgency)
    [event] = model.request(Request(), cmd, flags, T0)
    return event


@pytest.mark.parametrize("category, urgency, flags, tier, reasons", [
    ("medicine", "urgent", (), 0, ("紧急药品",)),
    ("medical_supplies", "urgent", ("infant",), 0, ("紧急医疗用品", "婴幼儿")),
    ("food", "normal", ("elderly_alone", "pregnant"), 1, ("独居老人", "孕妇")),
    ("medicine", "normal", (), 2, ()),
])
def test_a_request_carries_the_tier_and_reasons_the_priority_rule_gives_it(category, urgency, flags, tier, reasons):
    event = requested(category, urgency, flags)
    assert (event.standing.tier, event.standing.reasons_zh) == (tier, reasons)
    assert len(event.standing.reasons_en) == len(reasons)


def test_the_standing_is_the_rank_the_queue_sorts_by_and_leaves_the_waiting_time_to_the_reader():
    event = requested("food", "normal", ("disability",))
    later = priority(event, T0 + timedelta(minutes=45), timedelta(hours=2))
    assert later.rank[0] == event.standing.tier
    assert later.reasons[:-1] == list(zip(event.standing.reasons_zh, event.standing.reasons_en))
    assert later.reasons[-1][0] == "已等待 45 分钟" and not any("等待" in r for r in event.standing.reasons_zh)
