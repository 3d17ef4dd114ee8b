"""The building roster (樓組表) as a cadre reads it: households by floor and room, their residents
with age, flags and live status, and totals that are computed from those same rows — so the figures
at the top of a printed sheet can never disagree with the lines below them.

Pure data: the read model fills it (live, or as of a past moment from the log) and the printers
(PDF, XLSX, CSV) render it.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable


# A temperature report column: "" not reported, "ok" normal, "fever" at or above the town's threshold.
REPORT_LABELS = {"": "未报", "ok": "正常", "fever": "发热"}
# The current testing round: "" no round for this building, else sampled / absent / pending.
SAMPLING_LABELS = {"": "—", "sampled": "已采", "absent": "缺席", "pending": "未采"}
PHASE_LABELS = {"": "未封控", "sealed": "封控期", "health_monitoring": "健康监测期", "released": "已解封"}


@dataclass(frozen=True)
class ResidentLine:
    resident_id: str
    name: str
    sex: str  # "M" / "F"
    age: int | None
    relation: str
    flags: tuple[str, ...]
    id_number: str  # masked unless a clear print was asked for (and logged)
    phone: str
    morning: str  # see REPORT_LABELS
    afternoon: str
    sampling: str  # see SAMPLING_LABELS
    out_since: datetime | None  # out at the gate now, since when
    transferred_to: str  # facility, "" if not transferred

    @property
    def present(self) -> bool:
        """Expected to report a temperature: not transferred away."""
        return not self.transferred_to


@dataclass(frozen=True)
class HouseholdLine:
    household_id: str
    entrance: str
    room: str
    floor: int
    in_group: bool  # somebody of the household is in the building group (樓組群)
    open_deliveries: int
    residents: tuple[ResidentLine, ...]


@dataclass(frozen=True)
class Totals:
    households: int = 0
    residents: int = 0
    sampled: int = 0
    absent: int = 0
    not_sampled: int = 0
    unreported: int = 0  # present residents with no report in the current window
    fever: int = 0
    households_not_in_group: int = 0
    open_deliveries: int = 0
    out_now: int = 0
    transferred: int = 0
    vulnerable: int = 0

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(**{k: getattr(self, k) + getattr(other, k) for k in self.__dataclass_fields__})


def totals_of(households: Iterable[HouseholdLine], current_window: str) -> Totals:
    """Count the rows. `current_window` is "morning", "afternoon" or "" (no window open yet today):
    unreported counts present residents whose report for that window is missing."""
    counts: dict[str, int] = defaultdict(int)
    for h in households:
        counts["households"] += 1
        counts["households_not_in_group"] += not h.in_group
        counts["open_deliveries"] += h.open_deliveries
        for r in h.residents:
            counts["residents"] += 1
            counts["sampled"] += r.sampling == "sampled"
            counts["absent"] += r.sampling == "absent"
            counts["not_sampled"] += r.sampling == "pending"
            counts["fever"] += "fever" in (r.morning, r.afternoon)
            counts["out_now"] += r.out_since is not None
            counts["transferred"] += not r.present
            counts["vulnerable"] += bool(r.flags)
            if current_window and r.present and not getattr(r, current_window):
                counts["unreported"] += 1
    return Totals(**counts)


@dataclass(frozen=True)
class Sheet:
    """One building's roster."""

    tenant: str
    compound: str
    compound_name: str
    building: str
    cadre_name: str
    phase: str  # see PHASE_LABELS
    round_id: str  # current testing round, "" if none
    current_window: str  # "morning" / "afternoon" / ""
    generated_at: datetime
    as_of: datetime | None  # set when rebuilt from the log for a past moment
    masked: bool
    resident_url: str  # what the building's QR code opens
    households: tuple[HouseholdLine, ...]
    totals: Totals = field(default_factory=Totals)

    def floors(self) -> list[tuple[int, list[HouseholdLine]]]:
        """Households grouped by floor (ascending), rooms in order within a floor."""
        by_floor: dict[int, list[HouseholdLine]] = defaultdict(list)
        for h in self.households:
            by_floor[h.floor].append(h)
        return [(f, sorted(by_floor[f], key=lambda h: (h.entrance, _room_key(h.room)))) for f in sorted(by_floor)]


@dataclass(frozen=True)
class CompoundSheets:
    """Every building of a compound, for one printed file."""

    compound: str
    compound_name: str
    generated_at: datetime
    sheets: tuple[Sheet, ...]

    @property
    def totals(self) -> Totals:
        total = Totals()
        for s in self.sheets:
            total = total + s.totals
        return total


def _room_key(room: str) -> tuple[int, str]:
    digits = "".join(ch for ch in room if ch.isdigit())
    return (int(digits) if digits else 0, room)


# ---- the duty rota, as printed on one A4 page --------------------------------------------------

@dataclass(frozen=True)
class RotaCell:
    post_id: str
    building: str
    day: str  # ISO date
    shift: str  # e.g. "08:30-12:30"
    people: tuple[str, ...]  # names, in pair order
    checked_in: tuple[str, ...] = ()  # names of those who checked in

    @property
    def gap(self) -> bool:
        return len(self.people) < 2


@dataclass(frozen=True)
class RotaSheet:
    compound: str
    compound_name: str
    days: tuple[str, ...]  # ISO dates, ascending
    shifts: tuple[str, ...]
    posts: tuple[tuple[str, str], ...]  # (post_id, building)
    cells: tuple[RotaCell, ...]
    standby: tuple[tuple[str, tuple[str, ...]], ...]  # (day, cadre names) for 24-hour standby
    generated_at: datetime

    def cell(self, post_id: str, day: str, shift: str) -> RotaCell | None:
        for c in self.cells:
            if (c.post_id, c.day, c.shift) == (post_id, day, shift):
                return c
        return None
