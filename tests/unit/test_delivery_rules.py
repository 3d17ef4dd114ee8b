"""Delivery rules: the request's life from the queue to the door, the seal, the gate. No I/O."""
from datetime import datetime, timedelta, timezone

import pytest

from services.delivery.domain import model
from services.delivery.domain.model import Request
from shared.commands import delivery as c
from shared.errors import DomainError
from shared.events import delivery as e

T0 = datetime(2022, 3, 21, 12, 0, tzinfo=timezone.utc)
BASE = {"command_id": "cmd-00000001", "tenant": "yinghuayuan", "compound": "yinghuayuan", "actor": "cadre1"}
RID = "req1"


def requested(source="shop", **fields) -> Request:
    r = Request()
    cmd = c.RequestDelivery(**BASE, request_id=RID, household_id="41-1-302", building="41", items="降压药 一盒",
                            category="medicine", source=source, **fields)
    return fold(r, model.request(r, cmd, ("elderly_alone",), T0))


def fold(r: Request, events) -> Request:
    for event in events:
        model.apply(r, event)
    return r


def accepted(**kw) -> Request:
    r = requested(**kw)
    return fold(r, model.accept(r, c.AcceptDelivery(**BASE, request_id=RID), T0))


def assigned(kind="gate_post_pair", **kw) -> Request:
    r = accepted(**kw)
    return fold(r, model.assign(r, assign_cmd(kind=kind), "sealed" if kind == "gate_post_pair" else None, T0))


def assign_cmd(assignee="pair-a", kind="gate_post_pair") -> c.AssignDelivery:
    return c.AssignDelivery(**BASE, request_id=RID, assignee_id=assignee, assignee_kind=kind)


def picked_up() -> Request:
    r = assigned()
    return fold(r, model.pick_up(r, c.PickUpDelivery(**BASE, request_id=RID), T0))


def failed(retry_allowed=True) -> Request:
    r = assigned()
    cmd = c.FailDelivery(**BASE, request_id=RID, reason="no_answer", retry_allowed=retry_allowed)
    return fold(r, model.fail(r, cmd, T0))


def refused(call, code="illegal_transition"):
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.problem.code == code
    return caught.value.problem


def complete(r: Request):
    return model.complete(r, c.CompleteDelivery(**BASE, request_id=RID, confirmed_by_resident=True), T0)


def test_a_request_enters_the_queue_with_the_households_flags_copied_at_that_moment():
    r = Request()
    cmd = c.RequestDelivery(**BASE, household_id="41-1-302", building="41", items=" 奶粉 ", category="food",
                            source="shop", urgency="urgent", on_behalf=True)
    [event] = model.request(r, cmd, ("infant", "elderly_alone"), T0)
    assert event.vulnerable == ("elderly_alone", "infant") and event.items == "奶粉" and event.on_behalf
    assert event.requested_by == "cadre1" and event.requested_at == T0 and event.request_id == model.request_id_of(cmd)


def test_the_same_request_made_twice_is_one_request():
    r = requested()
    cmd = c.RequestDelivery(**BASE, request_id=RID, household_id="41-1-302", building="41", items="x",
                            category="food", source="shop")
    assert model.request(r, cmd, (), T0) == []


def test_a_request_id_left_out_is_derived_from_the_command_id_so_a_retry_finds_it():
    cmd = c.RequestDelivery(**BASE, household_id="h", building="41", items="x", category="food", source="shop")
    assert model.request_id_of(cmd) == model.request_id_of(cmd.model_copy()) != model.request_id_of(
        cmd.model_copy(update={"command_id": "cmd-00000002"}))


def test_the_happy_path_goes_requested_accepted_assigned_picked_up_delivered():
    r = picked_up()
    [event] = complete(r)
    assert isinstance(event, e.DeliveryDelivered) and event.confirmed_by_resident
    assert fold(r, [event]).status == "delivered"


def test_accepting_twice_assigning_the_same_carrier_twice_and_delivering_twice_change_nothing():
    assert model.accept(accepted(), c.AcceptDelivery(**BASE, request_id=RID), T0) == []
    assert model.assign(assigned(), assign_cmd(), "sealed", T0) == []
    r = picked_up()
    assert model.pick_up(r, c.PickUpDelivery(**BASE, request_id=RID), T0) == []
    fold(r, complete(r))
    assert complete(r) == []


def test_a_request_can_be_reassigned_until_it_is_picked_up():
    [event] = model.assign(assigned(), assign_cmd(assignee="pair-b"), "sealed", T0)
    assert event.assignee_id == "pair-b"
    refused(lambda: model.assign(picked_up(), assign_cmd(assignee="pair-b"), "sealed", T0))


def test_delivering_before_pick_up_is_refused_saying_the_current_state():
    problem = refused(lambda: complete(assigned()))
    assert "已指派" in problem.message_zh and "assigned" in problem.message_en and problem.field == "request_id"


def test_assigning_before_acceptance_or_after_cancellation_is_refused():
    refused(lambda: model.assign(requested(), assign_cmd(), None, T0))
    r = accepted()
    fold(r, model.cancel(r, c.CancelDelivery(**BASE, request_id=RID, reason="不需要了"), T0))
    problem = refused(lambda: model.assign(r, assign_cmd(), None, T0))
    assert "已取消" in problem.message_zh and "cancelled" in problem.message_en


def test_picking_up_an_unassigned_request_is_refused():
    refused(lambda: model.pick_up(accepted(), c.PickUpDelivery(**BASE, request_id=RID), T0))


def test_an_unknown_request_is_refused_as_unknown():
    refused(lambda: model.accept(Request(), c.AcceptDelivery(**BASE, request_id=RID), T0), "request_unknown")


def test_during_the_seal_only_the_gate_post_pair_carries_to_the_door():
    problem = refused(lambda: model.assign(accepted(), assign_cmd("v7", "volunteer"), "sealed", T0),
                      "seal_gate_post_only")
    assert problem.field == "assignee_kind" and "封控期" in problem.message_zh and "sealed" in problem.message_en


def test_during_health_monitoring_or_after_release_a_volunteer_may_carry():
    for phase in ("health_monitoring", "released", None):
        [event] = model.assign(accepted(), assign_cmd("v7", "volunteer"), phase, T0)
        assert event.assignee_kind == "volunteer"


def test_items_from_relatives_must_be_logged_at_the_gate_before_pick_up():
    r = assigned(source="relatives_at_gate")
    problem = refused(lambda: model.pick_up(r, c.PickUpDelivery(**BASE, request_id=RID), T0), "gate_receipt_required")
    assert problem.field == "received_at_gate"
    [event] = model.pick_up(r, c.PickUpDelivery(**BASE, request_id=RID, received_at_gate=True, note="女儿送来"), T0)
    assert event.received_at_gate and event.note == "女儿送来"


def test_a_delivery_can_fail_after_assignment_or_pick_up_but_not_before():
    assert fold(failed(), []).status == "failed"
    cmd = c.FailDelivery(**BASE, request_id=RID, reason="item_unavailable")
    assert model.fail(picked_up(), cmd, T0)[0].reason == "item_unavailable"
    refused(lambda: model.fail(accepted(), cmd, T0))
    assert model.fail(failed(), cmd, T0) == []


def test_a_failure_for_another_reason_needs_a_note():
    problem = refused(lambda: model.fail(assigned(), c.FailDelivery(**BASE, request_id=RID, reason="other"), T0),
                      "note_required")
    assert problem.field == "note"


def test_a_retry_returns_the_request_to_the_queue_unassigned():
    r = failed()
    [event] = model.retry(r, c.RetryDelivery(**BASE, request_id=RID), T0)
    fold(r, [event])
    assert (r.status, r.assignee_id, r.attempt, event.attempt) == ("accepted", None, 2, 2)
    assert model.retry(r, c.RetryDelivery(**BASE, request_id=RID), T0) == []
    assert model.assign(r, assign_cmd(), "sealed", T0)[0].assignee_id == "pair-a"


def test_a_retry_is_refused_unless_the_delivery_failed_and_may_be_retried():
    refused(lambda: model.retry(assigned(), c.RetryDelivery(**BASE, request_id=RID), T0))
    refused(lambda: model.retry(failed(retry_allowed=False), c.RetryDelivery(**BASE, request_id=RID), T0),
            "retry_not_allowed")


def test_any_unfinished_request_can_be_cancelled_once():
    cmd = c.CancelDelivery(**BASE, request_id=RID, reason="家属已送到")
    for r in (requested(), accepted(), assigned(), picked_up(), failed()):
        [event] = model.cancel(r, cmd, T0)
        assert event.cancelled_by == "cadre1" and fold(r, [event]).status == "cancelled"
        assert model.cancel(r, cmd, T0) == []


def test_a_delivered_request_is_final():
    r = picked_up()
    fold(r, complete(r))
    refused(lambda: model.cancel(r, c.CancelDelivery(**BASE, request_id=RID, reason="x"), T0))
    refused(lambda: model.fail(r, c.FailDelivery(**BASE, request_id=RID, reason="no_answer"), T0))
    refused(lambda: model.escalate(r, c.EscalateDelivery(**BASE, request_id=RID, to_cadre_id="c2"), T0))


def test_escalation_records_how_long_the_request_has_waited_and_is_not_repeated():
    r = assigned()
    cmd = c.EscalateDelivery(**BASE, request_id=RID, to_cadre_id="cadre2")
    [event] = model.escalate(r, cmd, T0 + timedelta(minutes=95, seconds=30))
    assert (event.to_cadre_id, event.age_minutes) == ("cadre2", 95)
    fold(r, [event])
    assert model.escalate(r, cmd, T0 + timedelta(hours=3)) == []
    assert r.status == "assigned"


def test_a_volunteer_taking_a_request_someone_else_holds_is_told_who_has_it():
    from datetime import datetime

    import pytest as _pytest

    from services.delivery.domain import model as m
    from shared.commands import delivery as dc
    from shared.errors import DomainError as DE
    state = m.Request(status="assigned", request_id="q1", building="38", assignee_id="vol-a", assignee_kind="volunteer")
    cmd = dc.AssignDelivery(command_id="cmd-00000077", tenant="t", compound="c", actor="vol-b", request_id="q1",
                            assignee_id="vol-b", assignee_kind="volunteer", take=True)
    with _pytest.raises(DE) as caught:
        m.assign(state, cmd, None, datetime(2022, 3, 22))
    assert caught.value.problem.code == "already_taken" and "vol-a" in caught.value.problem.message_en
