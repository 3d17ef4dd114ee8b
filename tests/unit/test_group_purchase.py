"""Group purchases (团购): open, order, cancel, close, arrive; counts and money in fen that add up."""
from datetime import date, datetime, timezone

import pytest

from services.delivery.domain import purchase
from services.delivery.domain.purchase import Purchase
from shared.commands import delivery as c
from shared.errors import DomainError

T0 = datetime(2022, 3, 21, 12, 0, tzinfo=timezone.utc)  # 20:00 Shanghai, 21 March
BASE = {"command_id": "cmd-00000001", "tenant": "yinghuayuan", "compound": "yinghuayuan", "actor": "cadre1"}
PID = "veg0321"


def open_cmd(**fields) -> c.OpenGroupPurchase:
    values = dict(purchase_id=PID, scope="compound", supplier="桃浦菜场", offer="蔬菜包 5 kg", unit_price_fen=8850,
                  delivery_due=date(2022, 3, 23))
    return c.OpenGroupPurchase(**BASE, **(values | fields))


def fold(p: Purchase, events) -> Purchase:
    for event in events:
        purchase.apply(p, event)
    return p


def opened(**fields) -> Purchase:
    p = Purchase()
    return fold(p, purchase.open_purchase(p, open_cmd(**fields), T0))


def ordering(p: Purchase, household: str, quantity: int, building: str | None = None) -> Purchase:
    cmd = c.OrderGroupPurchase(**BASE, purchase_id=PID, household_id=household,
                               building=building or household.split("-")[0], quantity=quantity)
    return fold(p, purchase.order(p, cmd, T0))


def closed() -> Purchase:
    p = ordering(opened(), "41-1-302", 2)
    return fold(p, purchase.close(p, c.CloseGroupPurchase(**BASE, purchase_id=PID), T0))


def refused(call, code):
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.problem.code == code
    return caught.value.problem


def test_a_purchase_opens_with_its_price_in_integer_fen():
    [event] = purchase.open_purchase(Purchase(), open_cmd(), T0)
    assert event.unit_price_fen == 8850 and isinstance(event.unit_price_fen, int) and event.building is None


def test_a_free_or_negative_price_is_refused():
    for price in (0, -100):
        problem = refused(lambda p=price: purchase.open_purchase(Purchase(), open_cmd(unit_price_fen=p), T0),
                          "price_not_positive")
        assert problem.field == "unit_price_fen"


def test_a_delivery_day_in_the_past_is_refused_but_today_in_shanghai_is_fine():
    refused(lambda: purchase.open_purchase(Purchase(), open_cmd(delivery_due=date(2022, 3, 20)), T0), "due_in_past")
    assert purchase.open_purchase(Purchase(), open_cmd(delivery_due=date(2022, 3, 21)), T0)


def test_a_buildings_purchase_names_its_building_and_takes_orders_from_it_only():
    refused(lambda: purchase.open_purchase(Purchase(), open_cmd(scope="building"), T0), "building_required")
    p = opened(scope="building", building="41")
    refused(lambda: ordering(p, "42-1-101", 1), "wrong_building")
    assert ordering(p, "41-1-101", 1).orders["41-1-101"].quantity == 1


def test_opening_the_same_purchase_twice_is_one_purchase():
    assert purchase.open_purchase(opened(), open_cmd(), T0) == []


def test_a_household_orders_one_to_twenty_units():
    for quantity in (0, 21):
        problem = refused(lambda q=quantity: ordering(opened(), "41-1-302", q), "quantity_out_of_range")
        assert problem.field == "quantity" and "1 到 20" in problem.message_zh
    assert ordering(opened(), "41-1-302", 20).orders["41-1-302"].quantity == 20


def test_a_second_order_by_the_same_household_replaces_its_quantity():
    p = ordering(ordering(opened(), "41-1-302", 2), "41-1-302", 5)
    assert purchase.summary(p)["total"] == {"households": 1, "quantity": 5, "amount_fen": 5 * 8850}


def test_ordering_the_same_quantity_again_changes_nothing():
    p = ordering(opened(), "41-1-302", 2)
    cmd = c.OrderGroupPurchase(**BASE, purchase_id=PID, household_id="41-1-302", building="41", quantity=2)
    assert purchase.order(p, cmd, T0) == []


def test_a_cancelled_order_drops_out_of_the_totals_and_cancelling_again_changes_nothing():
    p = ordering(ordering(opened(), "41-1-302", 2), "42-1-101", 3)
    cmd = c.CancelGroupPurchaseOrder(**BASE, purchase_id=PID, household_id="41-1-302")
    fold(p, purchase.cancel_order(p, cmd, T0))
    assert purchase.summary(p)["total"] == {"households": 1, "quantity": 3, "amount_fen": 3 * 8850}
    assert purchase.cancel_order(p, cmd, T0) == []
    other = c.CancelGroupPurchaseOrder(**BASE, purchase_id=PID, household_id="43-1-101")
    assert refused(lambda: purchase.cancel_order(p, other, T0), "no_order").field == "household_id"


def test_closing_needs_at_least_one_order_and_records_the_totals():
    refused(lambda: purchase.close(opened(), c.CloseGroupPurchase(**BASE, purchase_id=PID), T0), "no_orders")
    p = ordering(ordering(opened(), "41-1-302", 2), "42-2-601", 3)
    [event] = purchase.close(p, c.CloseGroupPurchase(**BASE, purchase_id=PID), T0)
    assert (event.households, event.quantity, event.amount_fen) == (2, 5, 44250)
    assert purchase.close(fold(p, [event]), c.CloseGroupPurchase(**BASE, purchase_id=PID), T0) == []


def test_no_order_or_cancellation_is_taken_after_closing():
    p = closed()
    problem = refused(lambda: ordering(p, "41-1-101", 1), "illegal_transition")
    assert "已截单" in problem.message_zh and "closed" in problem.message_en
    cmd = c.CancelGroupPurchaseOrder(**BASE, purchase_id=PID, household_id="41-1-302")
    refused(lambda: purchase.cancel_order(p, cmd, T0), "illegal_transition")


def test_an_unknown_purchase_is_refused_as_unknown():
    refused(lambda: ordering(Purchase(), "41-1-101", 1), "purchase_unknown")


def test_goods_arrive_only_after_closing_and_once():
    arrive = c.RecordGroupPurchaseArrival(**BASE, purchase_id=PID, note="少两箱")
    refused(lambda: purchase.arrival(opened(), arrive, T0), "illegal_transition")
    p = closed()
    [event] = purchase.arrival(p, arrive, T0)
    assert event.note == "少两箱" and fold(p, [event]).status == "arrived"
    assert purchase.arrival(p, arrive, T0) == []


def test_the_summary_per_building_adds_up_exactly_to_the_totals_in_fen():
    p = opened(unit_price_fen=1999)
    for household, quantity in [("41-1-302", 3), ("41-2-101", 1), ("9-1-501", 7), ("41-1-601", 20), ("9-1-102", 2)]:
        ordering(p, household, quantity)
    s = purchase.summary(p)
    assert list(s["buildings"]) == ["9", "41"]
    assert s["buildings"]["9"] == {"households": 2, "quantity": 9, "amount_fen": 9 * 1999}
    assert s["buildings"]["41"] == {"households": 3, "quantity": 24, "amount_fen": 24 * 1999}
    for key in ("households", "quantity", "amount_fen"):
        assert s["total"][key] == sum(row[key] for row in s["buildings"].values())
    assert s["total"]["amount_fen"] == 33 * 1999 and all(isinstance(v, int) for v in s["total"].values())
