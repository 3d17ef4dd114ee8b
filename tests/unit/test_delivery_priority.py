"""The delivery queue's order and its reasons: urgent medicine, then vulnerable households, then age."""
from datetime import datetime, timedelta, timezone

from services.delivery.domain.model import Request
from services.delivery.domain.priority import priority, sort_queue
from shared.events import delivery as e

NOW = datetime(2022, 3, 21, 14, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def req(rid: str, waited_min: int, category="food", urgency="normal", vulnerable=()) -> Request:
    return Request(status="accepted", request_id=rid, category=category, urgency=urgency, vulnerable=vulnerable,
                   requested_at=NOW - timedelta(minutes=waited_min))


def order(*requests) -> list[str]:
    return [r.request_id for r in sort_queue(requests, NOW, HOUR)]


def test_urgent_medicine_beats_a_vulnerable_household_which_beats_a_longer_wait():
    old = req("old", 300)
    elderly = req("elderly", 10, vulnerable=("elderly_alone",))
    medicine = req("medicine", 1, category="medicine", urgency="urgent")
    assert order(old, elderly, medicine) == ["medicine", "elderly", "old"]


def test_urgent_medical_supplies_count_as_urgent_medicine():
    oxygen = req("oxygen", 5, "medical_supplies", "urgent")
    assert order(req("v", 50, vulnerable=("infant",)), oxygen) == ["oxygen", "v"]


def test_medicine_that_is_not_urgent_waits_its_turn_by_age():
    assert order(req("pills", 5, "medicine"), req("rice", 20)) == ["rice", "pills"]


def test_urgent_food_is_not_urgent_medicine():
    assert order(req("food", 5, urgency="urgent"), req("elderly", 1, vulnerable=("disability",))) == ["elderly", "food"]


def test_within_a_tier_the_longest_waiting_goes_first():
    assert order(req("b", 10), req("a", 40), req("c", 25)) == ["a", "c", "b"]
    flags = ("pregnant",)
    assert order(req("y", 3, vulnerable=flags), req("x", 30, vulnerable=("chronic_illness", "infant"))) == ["x", "y"]


def test_equal_waits_are_broken_by_request_id_so_the_order_is_deterministic():
    assert order(req("b", 10), req("a", 10)) == order(req("a", 10), req("b", 10)) == ["a", "b"]


def test_the_reasons_say_why_in_chinese_and_english():
    p = priority(req("m", 95, "medicine", "urgent", ("elderly_alone", "chronic_illness")), NOW, HOUR * 3)
    assert p.reasons == [("紧急药品", "urgent medicine"), ("独居老人", "elderly living alone"),
                         ("慢性病", "chronic illness"), ("已等待 95 分钟", "waiting 95 min")]
    assert not p.overdue and p.age_minutes == 95


def test_a_request_waiting_as_long_as_the_escalation_limit_is_overdue():
    assert not priority(req("a", 59), NOW, HOUR).overdue
    p = priority(req("a", 60), NOW, HOUR)
    assert p.overdue and p.reasons[-1] == ("已超时（超过 60 分钟）", "overdue (over 60 min)")


def test_the_score_orders_the_same_way_as_the_rank():
    requests = [req("a", 300), req("b", 10, vulnerable=("infant",)), req("c", 1, "medicine", "urgent"), req("d", 5)]
    by_score = sorted(requests, key=lambda r: -priority(r, NOW, HOUR).score)
    assert [r.request_id for r in by_score] == order(*requests) == ["c", "b", "a", "d"]


def test_a_request_event_or_a_mapping_can_be_ranked_too():
    event = e.DeliveryRequested(request_id="r1", household_id="h", building="41", requested_by="u", items="x",
                                category="medicine", source="shop", urgency="urgent", requested_at=NOW - HOUR)
    fields = {"request_id": "r1", "category": "medicine", "urgency": "urgent", "vulnerable": (),
              "requested_at": NOW - HOUR}
    assert priority(event, NOW, HOUR) == priority(fields, NOW, HOUR)


def test_a_clock_running_behind_never_gives_a_negative_wait():
    assert priority(req("a", -5), NOW, HOUR).age_minutes == 0
