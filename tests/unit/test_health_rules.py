"""Health rules: reports, fever, windows, rounds, check-offs, reconciliation, results. No I/O."""
from datetime import datetime, timedelta, timezone

import pytest

from services.lockdown.application.service import default_playbook_event
from services.lockdown.domain import health, model
from services.lockdown.domain.health import Round, Sampling
from services.lockdown.domain.model import Building, Town
from shared.commands import lockdown as c
from shared.errors import DomainError
from shared.events import lockdown as e

T0 = datetime(2022, 3, 21, 12, 0, tzinfo=timezone.utc)  # 20:00 Shanghai
BASE = {"command_id": "cmd-00000001", "tenant": "yinghuayuan", "compound": "yinghuayuan", "actor": "v1"}
POLICY = dict(model.DEFAULT_POLICY)
SEALED_FIELDS = {"temperature": "v1:x", "symptoms": "", "need": ""}


def sealed() -> Building:
    b = Building()
    seal = c.SealBuilding(**BASE, building="41", town="taopu", reason="x", ordered_by="y")
    for event in model.seal(b, Town(), default_playbook_event("taopu", "t", T0), seal, T0):
        model.apply(b, event)
    return b


def reported(temperature: float, need: str = ""):
    cmd = c.ReportResident(**BASE, building="41", household_id="41-1-302", resident_id="r1", temperature=temperature,
                           need=need)
    return health.report(sealed(), POLICY, cmd, SEALED_FIELDS, T0 + timedelta(hours=13))


def open_round() -> Round:
    r = Round()
    cmd = c.ScheduleTestingRound(**BASE, round_id="r20220322", buildings=("41",), site="小区广场",
                                 starts_at=T0 + timedelta(hours=11), top_floor=6)
    for event in health.schedule_round(r, cmd, T0):
        health.apply_round(r, event)
    return r


def check(resident="p1", tube="T001", method="roster") -> c.CheckOffSample:
    return c.CheckOffSample(**BASE, round_id="r20220322", resident_id=resident, household_id="41-1-302", method=method,
                            tube_id=tube)


def test_a_normal_temperature_is_a_report_and_nothing_more():
    [event] = reported(36.6)
    assert isinstance(event, e.ResidentReported) and not event.fever and event.temperature_sealed == "v1:x"


def test_a_fever_raises_an_alert_at_once_in_the_same_append():
    report, alert = reported(37.3)
    assert report.fever and isinstance(alert, e.FeverAlertRaised) and alert.report_id == report.report_id


def test_the_fever_threshold_comes_from_the_town_policy():
    cmd = c.ReportResident(**BASE, building="41", household_id="h", resident_id="r1", temperature=37.4)
    assert len(health.report(sealed(), {**POLICY, "fever_threshold": 37.5}, cmd, SEALED_FIELDS, T0)) == 1


def test_a_need_is_flagged_without_its_text_in_clear():
    [event] = reported(36.5, need="家里没有体温计")
    assert event.has_need and "体温计" not in event.model_dump_json()


def test_a_report_belongs_to_the_latest_window_opened_in_shanghai_time():
    morning = datetime(2022, 3, 22, 1, 30, tzinfo=timezone.utc)  # 09:30 Shanghai
    assert health.report_window(morning, ("08:00", "14:00")) == datetime(2022, 3, 22, 0, 0, tzinfo=timezone.utc)
    night = datetime(2022, 3, 21, 23, 0, tzinfo=timezone.utc)  # 07:00 Shanghai next day: yesterday's 14:00 window
    assert health.report_window(night, ("08:00", "14:00")) == datetime(2022, 3, 21, 6, 0, tzinfo=timezone.utc)


def test_a_report_for_a_building_not_under_lockdown_is_refused():
    cmd = c.ReportResident(**BASE, building="41", household_id="h", resident_id="r1", temperature=36.5)
    with pytest.raises(DomainError) as caught:
        health.report(Building(), POLICY, cmd, SEALED_FIELDS, T0)
    assert caught.value.problem.code == "not_under_lockdown"


def test_the_call_down_takes_three_floors_every_fifteen_minutes_from_the_top():
    slots = health.call_down(T0, top_floor=6, floors_per_slot=3, slot_minutes=15)
    assert [(s.floors, s.starts_at - T0) for s in slots] == [((4, 5, 6), timedelta(0)), ((1, 2, 3), timedelta(minutes=15))]


def test_checking_off_the_same_resident_twice_gives_one_check_off_and_no_error():
    r, s = open_round(), Sampling()
    [first] = health.check_off(r, s, check(), T0)
    health.apply_sampling(s, first)
    assert health.check_off(r, s, check(tube="T002"), T0) == []


def test_a_check_off_in_a_closed_or_unknown_round_is_refused():
    with pytest.raises(DomainError) as caught:
        health.check_off(Round(), Sampling(), check(), T0)
    assert caught.value.problem.code == "round_unknown"
    r = open_round()
    health.apply_round(r, e.TestingRoundClosed(round_id="r20220322", sampled=0, absent=0, closed_by="x", closed_at=T0))
    with pytest.raises(DomainError) as caught:
        health.check_off(r, Sampling(), check(), T0)
    assert caught.value.problem.code == "round_closed"


def test_an_absent_resident_found_later_can_be_sampled_at_the_door():
    r, s = open_round(), Sampling()
    absent = c.MarkAbsent(**BASE, round_id="r20220322", resident_id="p1", household_id="41-1-302", reason="卧床")
    health.apply_sampling(s, health.mark_absent(r, s, absent, T0)[0])
    [sampled] = health.check_off(r, s, check(method="door"), T0)
    assert sampled.method == "door"


def test_a_sampled_resident_cannot_be_marked_absent():
    r, s = open_round(), Sampling()
    health.apply_sampling(s, health.check_off(r, s, check(), T0)[0])
    with pytest.raises(DomainError) as caught:
        health.mark_absent(r, s, c.MarkAbsent(**BASE, round_id="r20220322", resident_id="p1", household_id="h",
                                              reason="x"), T0)
    assert caught.value.problem.code == "already_sampled"


def test_closing_a_round_with_residents_unaccounted_for_is_refused_naming_their_households():
    cmd = c.CloseTestingRound(**BASE, round_id="r20220322")
    with pytest.raises(DomainError) as caught:
        health.close_round(open_round(), cmd, {"sampled": 40}, [("p7", "41-2-601"), ("p8", "41-1-101")], T0)
    assert "41-1-101、41-2-601" in caught.value.problem.message_zh and "2 resident(s)" in caught.value.problem.message_en


def test_a_forced_close_lists_the_unaccounted():
    cmd = c.CloseTestingRound(**BASE, round_id="r20220322", force=True)
    [closed] = health.close_round(open_round(), cmd, {"sampled": 40, "absent": 1}, [("p7", "41-2-601")], T0)
    assert (closed.sampled, closed.absent, closed.unaccounted) == (40, 1, ("p7",))


def test_a_tube_result_is_recorded_once_and_a_contradiction_is_refused():
    r = open_round()
    cmd = c.RecordTestResult(**BASE, round_id="r20220322", tube_id="T001", positive=True)
    health.apply_round(r, health.record_result(r, cmd, T0)[0])
    assert health.record_result(r, cmd, T0) == []
    with pytest.raises(DomainError) as caught:
        health.record_result(r, cmd.model_copy(update={"positive": False}), T0)
    assert caught.value.problem.code == "result_conflict"


def test_scheduling_a_round_twice_is_refused():
    cmd = c.ScheduleTestingRound(**BASE, round_id="r20220322", buildings=("41",), site="x", starts_at=T0)
    with pytest.raises(DomainError):
        health.schedule_round(open_round(), cmd, T0)


def test_transfer_and_disinfection_need_a_building_under_lockdown():
    cmd = c.DisinfectBuilding(**BASE, building="41", floors=(3, 3, 2))
    assert health.disinfect(sealed(), cmd, T0)[0].floors == (2, 3)
    with pytest.raises(DomainError):
        health.transfer(Building(), c.TransferResident(**BASE, building="41", resident_id="r", household_id="h",
                                                       facility="方舱"), T0)
