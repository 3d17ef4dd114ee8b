"""Roster assembly and the rota aggregate's rules, without servers: given events → when a command →
then events or a refusal a cadre can act on."""
from datetime import date, datetime, timedelta, timezone

import pytest

from services.roster.domain import duty, reinforcement
from services.roster.domain.duty import Duty
from services.roster.domain.reinforcement import Reinforcement
from services.roster.domain.sheet import HouseholdLine, ResidentLine, Sheet, totals_of
from shared.commands import roster as c
from shared.errors import DomainError
from shared.events import roster as e

NOW = datetime(2022, 3, 21, 12, 0, tzinfo=timezone.utc)
DAY = date(2022, 3, 21)
BASE = dict(command_id="cmd-00000001", tenant="t1", compound="c1", actor="cadre-1")


def resident(rid, morning="", afternoon="", sampling="pending", out=None, transferred="", flags=()):
    return ResidentLine(rid, "王秀英", "F", 80, "户主", flags, "3101**", "138****", morning, afternoon, sampling, out,
                        transferred)


def household(hid, floor, room, residents, in_group=True, deliveries=0):
    return HouseholdLine(hid, "1", room, floor, in_group, deliveries, tuple(residents))


def test_totals_are_counted_from_the_rows_and_unreported_skips_the_transferred():
    rows = [household("h1", 3, "302", [resident("a", morning="ok"), resident("b", morning="fever", flags=("infant",))]),
            household("h2", 1, "101", [resident("c", sampling="sampled"), resident("d", transferred="方舱医院")],
                      in_group=False, deliveries=2),
            household("h3", 1, "102", [resident("e", sampling="absent", out=NOW)])]
    t = totals_of(rows, "morning")
    assert (t.households, t.residents, t.sampled, t.absent, t.not_sampled) == (3, 5, 1, 1, 3)
    assert (t.unreported, t.fever, t.transferred, t.out_now) == (2, 1, 1, 1)  # c and e; d is transferred
    assert (t.households_not_in_group, t.open_deliveries, t.vulnerable) == (1, 2, 1)
    assert totals_of(rows, "").unreported == 0  # before the first window opens nobody is late


def test_a_sheet_groups_households_by_floor_and_orders_rooms_numerically():
    rows = (household("h3", 1, "110", []), household("h1", 3, "302", []), household("h2", 1, "102", []),
            household("h4", 1, "1101", []))
    sheet = Sheet("t1", "c1", "樱花苑", "38", "李文娟", "sealed", "", "", NOW, None, True, "", rows)
    assert [(f, [h.room for h in hs]) for f, hs in sheet.floors()] == [(1, ["102", "110", "1101"]), (3, ["302"])]


def enrolled(*people) -> Duty:
    d = Duty()
    for pid in people:
        duty.apply(d, e.DutyPersonEnrolled(person_id=pid, name=pid, role="party_volunteer", home_compound="c1",
                                           enrolled_by="x", enrolled_at=NOW))
    return d


def opened(d: Duty, post="b41", building="41", days=14) -> Duty:
    return duty.apply(d, e.GatePostOpened(post_id=post, building=building, start=DAY,
                                          end=DAY + timedelta(days=days - 1), shifts=("08:30-12:30", "13:00-17:00"),
                                          opened_by="x", opened_at=NOW))


def planned(d: Duty) -> Duty:
    for ev in duty.plan(d, c.PlanRota(**BASE, start=DAY), DAY, NOW):
        duty.apply(d, ev)
    return d


def test_planning_without_a_post_is_refused_with_the_field():
    with pytest.raises(DomainError) as refused:
        duty.plan(enrolled("p1", "p2"), c.PlanRota(**BASE), DAY, NOW)
    assert refused.value.problem.code == "no_posts" and refused.value.problem.message_zh


def test_a_plan_replaces_only_the_days_it_covers_and_keeps_rest_across_plans():
    d = planned(opened(enrolled("p1", "p2", "p3", "p4")))
    first_day_pair = d.shifts[("b41", DAY, "08:30-12:30")]
    events = duty.plan(d, c.PlanRota(**BASE, start=DAY + timedelta(days=1)), DAY, NOW)
    duty.apply(d, events[0])
    assert d.shifts[("b41", DAY, "08:30-12:30")] == first_day_pair  # the day before the new plan is kept
    assert not set(d.shifts[("b41", DAY + timedelta(days=1), "08:30-12:30")]) & set(first_day_pair)


def test_a_withdrawn_person_s_shifts_become_gaps_from_that_day():
    d = planned(opened(enrolled("p1", "p2", "p3", "p4")))
    gone = d.shifts[("b41", DAY, "08:30-12:30")][0]
    duty.apply(d, duty.withdraw(d, c.WithdrawDutyPerson(**BASE, person_id=gone, reason="生病",
                                                        from_day=DAY + timedelta(days=2)), DAY, NOW)[0])
    assert gone in d.shifts[("b41", DAY, "08:30-12:30")]
    assert all(gone not in people for (_, day, _), people in d.shifts.items() if day >= DAY + timedelta(days=2))


def test_a_lent_person_is_away_from_home_shifts_on_those_days_only():
    d = planned(opened(enrolled("p1", "p2", "p3", "p4")))
    lent = d.shifts[("b41", DAY, "08:30-12:30")][0]
    cmd = c.LendDutyPerson(**BASE, person_id=lent, to_tenant="t2", to_compound="c2", request_id="rf1",
                           from_day=DAY + timedelta(days=2), until_day=DAY + timedelta(days=4))
    [event] = duty.lend(d, cmd, NOW)
    duty.apply(d, event)
    assert duty.lend(d, cmd, NOW) == []  # lending twice changes nothing
    away = [day for (_, day, _), people in d.shifts.items() if lent in people]
    assert DAY in away and not [x for x in away if DAY + timedelta(days=2) <= x <= DAY + timedelta(days=4)]
    assert not d.as_person(lent).available_on(DAY + timedelta(days=3))


def test_a_bad_shift_and_an_overlong_post_are_refused_naming_the_field():
    for shifts, end, field in ((("8:30-12:30",), DAY, "shifts"), (("13:00-12:00",), DAY, "shifts"),
                               (("08:30-12:30",), DAY + timedelta(days=90), "end")):
        with pytest.raises(DomainError) as refused:
            duty.open_post(Duty(), c.OpenGatePost(**BASE, building="41"), "b41", DAY, end, shifts, NOW)
        assert refused.value.problem.field == field


def test_a_reinforcement_is_filled_by_dispatches_and_then_closed():
    r = Reinforcement()
    cmd = c.RequestReinforcement(**BASE, request_id="rf1", town="taopu", people=2, from_day=DAY,
                                 until_day=DAY + timedelta(days=5), reason="人手不足")
    for ev in reinforcement.request(r, cmd, DAY, NOW):
        reinforcement.apply(r, ev)
    one = e.DispatchedPerson(person_id="zb-he", name="何晓东", from_compound="c2")
    two = e.DispatchedPerson(person_id="zb-lv", name="吕春梅", from_compound="c2")
    first = reinforcement.dispatch(r, c.DispatchReinforcement(**BASE, request_id="rf1", people=(one,)), NOW)
    assert [type(x).__name__ for x in first] == ["ReinforcementDispatched"]
    reinforcement.apply(r, first[0])
    with pytest.raises(DomainError) as refused:
        reinforcement.dispatch(r, c.DispatchReinforcement(**BASE, request_id="rf1", people=(two, two)), NOW)
    assert refused.value.problem.code == "person_repeated"
    last = reinforcement.dispatch(r, c.DispatchReinforcement(**BASE, request_id="rf1", people=(one, two)), NOW)
    assert [type(x).__name__ for x in last] == ["ReinforcementDispatched", "ReinforcementClosed"]
    assert last[0].people == (two,)  # the one already sent is not sent twice


def test_a_reinforcement_for_past_days_is_refused():
    cmd = c.RequestReinforcement(**BASE, town="taopu", people=1, from_day=DAY - timedelta(days=9),
                                 until_day=DAY - timedelta(days=2), reason="x")
    with pytest.raises(DomainError) as refused:
        reinforcement.request(Reinforcement(), cmd, DAY, NOW)
    assert refused.value.problem.code == "in_the_past"
