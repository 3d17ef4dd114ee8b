"""The synthetic compound generator: Yinghuayuan's account numbers, valid identities, realism."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date

import pytest

from services.registry import demo
from services.registry.demo import DemoCompound, DemoResident

REFERENCE = date(2022, 3, 23)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SHANGHAI_AREAS = {"310101", "310104", "310105", "310106", "310107", "310108", "310109", "310110",
                  "310112", "310113", "310114", "310115"}
FLAGS = set(demo.FLAG_ORDER)


def gb11643_valid(number: str) -> bool:
    """Independent GB 11643-1999 check: weighted sum of 17 digits mod 11 picks the 18th character."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    return "10X98765432"[sum(int(d) * w for d, w in zip(number, WEIGHTS)) % 11] == number[17]


def born(r: DemoResident) -> date:
    return date(int(r.id_number[6:10]), int(r.id_number[10:12]), int(r.id_number[12:14]))


def age(r: DemoResident) -> int:
    b = born(r)
    return REFERENCE.year - b.year - ((REFERENCE.month, REFERENCE.day) < (b.month, b.day))


def households(compound: DemoCompound) -> dict[tuple[str, str, str], list[DemoResident]]:
    flats: dict[tuple[str, str, str], list[DemoResident]] = defaultdict(list)
    for r in compound.residents:
        flats[(r.building, r.entrance, r.room)].append(r)
    return flats


def flagged(residents: list[DemoResident], flag: str) -> list[DemoResident]:
    return [r for r in residents if flag in r.notes.split("、")]


@pytest.fixture(scope="module")
def yhy() -> DemoCompound:
    return demo.yinghuayuan()


@pytest.fixture(scope="module")
def over_60(yhy) -> list[DemoResident]:
    return [r for r in yhy.residents if age(r) >= 60]


# --- the account ------------------------------------------------------------------------------

def test_the_four_account_buildings_hold_exactly_86_households_and_174_residents(yhy):
    assert len(yhy.account_buildings) == 4 and "38" in yhy.account_buildings
    sealed = [r for r in yhy.residents if r.building in yhy.account_buildings]
    assert len({(r.building, r.entrance, r.room) for r in sealed}) == 86
    assert len(sealed) == 174


def test_the_account_buildings_exist_and_have_some_empty_flats(yhy):
    shapes = {b.number: b for b in yhy.buildings}
    assert set(yhy.account_buildings) <= set(shapes)
    assert sum(shapes[n].rooms for n in yhy.account_buildings) > 86


def test_yinghuayuan_is_the_taopu_compound_with_its_ids(yhy):
    assert (yhy.tenant, yhy.compound, yhy.name, yhy.town) == ("yinghuayuan", "yinghuayuan", "樱花苑", "taopu")


def test_yinghuayuan_has_about_2100_households_and_4800_residents(yhy):
    assert 1_950 <= len(households(yhy)) <= 2_250
    assert 4_500 <= len(yhy.residents) <= 5_100


def test_buildings_are_six_floor_walk_ups_with_two_entrances_and_two_doors_a_landing(yhy):
    assert all((b.kind, b.floors, b.entrances, b.doors_per_floor, b.rooms) == ("walk-up", 6, 2, 2, 24)
               for b in yhy.buildings)
    numbers = [int(b.number) for b in yhy.buildings]
    assert numbers == sorted(numbers) and numbers[0] == 1
    assert len(numbers) < numbers[-1]  # a few numbers are skipped, as in real compounds


def test_every_flat_is_a_real_room_of_its_building(yhy):
    shapes = {b.number: b for b in yhy.buildings}
    for building, entrance, room in households(yhy):
        shape = shapes[building]
        floor, door = int(room[:-2]), int(room[-2:])
        assert 1 <= int(entrance) <= shape.entrances
        assert 1 <= floor <= shape.floors and 1 <= door <= shape.doors_per_floor


def test_a_building_can_have_fewer_households_than_rooms(yhy):
    per_building = Counter(building for building, _, _ in households(yhy))
    assert all(count <= 24 for count in per_building.values())
    assert any(count < 24 for count in per_building.values())


# --- determinism ------------------------------------------------------------------------------

def test_the_same_seed_gives_identical_output(yhy):
    again = demo.yinghuayuan()
    assert again == yhy
    assert repr(again) == repr(yhy)
    assert demo.generate_compound("t", "c", "名", 800, 5) == demo.generate_compound("t", "c", "名", 800, 5)
    assert demo.generate_town("taopu", 3, 300, 9) == demo.generate_town("taopu", 3, 300, 9)


def test_a_different_seed_gives_a_different_compound_but_the_same_account_totals(yhy):
    other = demo.yinghuayuan(seed=1)
    assert other.residents != yhy.residents
    sealed = [r for r in other.residents if r.building in other.account_buildings]
    assert (len({(r.building, r.entrance, r.room) for r in sealed}), len(sealed)) == (86, 174)


def test_generation_does_not_touch_the_global_random_state():
    import random
    random.seed(123)
    expected = random.random()
    random.seed(123)
    demo.generate_compound("t", "c", "名", 200, 1)
    assert random.random() == expected


# --- identities -------------------------------------------------------------------------------

def test_every_id_number_passes_the_gb_11643_checksum(yhy):
    assert all(gb11643_valid(r.id_number) for r in yhy.residents)


def test_the_checksum_helper_rejects_a_wrong_check_character(yhy):
    number = yhy.residents[0].id_number
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert not gb11643_valid(wrong)


def test_id_numbers_are_unique_across_the_compound(yhy):
    assert len({r.id_number for r in yhy.residents}) == len(yhy.residents)


def test_id_numbers_carry_shanghai_area_codes_mostly_putuo(yhy):
    areas = Counter(r.id_number[:6] for r in yhy.residents)
    assert set(areas) <= SHANGHAI_AREAS
    assert areas["310107"] / len(yhy.residents) > 0.5


def test_sex_matches_the_17th_digit_of_the_id_number(yhy):
    assert all(r.sex == ("M" if int(r.id_number[16]) % 2 else "F") for r in yhy.residents)
    assert 0.45 < sum(r.sex == "M" for r in yhy.residents) / len(yhy.residents) < 0.55


def test_birth_dates_are_real_dates_not_after_the_reference_date(yhy):
    assert all(date(1900, 1, 1) <= born(r) <= REFERENCE for r in yhy.residents)
    assert max(age(r) for r in yhy.residents) <= 100


def test_about_a_third_of_residents_are_over_60(yhy, over_60):
    assert 0.30 <= len(over_60) / len(yhy.residents) <= 0.40
    assert 0.07 <= sum(age(r) < 15 for r in yhy.residents) / len(yhy.residents) <= 0.14


def test_phones_are_mainland_mobiles_and_only_small_children_have_none(yhy):
    for r in yhy.residents:
        if age(r) < 12:
            assert r.phone == ""
        else:
            assert re.fullmatch(r"1[3-9]\d{9}", r.phone)
    phones = [r.phone for r in yhy.residents if r.phone]
    assert len(set(phones)) == len(phones)


def test_names_are_chinese_full_names(yhy):
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", r.name) for r in yhy.residents)


def test_rows_pass_the_registrys_own_identity_checks(yhy):
    from services.registry.domain.identity import id_number_problem, parse_flags, phone_problem, sex_from_id
    for r in yhy.residents[:500]:
        assert id_number_problem(r.id_number) is None and sex_from_id(r.id_number) == r.sex
        assert r.phone == "" or phone_problem(r.phone) is None
        assert len(parse_flags(r.notes)) == len([n for n in r.notes.split("、") if n])


# --- households -------------------------------------------------------------------------------

def test_households_have_1_to_5_members_averaging_about_2_3(yhy):
    sizes = [len(members) for members in households(yhy).values()]
    assert min(sizes) == 1 and max(sizes) == 5
    assert 2.15 <= sum(sizes) / len(sizes) <= 2.45


def test_each_household_lists_exactly_one_adult_householder_first(yhy):
    for members in households(yhy).values():
        assert [m.relation for m in members].count("户主") == 1
        assert members[0].relation == "户主" and age(members[0]) >= 18
        assert all(m.relation in demo.RELATIONS for m in members)


def test_relations_to_the_householder_are_consistent_with_ages(yhy):
    for members in households(yhy).values():
        head = members[0]
        for m in members[1:]:
            gap = age(head) - age(m)
            if m.relation == "配偶":
                assert m.sex != head.sex and abs(gap) <= 10
            elif m.relation == "子女":
                assert gap >= 18
            elif m.relation == "父母":
                assert -gap >= 18
            elif m.relation == "孙子女":
                assert gap >= 36


def test_household_members_mostly_share_a_surname(yhy):
    children = [(m, members) for members in households(yhy).values()
                for m in members if m.relation in ("子女", "孙子女")]
    shared = sum(any(o is not m and o.name[0] == m.name[0] for o in members) for m, members in children)
    assert shared / len(children) >= 0.85
    couples = [members for members in households(yhy).values()
               if [m.relation for m in members][:2] == ["户主", "配偶"]]
    differs = sum(members[0].name[0] != members[1].name[0] for members in couples)
    assert differs / len(couples) > 0.5  # married women keep their own surname


# --- flags ------------------------------------------------------------------------------------

def test_notes_only_contain_known_flags_joined_with_a_dunhao(yhy):
    for r in yhy.residents:
        parts = r.notes.split("、") if r.notes else []
        assert set(parts) <= FLAGS and len(parts) == len(set(parts))
        assert parts == [f for f in demo.FLAG_ORDER if f in parts]


def test_about_8_percent_of_over_60s_live_alone_and_are_flagged(yhy, over_60):
    alone = flagged(yhy.residents, "独居老人")
    assert 0.05 <= len(alone) / len(over_60) <= 0.12
    sizes = {flat: len(members) for flat, members in households(yhy).items()}
    assert all(age(r) >= 60 and sizes[(r.building, r.entrance, r.room)] == 1 for r in alone)


def test_about_15_percent_of_over_60s_have_a_chronic_illness(over_60):
    assert 0.10 <= len(flagged(over_60, "慢性病")) / len(over_60) <= 0.20


def test_a_few_pregnant_women_all_aged_20_to_40(yhy):
    pregnant = flagged(yhy.residents, "孕妇")
    assert 3 <= len(pregnant) <= 60
    assert all(r.sex == "F" and 20 <= age(r) <= 40 for r in pregnant)


def test_exactly_the_children_under_3_are_flagged_as_infants(yhy):
    infants = flagged(yhy.residents, "婴幼儿")
    assert infants and {r.id_number for r in infants} == {r.id_number for r in yhy.residents if age(r) < 3}


def test_about_2_percent_have_a_disability(yhy):
    assert 0.01 <= len(flagged(yhy.residents, "残疾")) / len(yhy.residents) <= 0.035


# --- generated compounds and towns ------------------------------------------------------------

@pytest.mark.parametrize("size", [1, 2, 7, 50, 1_000, 12_345])
def test_generate_compound_houses_about_the_requested_number_of_residents(size):
    compound = demo.generate_compound("t", "c", "演示小区", size, size)
    assert abs(len(compound.residents) - size) <= max(1, size * 0.02)
    assert (compound.tenant, compound.compound, compound.town, compound.account_buildings) == ("t", "c", "taopu", ())


def test_an_empty_compound_has_no_buildings():
    compound = demo.generate_compound("t", "c", "名", 0, 1)
    assert compound.residents == [] and compound.buildings == []


def test_a_big_compound_adds_high_rises_of_18_to_33_floors_with_unique_ids():
    compound = demo.generate_compound("t", "c", "名", 30_000, 3)
    assert abs(len(compound.residents) - 30_000) <= 600
    high = [b for b in compound.buildings if b.kind == "high-rise"]
    assert high and all(18 <= b.floors <= 33 for b in high)
    assert len({r.id_number for r in compound.residents}) == len(compound.residents)
    used = {r.building for r in compound.residents}
    assert used == {b.number for b in compound.buildings}


def test_generate_town_ids_are_unique_across_compounds():
    town = demo.generate_town("taopu", 6, 700, 42)
    assert [c.compound for c in town] == [f"taopu-c{i:03d}" for i in range(1, 7)]
    assert all(c.tenant == c.compound and c.town == "taopu" for c in town)
    assert len({c.name for c in town}) == 6
    ids = [r.id_number for c in town for r in c.residents]
    assert len(ids) == len(set(ids))
    assert all(abs(len(c.residents) - 700) <= 14 for c in town)


def test_compounds_of_a_town_differ_from_each_other():
    first, second = demo.generate_town("taopu", 2, 300, 1)
    assert [r.name for r in first.residents] != [r.name for r in second.residents]
