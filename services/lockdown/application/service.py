"""One rule per lockdown command: which aggregate it writes, what else it reads, and the decide
function. Town aggregates hold the policy and playbook; building aggregates the episodes."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Awaitable, Callable

from shared.commands import lockdown as c
from shared.crypto import KeyStore, seal
from shared.errors import DomainError
from shared.eventlog.executor import CommandResult, Executor
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject, slug
from shared.events import lockdown as e
from services.lockdown.domain import health, model, playbook as pb
from services.lockdown.domain.model import Building, Town

SERVICE = "lockdown"


def town_tenant(town: str) -> str:
    return f"town-{town}"


def town_subject(town: str) -> AggregateSubject:
    return AggregateSubject.make(town_tenant(town), "all", SERVICE, "town", town)


def building_subject(cmd: c.Command, building: str) -> AggregateSubject:
    return AggregateSubject.make(cmd.tenant, cmd.compound, SERVICE, "building", slug(building))


def household_subject(cmd: c.Command) -> AggregateSubject:
    return AggregateSubject.make(cmd.tenant, cmd.compound, SERVICE, "household", slug(cmd.household_id))


def round_subject(cmd: c.Command) -> AggregateSubject:
    return AggregateSubject.make(cmd.tenant, cmd.compound, SERVICE, "round", cmd.round_id)


def sampling_subject(cmd: c.Command) -> AggregateSubject:
    return AggregateSubject.make(cmd.tenant, cmd.compound, SERVICE, "sampling", slug(f"{cmd.round_id}-{cmd.household_id}"))


def default_playbook_event(town: str, actor: str, now: datetime, version: int = 0) -> e.PlaybookPublished:
    """The built-in standard workflow, as version 0 when a town has published none."""
    template = pb.default_playbook(town)
    return e.PlaybookPublished(town=town, template_version=version,
                               tasks=tuple(e.TaskSpec(**t.model_dump()) for t in template.tasks),
                               notices=tuple(e.NoticeSpec(**n.model_dump()) for n in template.notices),
                               published_by=actor, published_at=now)


Reconcile = Callable[[str, str], Awaitable[tuple[dict[str, int], list[tuple[str, str]]]]]


class LockdownService:
    """`keys` seals health fields with each resident's key; `reconcile(tenant, round_id)` reads the
    roster's counts and who is unaccounted for when a round closes."""

    def __init__(self, store: EventStore, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 keys: KeyStore | None = None, reconcile: Reconcile | None = None) -> None:
        self.clock, self.keys, self.reconcile = clock, keys, reconcile
        self.buildings: Executor[Building] = Executor(store, SERVICE, Building, model.apply)
        self.towns: Executor[Town] = Executor(store, SERVICE, Town, model.apply_town)
        self.households: Executor[object] = Executor(store, SERVICE, object, lambda s, _e: s)
        self.rounds: Executor[health.Round] = Executor(store, SERVICE, health.Round, health.apply_round)
        self.samplings: Executor[health.Sampling] = Executor(store, SERVICE, health.Sampling, health.apply_sampling)

    async def town(self, town: str) -> Town:
        return (await self.towns.load(town_subject(town))).state

    async def building(self, cmd: c.Command, building: str) -> Building:
        return (await self.buildings.load(building_subject(cmd, building))).state

    async def execute(self, cmd: c.Command) -> CommandResult:
        now = self.clock()
        match cmd:
            case c.SetTownPolicy() | c.PublishPlaybook():
                if cmd.tenant != town_tenant(cmd.town):
                    raise DomainError("wrong_tenant", "镇级设置须以镇为单位提交", f"town settings use tenant town-{cmd.town}",
                                      "tenant")
                decide = (lambda t: model.set_policy(t, cmd, now)) if isinstance(cmd, c.SetTownPolicy) else \
                    (lambda t: publish_playbook(t, cmd, now))
                return await self.towns.execute(cmd, town_subject(cmd.town), decide)
            case c.SealBuilding():
                town = await self.town(cmd.town)
                playbook = town.playbooks.get(town.playbook_version) or default_playbook_event(cmd.town, cmd.actor, now)
                return await self._on_building(cmd, lambda b: model.seal(b, town, playbook, cmd, now))
            case c.PublishNotice():
                b = await self.building(cmd, cmd.building)
                town = await self.town(b.town) if b.town else Town()
                playbook = town.playbooks.get(b.playbook_version) or default_playbook_event(b.town, cmd.actor, now)
                return await self._on_building(cmd, lambda st: publish_notice(st, playbook, town, cmd, now))
            case c.ReportResident():
                return await self._report(cmd, now)
            case c.ScheduleTestingRound() | c.RecordTestResult() | c.CloseTestingRound():
                return await self._on_round(cmd, now)
            case c.BookSamplingCode() | c.CheckOffSample() | c.MarkAbsent():
                rnd = (await self.rounds.load(round_subject(cmd))).state
                rule = {c.BookSamplingCode: health.book_code, c.CheckOffSample: health.check_off,
                        c.MarkAbsent: health.mark_absent}[type(cmd)]
                return await self.samplings.execute(cmd, sampling_subject(cmd), lambda st: rule(rnd, st, cmd, now))
            case c.TransferResident() | c.DisinfectBuilding():
                rule = health.transfer if isinstance(cmd, c.TransferResident) else health.disinfect
                return await self._on_building(cmd, lambda b: rule(b, cmd, now))
        rules = {
            c.RescheduleEpisode: model.reschedule, c.ReleaseBuilding: model.release, c.AdvancePhase: model.advance,
            c.CompleteTask: model.complete_task, c.JoinGroup: model.join_group, c.LeaveGroup: model.leave_group,
            c.RecordGatePass: model.record_gate_pass,
        }
        rule = rules.get(type(cmd))
        if rule is None:
            raise DomainError("unknown_command", "无法识别的指令", f"unknown command {cmd.name}")
        return await self._on_building(cmd, lambda b: rule(b, cmd, now))

    async def _report(self, cmd: c.ReportResident, now: datetime) -> CommandResult:
        b = await self.building(cmd, cmd.building)
        policy = model.policy_of(await self.town(b.town)) if b.town else dict(model.DEFAULT_POLICY)
        if self.keys is None:
            raise DomainError("keys_unavailable", "无法加密健康数据，暂不能上报", "health data cannot be sealed right now")
        key = (await self.keys.ensure(cmd.tenant, [cmd.resident_id]))[cmd.resident_id]
        context = f"{cmd.tenant}/{cmd.resident_id}"
        sealed = {"temperature": seal(key, f"{cmd.temperature:.1f}", f"{context}/temperature"),
                  "symptoms": seal(key, cmd.symptoms, f"{context}/symptoms") if cmd.symptoms else "",
                  "need": seal(key, cmd.need, f"{context}/need") if cmd.need else ""}
        return await self.households.execute(cmd, household_subject(cmd),
                                             lambda _s: health.report(b, policy, cmd, sealed, now))

    async def _on_round(self, cmd, now: datetime) -> CommandResult:
        match cmd:
            case c.ScheduleTestingRound():
                decide = lambda r: health.schedule_round(r, cmd, now)  # noqa: E731
            case c.RecordTestResult():
                decide = lambda r: health.record_result(r, cmd, now)  # noqa: E731
            case _:
                counts, unaccounted = await self.reconcile(cmd.tenant, cmd.round_id) if self.reconcile else ({}, [])
                decide = lambda r: health.close_round(r, cmd, counts, unaccounted, now)  # noqa: E731
        return await self.rounds.execute(cmd, round_subject(cmd), decide)

    async def _on_building(self, cmd, decide) -> CommandResult:
        return await self.buildings.execute(cmd, building_subject(cmd, cmd.building), decide)


def publish_playbook(town: Town, cmd: c.PublishPlaybook, now: datetime) -> list[e.PlaybookPublished]:
    base = default_playbook_event(cmd.town, cmd.actor, now, town.playbook_version + 1)
    event = base.model_copy(update={"tasks": cmd.tasks or base.tasks, "notices": cmd.notices or base.notices})
    template = pb.PlaybookTemplate(town=cmd.town, version=event.template_version,
                                   tasks=tuple(pb.TaskTemplate(**t.model_dump()) for t in event.tasks),
                                   notices=tuple(pb.NoticeTemplate(**n.model_dump()) for n in event.notices))
    problems = pb.validate_template(template)
    if problems:
        first = problems[0]
        raise DomainError(first.code, first.message_zh, first.message_en, first.field)
    return [event]


def publish_notice(b: Building, playbook: e.PlaybookPublished, town: Town, cmd: c.PublishNotice,
                   now: datetime) -> list[e.NoticePublished]:
    if not b.episode_id:
        raise DomainError("not_under_lockdown", f"{cmd.building} 号楼没有管控记录", f"building {cmd.building} has no episode",
                          "building")
    template = next((n for n in playbook.notices if n.key == cmd.template_key), None)
    if template is None:
        raise DomainError("unknown_template", f"没有通知模板「{cmd.template_key}」", f"no notice template {cmd.template_key!r}",
                          "template_key")
    report_times = town.policy.report_times if town.policy else model.DEFAULT_POLICY["report_times"]
    context = pb.notice_context(compound_name=cmd.compound_name, building=cmd.building, sealed_at=b.sealed_at,
                                seal_ends_at=b.seal_ends_at, monitoring_ends_at=b.monitoring_ends_at,
                                report_times=report_times, testing_time=cmd.testing_time,
                                testing_place=cmd.testing_place, hotline=cmd.hotline)
    try:
        text = pb.render_notice(pb.NoticeTemplate(**template.model_dump()), context)
    except pb.NoticeRenderError as exc:
        raise DomainError("notice_incomplete", exc.message_zh, exc.message_en, "template_key") from None
    notice_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"louzu:notice:{cmd.command_id}"))
    return [e.NoticePublished(episode_id=b.episode_id, notice_id=notice_id, template_key=template.key,
                              title_zh=template.title_zh, text_zh=text, published_by=cmd.actor, published_at=now)]
