"""Lockdown rules: given events, when a command, then events or a clear error. No I/O."""
from datetime import datetime, timedelta, timezone

import pytest

from services.lockdown.application.service import default_playbook_event, publish_notice, publish_playbook
from services.lockdown.domain import model
from services.lockdown.domain.model import Building, Town
from shared.commands import lockdown as c
from shared.errors import DomainError
from shared.events import lockdown as e

T0 = datetime(2022, 3, 21, 12, 0, tzinfo=timezone.utc)  # 20:00 in Shanghai
BASE = {"command_id": "cmd-00000001", "tenant": "yinghuayuan", "compound": "yinghuayuan", "actor": "cadre-gao"}
PLAYBOOK = default_playbook_event("taopu", "town", T0)


def given(*events) -> Building:
    b = Building()
    for event in events:
        model.apply(b, event)
    return b


def sealed(at=T0, town=Town()) -> Building:
    return given(*model.seal(Building(), town, PLAYBOOK, seal_cmd(), at))


def seal_cmd(**kw) -> c.SealBuilding:
    return c.SealBuilding(**{**BASE, **kw}, building="38", town="taopu", reason="302室阳性", ordered_by="镇防控办")


def in_monitoring() -> Building:
    b = sealed()
    for event in model.advance(b, c.AdvancePhase(**BASE, building="38", episode_id=b.episode_id), T0 + timedelta(days=2)):
        model.apply(b, event)
    return b


def gate(direction="out", reason="就医", resident="r1") -> c.RecordGatePass:
    return c.RecordGatePass(**BASE, building="38", resident_id=resident, household_id="38-1-302", direction=direction,
                            reason=reason)


def test_sealing_starts_a_two_day_seal_and_a_twelve_day_monitoring_by_default():
    sealed_event, stamped = model.seal(Building(), Town(), PLAYBOOK, seal_cmd(), T0)
    assert sealed_event.seal_ends_at == T0 + timedelta(days=2)
    assert sealed_event.monitoring_ends_at == T0 + timedelta(days=14)
    assert {t.key: t.due_at - T0 for t in stamped.tasks}["print_roster"] == timedelta(seconds=60)
    assert {t.key: t.due_at - T0 for t in stamped.tasks}["form_group"] == timedelta(minutes=10)


def test_a_towns_policy_sets_the_phase_lengths_and_the_episode_keeps_its_version():
    town = Town()
    [policy] = model.set_policy(town, c.SetTownPolicy(**{**BASE, "tenant": "town-taopu"}, town="taopu", seal_days=3,
                                                      monitoring_days=11), T0)
    model.apply_town(town, policy)
    event, _ = model.seal(Building(), town, PLAYBOOK, seal_cmd(), T0)
    assert (event.policy_version, event.seal_ends_at, event.monitoring_ends_at) == (
        1, T0 + timedelta(days=3), T0 + timedelta(days=14))


def test_sealing_a_sealed_building_is_rejected():
    with pytest.raises(DomainError) as caught:
        model.seal(sealed(), Town(), PLAYBOOK, seal_cmd(command_id="cmd-00000002"), T0)
    assert caught.value.problem.code == "already_sealed" and "不能重复封控" in caught.value.problem.message_zh


def test_a_released_building_can_be_sealed_again_as_a_new_episode():
    b = sealed()
    model.apply(b, model.release(b, c.ReleaseBuilding(**BASE, building="38", reason="全员阴性"), T0)[0])
    again, _ = model.seal(b, Town(), PLAYBOOK, seal_cmd(command_id="cmd-00000009"), T0 + timedelta(days=20))
    assert again.episode_id != b.episode_id


def test_nothing_advances_before_the_seal_ends():
    b = sealed()
    assert model.advance(b, c.AdvancePhase(**BASE, building="38", episode_id=b.episode_id),
                         T0 + timedelta(days=2) - timedelta(seconds=1)) == []


def test_the_seal_ends_on_its_due_time_even_when_recorded_late():
    b = sealed()
    late = T0 + timedelta(days=2, hours=5)
    [started] = model.advance(b, c.AdvancePhase(**BASE, building="38", episode_id=b.episode_id), late)
    assert isinstance(started, e.HealthMonitoringStarted)
    assert (started.started_at, started.recorded_at) == (T0 + timedelta(days=2), late)


def test_a_very_late_start_catches_up_both_phase_changes_in_order():
    b = sealed()
    events = model.advance(b, c.AdvancePhase(**BASE, building="38", episode_id=b.episode_id), T0 + timedelta(days=30))
    assert [type(x) for x in events] == [e.HealthMonitoringStarted, e.BuildingUnsealed]
    assert events[1].released_at == T0 + timedelta(days=14) and not events[1].early


def test_an_advance_for_another_episode_does_nothing():
    assert model.advance(sealed(), c.AdvancePhase(**BASE, building="38", episode_id="old"), T0 + timedelta(days=30)) == []


def test_releasing_early_without_a_reason_is_rejected():
    with pytest.raises(DomainError) as caught:
        model.release(sealed(), c.ReleaseBuilding(**BASE, building="38"), T0 + timedelta(days=1))
    assert caught.value.problem.code == "early_release_needs_reason" and caught.value.problem.field == "reason"


def test_releasing_early_with_a_reason_is_recorded_as_early():
    [event] = model.release(sealed(), c.ReleaseBuilding(**BASE, building="38", reason="排除疑似"), T0 + timedelta(days=1))
    assert event.early and event.reason == "排除疑似"


def test_extending_the_seal_moves_both_ends():
    b = sealed()
    [event] = model.reschedule(b, c.RescheduleEpisode(**BASE, building="38", kind="extend", days=1, reason="复核"), T0)
    assert (event.seal_ends_at, event.monitoring_ends_at) == (T0 + timedelta(days=3), T0 + timedelta(days=15))


def test_a_new_case_resets_the_clock_back_to_the_seal():
    b = in_monitoring()
    now = T0 + timedelta(days=5)
    [event] = model.reschedule(b, c.RescheduleEpisode(**BASE, building="38", kind="reset", reason="新增阳性"), now)
    assert event.phase == "sealed" and event.seal_ends_at == now + timedelta(days=2)
    assert event.monitoring_ends_at == now + timedelta(days=14)


def test_shortening_into_the_past_is_rejected():
    with pytest.raises(DomainError) as caught:
        model.reschedule(sealed(), c.RescheduleEpisode(**BASE, building="38", kind="shorten", days=3, reason="x"),
                         T0 + timedelta(hours=1))
    assert caught.value.problem.code == "shortened_into_past"


def test_an_exit_during_the_seal_is_rejected_except_for_transfer_or_medical_care():
    b = sealed()
    with pytest.raises(DomainError) as caught:
        model.record_gate_pass(b, gate(reason="买菜"), T0)
    assert caught.value.problem.code == "sealed_no_exit" and "转运、就医除外" in caught.value.problem.message_zh
    assert model.record_gate_pass(b, gate(reason="就医"), T0)[0].direction == "out"
    assert model.record_gate_pass(b, gate(reason="transfer"), T0)[0].reason == "transfer"


def test_during_monitoring_exits_are_logged_and_a_resident_cannot_go_out_twice():
    b = in_monitoring()
    now = T0 + timedelta(days=3)
    model.apply(b, model.record_gate_pass(b, gate(reason="上班"), now)[0])
    with pytest.raises(DomainError) as caught:
        model.record_gate_pass(b, gate(reason="上班"), now)
    assert caught.value.problem.code == "already_out"
    model.apply(b, model.record_gate_pass(b, gate(direction="in", reason="返回"), now)[0])
    assert b.out == {}


def test_a_gate_pass_for_a_building_not_under_lockdown_is_rejected():
    with pytest.raises(DomainError) as caught:
        model.record_gate_pass(Building(), gate(), T0)
    assert caught.value.problem.code == "not_under_lockdown"


def test_a_playbook_task_is_completed_once_and_an_unknown_task_is_named():
    b = sealed()
    [done] = model.complete_task(b, c.CompleteTask(**BASE, building="38", task_key="print_roster"), T0)
    model.apply(b, done)
    assert model.complete_task(b, c.CompleteTask(**BASE, building="38", task_key="print_roster"), T0) == []
    with pytest.raises(DomainError) as caught:
        model.complete_task(b, c.CompleteTask(**BASE, building="38", task_key="bake_bread"), T0)
    assert caught.value.problem.field == "task_key"


def test_group_membership_needs_a_household_or_a_party_and_is_idempotent():
    b = sealed()
    with pytest.raises(DomainError):
        model.join_group(b, c.JoinGroup(**BASE, building="38", kind="household", display_name="302 张"), T0)
    [joined] = model.join_group(b, c.JoinGroup(**BASE, building="38", kind="party", party="police", display_name="民警"), T0)
    model.apply(b, joined)
    again = c.JoinGroup(**BASE, building="38", kind="party", party="police", display_name="民警", member_id=joined.member_id)
    assert model.join_group(b, again, T0) == []
    with pytest.raises(DomainError):
        model.leave_group(b, c.LeaveGroup(**BASE, building="38", member_id="nobody"), T0)


def test_a_notice_renders_in_chinese_with_the_buildings_dates():
    b = sealed()
    cmd = c.PublishNotice(**BASE, building="38", template_key="sealing_notice", compound_name="樱花苑", hotline="021-1")
    [notice] = publish_notice(b, PLAYBOOK, Town(), cmd, T0)
    assert "樱花苑38号楼" in notice.text_zh and "3月21日 20:00" in notice.text_zh and "3月23日 20:00" in notice.text_zh


def test_a_notice_missing_a_value_is_refused_naming_what_is_missing():
    cmd = c.PublishNotice(**BASE, building="38", template_key="sealing_notice", compound_name="樱花苑")
    with pytest.raises(DomainError) as caught:
        publish_notice(sealed(), PLAYBOOK, Town(), cmd, T0)
    assert caught.value.problem.code == "notice_incomplete" and "hotline" in caught.value.problem.message_en


def test_a_published_playbook_gets_the_next_version_and_a_bad_one_is_refused():
    town = Town()
    [v1] = publish_playbook(town, c.PublishPlaybook(**{**BASE, "tenant": "town-taopu"}, town="taopu"), T0)
    model.apply_town(town, v1)
    bad = (e.TaskSpec(key="x", title_zh="任务", title_en="t", due_offset_s=0, owner_role="astronaut"),)
    with pytest.raises(DomainError) as caught:
        publish_playbook(town, c.PublishPlaybook(**{**BASE, "tenant": "town-taopu"}, town="taopu", tasks=bad), T0)
    assert v1.template_version == 1 and caught.value.problem.field == "tasks[0].owner_role"
