"""Town playbook: default workflow, stamping per building, validation, notices and versions. No I/O."""
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from services.lockdown.domain.playbook import (
    OWNER_ROLES, PLACEHOLDERS, NoticeRenderError, NoticeTemplate, PlaybookTemplate, TaskTemplate,
    default_playbook, format_time_zh, next_version, notice_context, render_notice, scan_placeholders, stamp,
    validate_template,
)

CST = timezone(timedelta(hours=8))
SEALED = datetime(2022, 3, 21, 20, 0, tzinfo=CST)


def full_context() -> dict[str, str]:
    return notice_context(compound_name="樱花苑", building="38", sealed_at=SEALED,
                          seal_ends_at=SEALED + timedelta(days=2), monitoring_ends_at=SEALED + timedelta(days=14),
                          testing_time=SEALED + timedelta(hours=1, minutes=30), testing_place="38号楼南侧空地",
                          hotline="021-52700000")


def task(key: str = "print_roster", offset: int = 60, role: str = "committee_cadre") -> TaskTemplate:
    return TaskTemplate(key=key, title_zh="打印楼组表", title_en="Print the roster", due_offset_s=offset,
                        owner_role=role)


def notice(body: str, key: str = "sealing_notice") -> NoticeTemplate:
    return NoticeTemplate(key=key, title_zh="封控通知", body_zh=body)


def playbook(tasks=(), notices=()) -> PlaybookTemplate:
    return PlaybookTemplate(town="taopu", version=1, tasks=tuple(tasks), notices=tuple(notices))


def codes_and_fields(template: PlaybookTemplate) -> set[tuple[str, str | None]]:
    return {(p.code, p.field) for p in validate_template(template)}


# --- default playbook -------------------------------------------------------------------------

def test_default_playbook_is_version_one_of_the_town_and_validates_clean():
    template = default_playbook()
    assert (template.town, template.version) == ("taopu", 1)
    assert validate_template(template) == []


def test_default_playbook_has_the_ten_tasks_and_four_notices_of_the_3n_method():
    template = default_playbook("zhenru")
    assert template.town == "zhenru"
    assert {t.key for t in template.tasks} == {
        "convene_staff", "print_roster", "form_group", "share_group_qr", "verify_residents", "book_sampling_codes",
        "first_testing_round", "disinfection", "cordon", "site_supplies"}
    assert [n.key for n in template.notices] == [
        "sealing_notice", "testing_notice", "monitoring_notice", "release_notice"]
    assert all(t.owner_role in OWNER_ROLES for t in template.tasks)


def test_templates_are_frozen():
    template = default_playbook()
    with pytest.raises(ValidationError):
        template.version = 2
    with pytest.raises(ValidationError):
        template.tasks[0].due_offset_s = 5


# --- stamping ---------------------------------------------------------------------------------

def test_print_roster_is_due_60_seconds_and_form_group_10_minutes_after_sealing():
    due = {t.key: t.due_at for t in stamp(default_playbook(), SEALED)}
    assert due["print_roster"] == SEALED + timedelta(seconds=60)
    assert due["form_group"] == SEALED + timedelta(minutes=10)
    assert due["convene_staff"] == SEALED
    assert due["first_testing_round"] == SEALED + timedelta(hours=2)


def test_stamp_orders_tasks_by_due_time_then_key():
    stamped = stamp(default_playbook(), SEALED)
    assert [(t.due_at, t.key) for t in stamped] == sorted((t.due_at, t.key) for t in stamped)
    assert [t.key for t in stamped][:4] == ["convene_staff", "print_roster", "form_group", "share_group_qr"]
    assert [t.key for t in stamped][-2:] == ["first_testing_round", "disinfection"]


def test_stamp_ignores_the_order_tasks_were_written_in():
    template = playbook(tasks=[task("late", 300), task("b_same", 60), task("a_same", 60), task("first", 0)])
    assert [t.key for t in stamp(template, SEALED)] == ["first", "a_same", "b_same", "late"]


def test_stamped_task_carries_titles_and_owner():
    roster = next(t for t in stamp(default_playbook(), SEALED) if t.key == "print_roster")
    assert (roster.title_zh, roster.owner_role) == ("打印楼组表", "committee_cadre")
    assert roster.title_en


# --- notices ----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["sealing_notice", "testing_notice", "monitoring_notice", "release_notice"])
def test_every_default_notice_renders_with_a_full_context_and_names_the_building_in_chinese_dates(key):
    template = next(n for n in default_playbook().notices if n.key == key)
    text = render_notice(template, full_context())
    assert "樱花苑38号楼" in text
    assert "{" not in text and "}" not in text
    assert any(date in text for date in ("3月21日 20:00", "3月21日 21:30", "3月23日 20:00", "4月4日 20:00"))
    assert "021-52700000" in text


def test_sealing_notice_states_the_seal_monitoring_and_report_times():
    sealing = default_playbook().notices[0]
    text = render_notice(sealing, full_context())
    for fragment in ("3月21日 20:00", "3月23日 20:00", "4月4日 20:00", "08:00、14:00", "门岗"):
        assert fragment in text


def test_testing_notice_asks_for_staggered_floors_and_a_bright_sampling_code():
    testing = default_playbook().notices[1]
    text = render_notice(testing, full_context())
    for fragment in ("3月21日 21:30", "38号楼南侧空地", "错峰", "采样码", "亮度"):
        assert fragment in text


def test_notice_context_formats_times_chinese_style_and_joins_report_times():
    ctx = notice_context(compound_name="樱花苑", building="A座", sealed_at=datetime(2022, 3, 5, 8, 5),
                         seal_ends_at=datetime(2022, 3, 7, 8, 5), monitoring_ends_at=datetime(2022, 3, 19, 8, 5),
                         report_times=("07:30", "12:00", "19:00"))
    assert ctx["sealed_at"] == "3月5日 08:05"
    assert ctx["report_times"] == "07:30、12:00、19:00"
    assert ctx["building"] == "A座"
    assert ctx["testing_time"] == "" and ctx["hotline"] == ""
    assert set(ctx) == set(PLACEHOLDERS)


def test_aware_times_are_shown_in_shanghai_time():
    assert format_time_zh(datetime(2022, 3, 21, 12, 0, tzinfo=timezone.utc)) == "3月21日 20:00"


def test_a_missing_placeholder_value_raises_naming_it():
    ctx = full_context() | {"testing_place": ""}
    del ctx["hotline"]
    with pytest.raises(NoticeRenderError) as raised:
        render_notice(default_playbook().notices[1], ctx)
    assert set(raised.value.missing) == {"testing_place", "hotline"}
    assert raised.value.unknown == ()
    assert "hotline" in str(raised.value) and "咨询热线" in str(raised.value)


def test_a_blank_value_counts_as_missing():
    with pytest.raises(NoticeRenderError) as raised:
        render_notice(notice("热线：{hotline}"), {"hotline": "   "})
    assert raised.value.missing == ("hotline",)


@pytest.mark.parametrize("body, token", [
    ("{nobody}", "nobody"), ("{hotline.real}", "hotline.real"), ("{hotline[0]}", "hotline[0]"),
    ("{hotline!r}", "hotline!r"), ("{hotline:>10}", "hotline:>10"), ("{}", ""), ("{0}", "0"),
    ("{hotline:{building}}", "hotline:{building}"),
])
def test_an_unknown_attribute_or_format_spec_placeholder_is_rejected(body, token):
    with pytest.raises(NoticeRenderError) as raised:
        render_notice(notice("热线：" + body), full_context())
    assert raised.value.unknown == (token,)


def test_unbalanced_braces_are_rejected():
    with pytest.raises(NoticeRenderError) as raised:
        render_notice(notice("热线 {hotline"), full_context())
    assert raised.value.unknown == ("{",)


def test_literal_braces_are_allowed_and_values_are_not_reparsed():
    text = render_notice(notice("{{备注}} {building}：{hotline}"), {"building": "38号楼", "hotline": "{compound}"})
    assert text == "{备注} 38号楼：{compound}"


def test_scan_placeholders_lists_each_name_once_in_order():
    assert scan_placeholders("{building}{compound}{building}{x.y}") == (("building", "compound"), ("x.y",))


# --- validation -------------------------------------------------------------------------------

def test_validate_catches_empty_tasks():
    assert codes_and_fields(playbook()) == {("playbook_tasks_empty", "tasks")}


def test_validate_catches_a_duplicate_task_key_at_the_second_task():
    template = playbook(tasks=[task("print_roster"), task("form_group"), task("print_roster")])
    assert codes_and_fields(template) == {("task_key_duplicate", "tasks[2].key")}


@pytest.mark.parametrize("key", ["Print_Roster", "print-roster", "", "打印"])
def test_validate_catches_a_bad_task_key_format(key):
    template = playbook(tasks=[task("convene_staff"), task(key)])
    assert codes_and_fields(template) == {("task_key_format", "tasks[1].key")}


def test_validate_catches_a_negative_offset():
    template = playbook(tasks=[task("a"), task("b"), task("c"), task("d", offset=-1)])
    assert codes_and_fields(template) == {("task_offset_negative", "tasks[3].due_offset_s")}


def test_validate_catches_an_unknown_owner_role():
    template = playbook(tasks=[task("a"), task("b"), task("c"), task("d", role="landlord")])
    problems = validate_template(template)
    assert {(p.code, p.field) for p in problems} == {("task_owner_role_unknown", "tasks[3].owner_role")}
    assert "landlord" in problems[0].message_zh and "landlord" in problems[0].message_en


def test_validate_catches_a_notice_with_unknown_placeholders():
    template = playbook(tasks=[task()], notices=[notice("{building}"), notice("{building.__class__}", key="bad")])
    problems = validate_template(template)
    assert {(p.code, p.field) for p in problems} == {("notice_placeholder_unknown", "notices[1].body_zh")}
    assert "building.__class__" in problems[0].message_en


def test_validate_catches_duplicate_and_badly_named_notice_keys():
    template = playbook(tasks=[task()], notices=[notice("{building}"), notice("x"), notice("y", key="Bad Key")])
    assert codes_and_fields(template) == {("notice_key_duplicate", "notices[1].key"),
                                          ("notice_key_format", "notices[2].key")}


def test_validate_reports_every_problem_at_once():
    template = playbook(tasks=[task("a", offset=-5, role="nobody"), task("a")])
    assert codes_and_fields(template) == {("task_offset_negative", "tasks[0].due_offset_s"),
                                          ("task_owner_role_unknown", "tasks[0].owner_role"),
                                          ("task_key_duplicate", "tasks[1].key")}


def test_version_below_one_is_refused_at_construction():
    with pytest.raises(ValidationError):
        PlaybookTemplate(town="taopu", version=0, tasks=(task(),), notices=())


# --- versions ---------------------------------------------------------------------------------

def test_next_version_increments_and_leaves_the_old_template_unchanged():
    current = default_playbook()
    before = current.model_dump()
    extra = task("deliver_thermometers", 20 * 60, "volunteer")
    edited = next_version(current, tasks=current.tasks + (extra,))
    assert edited.version == 2 and edited.town == "taopu"
    assert edited.tasks[-1] == extra and edited.notices == current.notices
    assert current.model_dump() == before and len(current.tasks) == 10
    assert validate_template(edited) == []


def test_next_version_replaces_notices_only_when_given():
    current = default_playbook()
    edited = next_version(next_version(current), notices=[notice("{building}")])
    assert edited.version == 3
    assert edited.tasks == current.tasks
    assert edited.notices == (notice("{building}"),)
