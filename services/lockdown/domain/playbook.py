"""The town's standard workflow (playbook) and notice templates, stamped out per sealed building.

Taopu town gave every residents' committee a standard workflow and notice templates, so that the
second, third and fourth buildings — sealed at night, with six staff — repeat the first building's
playbook. This module holds those templates as frozen values and the pure functions around them:
stamping tasks with due times, validating a draft, rendering notices and publishing new versions.

No I/O and no clock: every time is passed in.
"""
from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import Problem
from shared.events.lockdown import DEFAULT_REPORT_TIMES
from shared.localtime import SHANGHAI

OWNER_ROLES: tuple[str, ...] = (
    "committee_cadre", "party_secretary", "property_manager", "police", "community_doctor", "town_office",
    "volunteer",
)
"""Who may own a playbook task."""

KEY_PATTERN = re.compile(r"[a-z0-9_]+")
"""Task and notice keys: lower-case letters, digits and underscores."""

"""China Standard Time; aware datetimes are shown in it, naive ones are taken as already local."""

PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "compound": ("小区名称", "compound name"),
    "building": ("楼栋", "building"),
    "sealed_at": ("封控开始时间", "time the seal began"),
    "seal_ends_at": ("封控结束时间", "time the seal ends"),
    "monitoring_ends_at": ("健康监测期结束时间", "time health monitoring ends"),
    "report_times": ("每日体温上报时间", "daily temperature report times"),
    "testing_time": ("核酸检测时间", "testing time"),
    "testing_place": ("核酸检测地点", "testing place"),
    "hotline": ("咨询热线", "hotline"),
}
"""Placeholders a notice template may use: name -> (Chinese description, English description)."""


class TaskTemplate(BaseModel):
    """One step of the town's standard workflow, due some seconds after a building is sealed.

    Construction accepts any values so that a town's draft can be checked with validate_template.
    """

    model_config = ConfigDict(frozen=True)
    key: str = Field(description="stable id, [a-z0-9_]+, e.g. print_roster")
    title_zh: str = Field(description="title in Simplified Chinese, e.g. 打印楼组表")
    title_en: str = Field(description="title in English")
    due_offset_s: int = Field(description="seconds after sealing when it is due; must be >= 0")
    owner_role: str = Field(description="who does it; one of OWNER_ROLES")


class NoticeTemplate(BaseModel):
    """A notice the committee posts in the building group; the body has {placeholders}."""

    model_config = ConfigDict(frozen=True)
    key: str = Field(description="template id, e.g. sealing_notice")
    title_zh: str = Field(description="title in Simplified Chinese")
    body_zh: str = Field(description="body in Simplified Chinese with {placeholders} from PLACEHOLDERS")


class PlaybookTemplate(BaseModel):
    """One published version of a town's standard workflow and notice templates."""

    model_config = ConfigDict(frozen=True)
    town: str = Field(description="town token, e.g. taopu")
    version: int = Field(ge=1, description="version, starting at 1; each edit publishes the next")
    tasks: tuple[TaskTemplate, ...] = Field(description="workflow steps")
    notices: tuple[NoticeTemplate, ...] = Field(description="notice templates")


class StampedTask(BaseModel):
    """A playbook task of one sealed building, with its due time."""

    model_config = ConfigDict(frozen=True)
    key: str = Field(description="task id")
    title_zh: str = Field(description="title in Simplified Chinese")
    title_en: str = Field(description="title in English")
    owner_role: str = Field(description="who does it")
    due_at: datetime = Field(description="sealing time plus the task's offset")


class NoticeRenderError(ValueError):
    """A notice could not be rendered: placeholders without a value, or not allowed at all."""

    def __init__(self, missing: Sequence[str] = (), unknown: Sequence[str] = ()) -> None:
        self.missing: tuple[str, ...] = tuple(missing)
        self.unknown: tuple[str, ...] = tuple(unknown)
        self.message_zh = _render_error_zh(self.missing, self.unknown)
        self.message_en = _render_error_en(self.missing, self.unknown)
        super().__init__(f"{self.message_zh} / {self.message_en}")


def _render_error_zh(missing: tuple[str, ...], unknown: tuple[str, ...]) -> str:
    parts = []
    if missing:
        parts.append("缺少内容：" + "、".join(f"{n}（{PLACEHOLDERS[n][0]}）" for n in missing))
    if unknown:
        parts.append("不认识的占位符：" + "、".join("{" + u + "}" for u in unknown))
    return "通知无法生成，" + "；".join(parts)


def _render_error_en(missing: tuple[str, ...], unknown: tuple[str, ...]) -> str:
    parts = []
    if missing:
        parts.append("no value for " + ", ".join(missing))
    if unknown:
        parts.append("unknown placeholders " + ", ".join("{" + u + "}" for u in unknown))
    return "cannot render notice: " + "; ".join(parts)


# --- default playbook -------------------------------------------------------------------------

_MIN, _HOUR = 60, 3600

_DEFAULT_TASKS: tuple[tuple[str, str, str, int, str], ...] = (
    ("convene_staff", "召集居委干部到岗", "Convene committee staff", 0, "party_secretary"),
    ("print_roster", "打印楼组表", "Print the building roster", 60, "committee_cadre"),
    ("form_group", "组建楼组群", "Form the building group", 10 * _MIN, "committee_cadre"),
    ("share_group_qr", "分享楼组群二维码", "Share the building group QR code", 10 * _MIN, "committee_cadre"),
    ("cordon", "设置警戒", "Set up the police cordon", 30 * _MIN, "police"),
    ("site_supplies", "搭建帐篷、桌椅、照明、额温枪等物资",
     "Set up tents, tables, lights and forehead thermometers", 30 * _MIN, "property_manager"),
    ("verify_residents", "上门核对居民信息", "Verify residents door to door", _HOUR, "committee_cadre"),
    ("book_sampling_codes", "协助预约核酸采样码", "Help residents book sampling codes", _HOUR, "committee_cadre"),
    ("first_testing_round", "完成第一轮全员核酸", "Complete the first round of mass testing", 2 * _HOUR,
     "community_doctor"),
    ("disinfection", "楼道消杀", "Disinfect the building", 3 * _HOUR, "property_manager"),
)

_SEALING_BODY = """{compound}{building}各位居民：
根据疫情防控工作需要，本楼自{sealed_at}起实施封闭管理，封控期至{seal_ends_at}止；\
封控期满后进入健康监测期，至{monitoring_ends_at}止。封控期间请大家：
一、足不出户，不串门、不下楼，按通知配合做好每一轮核酸检测；
二、每天{report_times}在本楼组群内上报全家体温，如有发热、咳嗽、乏力等不适请立即告知居委；
三、生活物资和药品可网购或请亲友送至小区门口，由党员先锋门岗志愿者送货上门；\
家中缺少体温计、药品等有困难的，请在群内说明，我们帮您解决；
四、生活垃圾请扎紧袋口放在门口，由工作人员统一收运。
咨询热线：{hotline}
感谢大家的理解、支持与配合！
{compound}居民区"""

_TESTING_BODY = """{compound}{building}各位居民：
本楼定于{testing_time}在{testing_place}开展全员核酸检测，请全体居民（含老人和婴幼儿）按时参加，\
应检尽检，一个不漏。
一、请提前准备好核酸采样码截图（居委已协助预约），采样时将手机屏幕亮度调至最亮；
二、工作人员将按楼层逐层通知、错峰下楼采样，请听到通知后再下楼，切勿提前下楼聚集；
三、全程规范佩戴口罩，排队时保持1米以上间距，采样后立即返回家中；
四、行动不便的居民请在楼组群内告知，医务人员将上门采样。
咨询热线：{hotline}
{compound}居民区"""

_MONITORING_BODY = """{compound}{building}各位居民：
本楼封控期已于{seal_ends_at}结束，自{seal_ends_at}起至{monitoring_ends_at}止为健康监测期。健康监测期间请大家：
一、非必要不离开小区，不聚集、不串门；确需进出的，请在楼栋党员先锋门岗出示证件并登记出入信息；
二、继续每天{report_times}在本楼组群内上报全家体温，出现发热等症状请立即报告；
三、按通知参加核酸检测，不落一人；
四、快递、外卖请到门岗领取，或由志愿者送到家门口。
咨询热线：{hotline}
{compound}居民区"""

_RELEASE_BODY = """{compound}{building}各位居民：
本楼健康监测期已于{monitoring_ends_at}期满，经评估，即日起解除封控管理措施。
感谢全体居民在封控和健康监测期间的理解与配合，感谢医务人员、民警、物业和党员先锋门岗志愿者的辛勤付出！
解封后请继续做好个人防护：规范佩戴口罩，勤洗手、常通风、少聚集；如出现发热、咳嗽等症状请及时就医，并告知居委。
咨询热线：{hotline}
{compound}居民区"""

_DEFAULT_NOTICES: tuple[tuple[str, str, str], ...] = (
    ("sealing_notice", "封控通知", _SEALING_BODY),
    ("testing_notice", "核酸检测通知", _TESTING_BODY),
    ("monitoring_notice", "健康监测期通知", _MONITORING_BODY),
    ("release_notice", "解封通知", _RELEASE_BODY),
)


def default_playbook(town: str = "taopu") -> PlaybookTemplate:
    """The town's standard workflow, version 1, as the Yinghuayuan committee ran it in March 2022."""
    tasks = tuple(TaskTemplate(key=k, title_zh=zh, title_en=en, due_offset_s=s, owner_role=r)
                  for k, zh, en, s, r in _DEFAULT_TASKS)
    notices = tuple(NoticeTemplate(key=k, title_zh=t, body_zh=b) for k, t, b in _DEFAULT_NOTICES)
    return PlaybookTemplate(town=town, version=1, tasks=tasks, notices=notices)


# --- stamping and versions --------------------------------------------------------------------

def stamp(template: PlaybookTemplate, sealed_at: datetime) -> tuple[StampedTask, ...]:
    """The template's tasks for one building sealed at sealed_at, ordered by due time, then key."""
    ordered = sorted(template.tasks, key=lambda t: (t.due_offset_s, t.key))
    return tuple(_stamp_task(task, sealed_at) for task in ordered)


def _stamp_task(task: TaskTemplate, sealed_at: datetime) -> StampedTask:
    return StampedTask(key=task.key, title_zh=task.title_zh, title_en=task.title_en, owner_role=task.owner_role,
                       due_at=sealed_at + timedelta(seconds=task.due_offset_s))


def next_version(current: PlaybookTemplate, *, tasks: Sequence[TaskTemplate] | None = None,
                 notices: Sequence[NoticeTemplate] | None = None) -> PlaybookTemplate:
    """The next version of a town's playbook with tasks and/or notices replaced; current is untouched.

    Check the result with validate_template before publishing it.
    """
    return PlaybookTemplate(
        town=current.town, version=current.version + 1,
        tasks=current.tasks if tasks is None else tuple(tasks),
        notices=current.notices if notices is None else tuple(notices),
    )


# --- validation -------------------------------------------------------------------------------

def validate_template(template: PlaybookTemplate) -> list[Problem]:
    """Everything wrong with a playbook draft, each with the field at fault; empty when it is fine."""
    problems: list[Problem] = []
    if not template.tasks:
        problems.append(Problem("playbook_tasks_empty", "工作流程中没有任何任务",
                                "the playbook has no tasks", "tasks"))
    seen: set[str] = set()
    for index, task in enumerate(template.tasks):
        problems.extend(_task_problems(index, task, seen))
        seen.add(task.key)
    seen_notices: set[str] = set()
    for index, notice in enumerate(template.notices):
        problems.extend(_notice_problems(index, notice, seen_notices))
        seen_notices.add(notice.key)
    return problems


def _task_problems(index: int, task: TaskTemplate, seen: set[str]) -> list[Problem]:
    where = f"tasks[{index}]"
    problems = _key_problems("task", where, task.key, seen)
    if task.due_offset_s < 0:
        problems.append(Problem("task_offset_negative", f"任务「{task.key}」的期限不能早于封控时间",
                                f"task {task.key!r} cannot be due before sealing", f"{where}.due_offset_s"))
    if task.owner_role not in OWNER_ROLES:
        problems.append(Problem("task_owner_role_unknown", f"任务「{task.key}」的负责方「{task.owner_role}」不存在",
                                f"task {task.key!r} has unknown owner role {task.owner_role!r}; "
                                f"use one of {', '.join(OWNER_ROLES)}", f"{where}.owner_role"))
    return problems


def _key_problems(kind: str, where: str, key: str, seen: set[str]) -> list[Problem]:
    kind_zh = "任务" if kind == "task" else "通知模板"
    if not KEY_PATTERN.fullmatch(key):
        return [Problem(f"{kind}_key_format", f"{kind_zh}编号「{key}」只能由小写字母、数字和下划线组成",
                        f"{kind} key {key!r} must match [a-z0-9_]+", f"{where}.key")]
    if key in seen:
        return [Problem(f"{kind}_key_duplicate", f"{kind_zh}编号「{key}」重复",
                        f"{kind} key {key!r} is used twice", f"{where}.key")]
    return []


def _notice_problems(index: int, notice: NoticeTemplate, seen: set[str]) -> list[Problem]:
    where = f"notices[{index}]"
    problems = _key_problems("notice", where, notice.key, seen)
    _, unknown = scan_placeholders(notice.body_zh)
    if unknown:
        shown = "、".join("{" + u + "}" for u in unknown)
        problems.append(Problem("notice_placeholder_unknown", f"通知模板「{notice.key}」含有不认识的占位符：{shown}",
                                f"notice {notice.key!r} uses unknown placeholders: {shown}", f"{where}.body_zh"))
    return problems


# --- rendering --------------------------------------------------------------------------------

def scan_placeholders(body: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The known placeholder names a template uses and the rejected ones, each in first-seen order.

    Only bare `{name}` with a name from PLACEHOLDERS is accepted; attribute, index, conversion and
    format-spec forms (`{x.a}`, `{x[0]}`, `{x!r}`, `{x:>10}`) and positional `{}` are rejected as
    unknown. `{{` and `}}` are literal braces. Unbalanced braces are reported as an unknown "{" or "}".
    """
    known: dict[str, None] = {}
    unknown: dict[str, None] = {}
    try:
        pieces = list(string.Formatter().parse(body))
    except ValueError:
        return (), (_stray_brace(body),)
    for _, name, spec, conversion in pieces:
        if name is None:
            continue
        token = _token(name, spec, conversion)
        (known if token in PLACEHOLDERS else unknown)[token] = None
    return tuple(known), tuple(unknown)


def _token(name: str, spec: str | None, conversion: str | None) -> str:
    token = name + (f"!{conversion}" if conversion else "")
    return token + (f":{spec}" if spec else "")


def _stray_brace(body: str) -> str:
    without_literals = body.replace("{{", "").replace("}}", "")
    return "{" if without_literals.count("{") > without_literals.count("}") else "}"


def render_notice(template: NoticeTemplate, context: Mapping[str, str]) -> str:
    """The notice body with every placeholder filled from context.

    Raises NoticeRenderError when the body uses a placeholder that is not allowed, or one whose
    value is absent or blank in context. Values are inserted verbatim, never re-parsed.
    """
    known, unknown = scan_placeholders(template.body_zh)
    missing = tuple(name for name in known if not str(context.get(name, "")).strip())
    if missing or unknown:
        raise NoticeRenderError(missing=missing, unknown=unknown)
    pieces = string.Formatter().parse(template.body_zh)
    return "".join(literal + ("" if name is None else str(context[name])) for literal, name, _, _ in pieces)


def format_time_zh(moment: datetime) -> str:
    """A time in Chinese notice style, e.g. "3月21日 20:00"; aware times are shown in Shanghai time."""
    local = moment.astimezone(SHANGHAI) if moment.tzinfo is not None else moment
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def building_label(building: str) -> str:
    """How a building is named in a notice: a bare number "38" becomes "38号楼", anything else is kept."""
    return f"{building}号楼" if building.isdigit() else building


def notice_context(*, compound_name: str, building: str, sealed_at: datetime, seal_ends_at: datetime,
                   monitoring_ends_at: datetime, report_times: Sequence[str] = DEFAULT_REPORT_TIMES,
                   testing_time: datetime | None = None, testing_place: str = "",
                   hotline: str = "") -> dict[str, str]:
    """The values for every placeholder, formatted for a Chinese notice.

    Times read like "3月21日 20:00", report times are joined with "、", a bare building number gets
    "号楼". Values not given are empty strings, so rendering a notice that needs them fails clearly.
    """
    return {
        "compound": compound_name,
        "building": building_label(building),
        "sealed_at": format_time_zh(sealed_at),
        "seal_ends_at": format_time_zh(seal_ends_at),
        "monitoring_ends_at": format_time_zh(monitoring_ends_at),
        "report_times": "、".join(report_times),
        "testing_time": format_time_zh(testing_time) if testing_time is not None else "",
        "testing_place": testing_place,
        "hotline": hotline,
    }
