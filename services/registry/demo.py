"""Deterministic synthetic compounds, shaped like a cadre's resident import sheet.

`yinghuayuan()` is the compound of the account (普陀区桃浦镇樱花苑, March 2022): six-floor
walk-ups, two entrances each, two doors per landing, and four sealed buildings that together
hold exactly 86 households and 174 residents. `generate_compound` and `generate_town` build
compounds of any size with the same household model, for demos and load tests.

Everything is pure and deterministic: names come from a per-instance seeded `Faker("zh_CN")`,
every other choice from a `random.Random(seed)`, and ages are taken against the frozen
reference date 2022-03-23 — never today — so a seed gives identical output on any day.
The people are fictional; ID numbers are valid in form (GB 11643) but random.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Callable, Iterator, Sequence, TypeVar

from faker import Faker

REFERENCE_DATE = date(2022, 3, 23)  # the night the fourth building was unsealed
YINGHUAYUAN_SEED = 20220323
ACCOUNT_BUILDINGS = ("27", "36", "38", "41")  # the four sealed buildings; No. 38 is named in the account
ACCOUNT_HOUSEHOLDS = 86
ACCOUNT_RESIDENTS = 174
FLAG_ORDER = ("独居老人", "慢性病", "孕妇", "婴幼儿", "残疾")
RELATIONS = ("户主", "配偶", "子女", "父母", "孙子女", "其他")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_PUTUO = "310107"
_TOWN_DISTRICT = {"taopu": _PUTUO, "changzheng": _PUTUO, "zhenru": _PUTUO, "wanli": _PUTUO}
_YINGHUAYUAN_GAPS = frozenset({11, 29, 54, 73, 90})  # numbers held by the kindergarten, clubhouse, …
_YINGHUAYUAN_LAST = 99
_WALK_UP_ROOMS_BEFORE_HIGH_RISES = 2_400
_PHONE_PREFIXES = tuple(str(p) for p in (
    *range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, 166, 173, 175, 176, 177, 178,
    *range(180, 190), 191, 198, 199))
_RELATION_RANK = {relation: rank for rank, relation in enumerate(RELATIONS)}

T = TypeVar("T")


@dataclass(frozen=True)
class DemoResident:
    """One resident, in the same shape as one row of a cadre's import sheet."""

    building: str    # "38"
    entrance: str    # "1" (单元)
    room: str        # "302": floor 3, door 02
    name: str        # Faker zh_CN full name
    sex: str         # "M"/"F", as encoded in the ID number's 17th digit
    id_number: str   # 18 characters, valid GB 11643 check character, Shanghai area code
    phone: str       # 11-digit mainland mobile, or "" for small children
    relation: str    # 户主 / 配偶 / 子女 / 父母 / 孙子女 / 其他
    notes: str       # "" or flags among 独居老人, 慢性病, 孕妇, 婴幼儿, 残疾 joined with "、"


@dataclass(frozen=True)
class DemoBuilding:
    """A building's shape: rooms are floor + two-digit door, the same in every entrance."""

    number: str
    entrances: int
    floors: int
    kind: str                 # "walk-up" or "high-rise"
    doors_per_floor: int = 2

    @property
    def rooms(self) -> int:
        """How many flats the building has (occupied or not)."""
        return self.entrances * self.floors * self.doors_per_floor


@dataclass(frozen=True)
class DemoCompound:
    """A compound and its residents, ready to be loaded like an imported sheet."""

    tenant: str
    compound: str
    name: str
    town: str
    buildings: list[DemoBuilding]
    residents: list[DemoResident]
    account_buildings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Dist:
    """A weighted choice with precomputed cumulative weights."""

    values: tuple
    cum: tuple[float, ...]

    def draw(self, rng: random.Random):
        return rng.choices(self.values, cum_weights=self.cum)[0]


def _dist(weights: dict) -> _Dist:
    cum, total = [], 0.0
    for weight in weights.values():
        total += weight
        cum.append(total)
    return _Dist(tuple(weights), tuple(cum))


# Age bands (inclusive) with weights. Shanghai is old: the 1950s–60s cohorts are now 60–69.
_ELDER_AGES = _dist({(60, 64): 22, (65, 69): 26, (70, 74): 20, (75, 79): 12, (80, 84): 10,
                     (85, 89): 7, (90, 97): 3})
_ALONE_ELDER_AGES = _dist({(60, 69): 25, (70, 79): 35, (80, 89): 32, (90, 98): 8})
_SINGLE_ADULT_AGES = _dist({(22, 29): 35, (30, 39): 30, (40, 49): 18, (50, 59): 17})
_CHILD_AGES = _dist({(0, 2): 10, (3, 6): 12, (7, 12): 20, (13, 17): 18, (18, 24): 24, (25, 30): 16})
_YOUNG_CHILD_AGES = _dist({(0, 2): 22, (3, 6): 26, (7, 12): 32, (13, 17): 20})
_RENTER_AGES = _dist({(20, 29): 60, (30, 39): 30, (40, 49): 10})

# Household kinds; weights give ~2.3 people per household and ~1/3 of residents over 60.
_KINDS = _dist({"alone_elder": 6.5, "single": 14, "elder_couple": 23.5, "couple": 8.5, "nuclear": 19,
                "single_parent": 4, "three_gen": 7, "grand": 5, "elders_with_child": 8, "shared": 4.5})
_SIZES = {
    "alone_elder": _dist({1: 1}), "single": _dist({1: 1}), "elder_couple": _dist({2: 1}),
    "couple": _dist({2: 1}), "nuclear": _dist({3: 85, 4: 15}), "single_parent": _dist({2: 1}),
    "three_gen": _dist({4: 60, 5: 40}), "grand": _dist({3: 35, 4: 30, 5: 35}),
    "elders_with_child": _dist({2: 40, 3: 60}), "shared": _dist({2: 70, 3: 30}),
}

_DISTRICT_SHARE = 62.0  # per cent of residents registered in the compound's own district
_OTHER_DISTRICTS = _dist({"310108": 8, "310106": 5, "310105": 4, "310104": 4, "310109": 4,
                          "310110": 4, "310101": 3, "310112": 2, "310113": 2, "310115": 2})

_NAME_HEADS = ("桃浦", "锦绣", "金鼎", "兰溪", "春华", "绿洲", "景泰", "静安", "真如", "清涧",
               "梅川", "曹杨", "武威", "新杨", "祁连", "富平", "丽景", "华庭", "和怡")
_NAME_TAILS = ("苑", "小区", "新村", "花园", "公寓", "家园")


@dataclass(frozen=True)
class _Member:
    """A household member before names and numbers are drawn."""

    relation: str
    sex: str
    age: int
    surname: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Plan:
    """What kind of household goes into a flat, and how many live there."""

    kind: str
    size: int


def check_char(first17: str) -> str:
    """GB 11643 check character for the first 17 digits of an ID number."""
    return _ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def age_on(born: date, on: date = REFERENCE_DATE) -> int:
    """Full years of age on `on` (the frozen reference date by default)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class _Generator:
    """All random choices of one compound; shares ID and phone sets across a town."""

    def __init__(self, seed: int, fake: Faker, district: str,
                 used_ids: set[str], used_phones: set[str]) -> None:
        self.rng = random.Random(seed)
        self.fake = fake
        self.fake.seed_instance(seed)
        self.district = district
        self.used_ids = used_ids
        self.used_phones = used_phones

    # --- plans ---------------------------------------------------------------------------

    def plan(self) -> _Plan:
        """A household drawn from the compound-wide mix."""
        kind = _KINDS.draw(self.rng)
        return _Plan(kind, _SIZES[kind].draw(self.rng))

    def plan_of_size(self, size: int) -> _Plan:
        """A household of exactly `size` people (1–5), drawn from the same mix."""
        while (plan := self.plan()).size != size:
            pass
        return plan

    # --- people --------------------------------------------------------------------------

    def age(self, bands: _Dist) -> int:
        low, high = bands.draw(self.rng)
        return self.rng.randint(low, high)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def sex(self) -> str:
        return "M" if self.rng.random() < 0.5 else "F"

    def surname(self) -> str:
        return self.fake.last_name()

    def given_name(self, sex: str) -> str:
        return self.fake.first_name_male() if sex == "M" else self.fake.first_name_female()

    def birth_date(self, age: int) -> date:
        """A birth date that makes the person exactly `age` on the reference date."""
        latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)
        earliest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age - 1) + timedelta(days=1)
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def area_code(self) -> str:
        if self.rng.random() * 100 < _DISTRICT_SHARE:
            return self.district
        return _OTHER_DISTRICTS.draw(self.rng)

    def id_number(self, sex: str, born: date) -> str:
        """A fresh ID number, unique across everything this generator's sets have seen."""
        while True:
            sequence = self.rng.randrange(500) * 2 + (1 if sex == "M" else 0)
            first17 = f"{self.area_code()}{born:%Y%m%d}{sequence:03d}"
            if first17 not in self.used_ids:
                self.used_ids.add(first17)
                return first17 + check_char(first17)

    def phone(self, age: int) -> str:
        """An unused mainland mobile number; small children (under 12) have none."""
        if age < 12:
            return ""
        while True:
            number = f"{self.rng.choice(_PHONE_PREFIXES)}{self.rng.randrange(10 ** 8):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def notes(self, member: _Member) -> str:
        """Household flags plus the person's own: chronic illness, infancy, disability."""
        flags = set(member.flags)
        if self.chance(0.15 if member.age >= 60 else 0.03 if member.age >= 40 else 0.0):
            flags.add("慢性病")
        if member.age < 3:
            flags.add("婴幼儿")
        if self.chance(0.035 if member.age >= 60 else 0.012):
            flags.add("残疾")
        return "、".join(flag for flag in FLAG_ORDER if flag in flags)

    def resident(self, spot: tuple[str, str, str], member: _Member) -> DemoResident:
        born = self.birth_date(member.age)
        building, entrance, room = spot
        return DemoResident(
            building=building, entrance=entrance, room=room,
            name=member.surname + self.given_name(member.sex), sex=member.sex,
            id_number=self.id_number(member.sex, born), phone=self.phone(member.age),
            relation=member.relation, notes=self.notes(member))

    def household(self, spot: tuple[str, str, str], plan: _Plan) -> list[DemoResident]:
        """The residents of one flat, householder first."""
        members = _BUILDERS[plan.kind](self, plan.size)
        members.sort(key=lambda m: _RELATION_RANK[m.relation])
        return [self.resident(spot, member) for member in members]


# --- household builders: each returns exactly `size` members ----------------------------------

def _couple(g: _Generator, husband_age: int, wife_age: int) -> tuple[list[_Member], str]:
    """A married couple (the husband usually registered as 户主) and the family surname."""
    family = g.surname()
    pregnant = ("孕妇",) if 20 <= wife_age <= 40 and g.chance(0.07) else ()
    husband = _Member("户主", "M", husband_age, family)
    wife = _Member("配偶", "F", wife_age, g.surname(), pregnant)
    if g.chance(0.25):
        husband, wife = replace(husband, relation="配偶"), replace(wife, relation="户主")
    return [husband, wife], family


def _child(g: _Generator, relation: str, age: int, surname: str) -> _Member:
    return _Member(relation, g.sex(), age, surname)


def _widowed(g: _Generator, age: int) -> tuple[list[_Member], str]:
    """A widowed householder and the family surname (the late husband's, for a widow)."""
    elder = _Member("户主", g.sex(), age, g.surname())
    return [elder], elder.surname if elder.sex == "M" else g.surname()


def _head(members: list[_Member]) -> _Member:
    return next(m for m in members if m.relation == "户主")


def _alone_elder(g: _Generator, size: int) -> list[_Member]:
    return [_Member("户主", g.sex(), g.age(_ALONE_ELDER_AGES), g.surname(), ("独居老人",))]


def _single(g: _Generator, size: int) -> list[_Member]:
    return [_Member("户主", g.sex(), g.age(_SINGLE_ADULT_AGES), g.surname())]


def _elder_couple(g: _Generator, size: int) -> list[_Member]:
    husband = g.age(_ELDER_AGES)
    return _couple(g, husband, max(56, husband - g.rng.randint(-2, 6)))[0]


def _childless_couple(g: _Generator, size: int) -> list[_Member]:
    wife = g.rng.randint(24, 35) if g.chance(0.45) else g.rng.randint(48, 59)
    return _couple(g, wife + g.rng.randint(-1, 5), wife)[0]


def _nuclear(g: _Generator, size: int) -> list[_Member]:
    """Parents and one child (any age up to 30) or two (the younger under 18)."""
    if size == 3:
        ages = [g.age(_CHILD_AGES)]
    else:
        young = g.age(_YOUNG_CHILD_AGES)
        ages = [young + g.rng.randint(2, 9), young]
    wife = ages[0] + g.rng.randint(24, 34)
    members, family = _couple(g, wife + g.rng.randint(-2, 5), wife)
    return members + [_child(g, "子女", age, family) for age in ages]


def _single_parent(g: _Generator, size: int) -> list[_Member]:
    child = g.age(_CHILD_AGES)
    sex = "F" if g.chance(0.75) else "M"
    parent = _Member("户主", sex, child + g.rng.randint(24, 36), g.surname())
    surname = parent.surname if sex == "M" or g.chance(0.3) else g.surname()
    return [parent, _child(g, "子女", child, surname)]


def _three_generations(g: _Generator, size: int) -> list[_Member]:
    """A couple and child living with one or both parents of the householder."""
    child = g.age(_YOUNG_CHILD_AGES) + g.rng.randint(0, 3)
    wife = child + g.rng.randint(24, 34)
    members, family = _couple(g, wife + g.rng.randint(-2, 5), wife)
    head = _head(members)
    father = min(99, head.age + g.rng.randint(25, 34))
    parents = [_Member("父母", "M", father, head.surname),
               _Member("父母", "F", max(head.age + 22, father - g.rng.randint(-1, 5)), g.surname())]
    if size == 4:
        parents = [parents[g.rng.randrange(2)]]
    return members + [_child(g, "子女", child, family)] + parents


def _grandparents(g: _Generator, size: int) -> list[_Member]:
    """Elders as householders with a grandchild, and for 4–5 people a married son or daughter."""
    grandchild = max(0, g.age(_YOUNG_CHILD_AGES) - g.rng.randint(0, 3))
    middle = grandchild + g.rng.randint(25, 36)
    elder = min(97, middle + g.rng.randint(25, 34))
    if size == 4:
        elders, family = _widowed(g, elder)
    else:
        elders, family = _couple(g, elder, max(middle + 22, elder - g.rng.randint(-2, 5)))
    if size == 3:  # parents work elsewhere; the grandparents raise the child
        surname = family if g.chance(0.7) else g.surname()
        return elders + [_child(g, "孙子女", grandchild, surname)]
    son, in_law_surname = g.chance(0.6), g.surname()
    father_surname = family if son else in_law_surname
    return elders + [
        _Member("子女", "M" if son else "F", middle, family),
        _Member("其他", "F" if son else "M", middle + g.rng.randint(-3, 3), in_law_surname),
        _child(g, "孙子女", grandchild, father_surname)]


def _elders_with_child(g: _Generator, size: int) -> list[_Member]:
    """A widowed elder or an elder couple with an unmarried or divorced adult child."""
    elder = g.age(_ELDER_AGES)
    child = max(22, elder - g.rng.randint(25, 36))
    elder = max(elder, child + 25)
    if size == 2:
        elders, family = _widowed(g, elder)
    else:
        elders, family = _couple(g, elder, max(child + 22, elder - g.rng.randint(-2, 6)))
    return elders + [_child(g, "子女", child, family)]


def _shared(g: _Generator, size: int) -> list[_Member]:
    """Unrelated renters sharing a flat; the tenant on the lease is registered as 户主."""
    return [_Member("户主" if i == 0 else "其他", g.sex(), g.age(_RENTER_AGES), g.surname())
            for i in range(size)]


_BUILDERS: dict[str, Callable[[_Generator, int], list[_Member]]] = {
    "alone_elder": _alone_elder, "single": _single, "elder_couple": _elder_couple,
    "couple": _childless_couple, "nuclear": _nuclear, "single_parent": _single_parent,
    "three_gen": _three_generations, "grand": _grandparents,
    "elders_with_child": _elders_with_child, "shared": _shared,
}


# --- buildings and flats ---------------------------------------------------------------------

def _walk_up(number: int) -> DemoBuilding:
    return DemoBuilding(str(number), entrances=2, floors=6, kind="walk-up", doors_per_floor=2)


def _high_rise(number: int, rng: random.Random) -> DemoBuilding:
    return DemoBuilding(str(number), entrances=rng.choice((1, 2)), floors=rng.randint(18, 33),
                        kind="high-rise", doors_per_floor=4)


def _flats(building: DemoBuilding) -> Iterator[tuple[str, str, str]]:
    """(building, entrance, room) for every flat, entrance by entrance, floor by floor."""
    for entrance in range(1, building.entrances + 1):
        for floor in range(1, building.floors + 1):
            for door in range(1, building.doors_per_floor + 1):
                yield building.number, str(entrance), f"{floor}{door:02d}"


def _vacancy(building: DemoBuilding) -> float:
    return 0.07 if building.kind == "walk-up" else 0.08


def _pick(rng: random.Random, items: Sequence[T], count: int) -> set[T]:
    return set(rng.sample(list(items), count))


# --- Yinghuayuan -----------------------------------------------------------------------------

def _account_plans(g: _Generator) -> list[_Plan]:
    """86 households totalling exactly 174 people, drawn from the compound's household mix."""
    plans = [g.plan() for _ in range(ACCOUNT_HOUSEHOLDS)]
    total = sum(plan.size for plan in plans)
    while total != ACCOUNT_RESIDENTS:
        index, candidate = g.rng.randrange(len(plans)), g.plan()
        new_total = total - plans[index].size + candidate.size
        if abs(new_total - ACCOUNT_RESIDENTS) < abs(total - ACCOUNT_RESIDENTS):
            plans[index], total = candidate, new_total
    return plans


def _account_flats(g: _Generator, buildings: list[DemoBuilding]) -> dict[tuple[str, str, str], _Plan]:
    """The sealed buildings' occupied flats (some stand empty) mapped to their households."""
    flats = [flat for b in buildings if b.number in ACCOUNT_BUILDINGS for flat in _flats(b)]
    empty = _pick(g.rng, flats, len(flats) - ACCOUNT_HOUSEHOLDS)
    occupied = [flat for flat in flats if flat not in empty]
    return dict(zip(occupied, _account_plans(g)))


def _yinghuayuan_buildings() -> list[DemoBuilding]:
    return [_walk_up(n) for n in range(1, _YINGHUAYUAN_LAST + 1) if n not in _YINGHUAYUAN_GAPS]


def yinghuayuan(seed: int = YINGHUAYUAN_SEED) -> DemoCompound:
    """樱花苑, Taopu town: ~2,100 households, with the account's four sealed buildings exact."""
    g = _Generator(seed, Faker("zh_CN"), _PUTUO, set(), set())
    buildings = _yinghuayuan_buildings()
    sealed = _account_flats(g, buildings)
    residents: list[DemoResident] = []
    for building in buildings:
        for flat in _flats(building):
            if building.number in ACCOUNT_BUILDINGS:
                plan = sealed.get(flat)
            else:
                plan = None if g.chance(_vacancy(building)) else g.plan()
            if plan is not None:
                residents += g.household(flat, plan)
    return DemoCompound("yinghuayuan", "yinghuayuan", "樱花苑", "taopu", buildings, residents,
                        ACCOUNT_BUILDINGS)


# --- generated compounds and towns -----------------------------------------------------------

def _plans_totalling(g: _Generator, residents: int) -> list[_Plan]:
    """Households drawn from the mix until exactly `residents` people are housed."""
    plans: list[_Plan] = []
    remaining = residents
    while remaining > 5:
        plans.append(g.plan())
        remaining -= plans[-1].size
    if remaining > 0:
        plans.append(g.plan_of_size(remaining))
    return plans


def _next_building(g: _Generator, number: int, rooms_so_far: int) -> DemoBuilding:
    if rooms_so_far < _WALK_UP_ROOMS_BEFORE_HIGH_RISES:
        return _walk_up(number)
    return _high_rise(number, g.rng)


def _house(g: _Generator, plans: list[_Plan]) -> tuple[list[DemoBuilding], list[DemoResident]]:
    """Put households into flats, adding buildings (walk-ups, then high-rises) as needed."""
    buildings: list[DemoBuilding] = []
    residents: list[DemoResident] = []
    pending, rooms = iter(plans), 0
    plan = next(pending, None)
    while plan is not None:
        building = _next_building(g, len(buildings) + 1, rooms)
        buildings.append(building)
        rooms += building.rooms
        for flat in _flats(building):
            if plan is None:
                break
            if not g.chance(_vacancy(building)):
                residents += g.household(flat, plan)
                plan = next(pending, None)
    return buildings, residents


def _compound(g: _Generator, tenant: str, compound: str, name: str, residents: int,
              town: str) -> DemoCompound:
    buildings, people = _house(g, _plans_totalling(g, residents))
    return DemoCompound(tenant, compound, name, town, buildings, people)


def _district_of(town: str) -> str:
    return _TOWN_DISTRICT.get(town, _PUTUO)


def generate_compound(tenant: str, compound: str, name: str, residents: int, seed: int, *,
                      town: str = "taopu") -> DemoCompound:
    """A compound of exactly `residents` people (≥ 0) in households of 1–5, same model as 樱花苑."""
    if residents < 0:
        raise ValueError("residents must not be negative")
    g = _Generator(seed, Faker("zh_CN"), _district_of(town), set(), set())
    return _compound(g, tenant, compound, name, residents, town)


_PHASES = "一二三四五六七八九十"


def _phase_name(base: str, phase: int) -> str:
    return f"{base}{_PHASES[phase - 1] if phase <= len(_PHASES) else phase}期"


def _compound_names(rng: random.Random, count: int) -> list[str]:
    """Distinct compound names such as 锦绣花园 or 梅川新村; repeats become 二期, 三期, …"""
    names: list[str] = []
    taken: set[str] = set()
    for _ in range(count):
        base = rng.choice(_NAME_HEADS) + rng.choice(_NAME_TAILS)
        phase, name = 1, base
        while name in taken:
            phase += 1
            name = _phase_name(base, phase)
        names.append(name)
        taken.add(name)
    return names


def generate_town(town: str, compounds: int, residents_per_compound: int, seed: int) -> list[DemoCompound]:
    """`compounds` compounds, one committee each, ids f"{town}-c{i:03d}" from 1, ID numbers and
    phones unique across the whole town."""
    rng = random.Random(seed)
    names = _compound_names(rng, compounds)
    seeds = [rng.getrandbits(32) for _ in range(compounds)]
    fake, used_ids, used_phones = Faker("zh_CN"), set[str](), set[str]()
    result = []
    for i, (name, sub_seed) in enumerate(zip(names, seeds), start=1):
        g = _Generator(sub_seed, fake, _district_of(town), used_ids, used_phones)
        ident = f"{town}-c{i:03d}"
        result.append(_compound(g, ident, ident, name, residents_per_compound, town))
    return result
