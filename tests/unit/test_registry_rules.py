"""Registry rules: given events, when a command, then events or a clear error. No I/O."""
from datetime import datetime, timezone

import pytest

from services.registry.domain import model
from services.registry.domain.model import State
from shared.commands import registry as c
from shared.errors import DomainError
from shared.events import registry as e

NOW = datetime(2022, 3, 23, 21, 0, tzinfo=timezone.utc)
BASE = {"command_id": "cmd-00000001", "tenant": "yinghuayuan", "compound": "yinghuayuan", "actor": "cadre-gao"}


def given(*events) -> State:
    state = State()
    for event in events:
        model.apply(state, event)
    return state


def compound() -> State:
    return given(e.CompoundRegistered(compound="yinghuayuan", name="樱花苑", town="taopu", registered_by="x",
                                      registered_at=NOW))


def building() -> State:
    return given(e.BuildingRegistered(building="38", entrances=2, floors=6, registered_by="x", registered_at=NOW))


def household(hh="38-1-302") -> State:
    return given(e.HouseholdRegistered(household_id=hh, building="38", entrance="1", room="302", floor=3,
                                       registered_by="x", registered_at=NOW))


def register(hh="38-1-302", **kw) -> c.RegisterResident:
    fields = dict(resident_id="r1", household_id=hh, full_name="张三", sex="M", birth_year=1950, id_hash="h",
                  id_number_sealed="v1:x", id_mask="310107********0012", phone_mask="138****5678", flags=("infant",))
    return c.RegisterResident(**BASE, **{**fields, **kw})


def resident(hh="38-1-302") -> State:
    return given(*model.register_resident(household(hh), State(), register(hh), NOW))


def test_a_building_of_an_unregistered_compound_is_refused_naming_the_compound():
    with pytest.raises(DomainError) as caught:
        model.register_building(State(), State(), c.RegisterBuilding(**BASE, building="38", entrances=2, floors=6), NOW)
    assert caught.value.problem.field == "compound" and "不存在" in caught.value.problem.message_zh


def test_registering_a_building_twice_changes_nothing():
    cmd = c.RegisterBuilding(**BASE, building="38", entrances=2, floors=6)
    assert model.register_building(compound(), building(), cmd, NOW) == []


def test_a_household_takes_its_floor_from_the_room_number():
    [event] = model.register_household(building(), State(), c.RegisterHousehold(**BASE, building="38", entrance="2",
                                                                                 room="1502"), NOW)
    assert (event.household_id, event.floor) == ("38-2-1502", 15)


def test_a_resident_needs_a_registered_household():
    with pytest.raises(DomainError) as caught:
        model.register_resident(State(), State(), register(), NOW)
    assert caught.value.problem.code == "household_id_unknown"


def test_the_same_person_in_the_same_household_is_not_registered_twice():
    assert model.register_resident(household(), resident(), register(), NOW) == []


def test_the_same_person_in_another_household_is_refused_without_showing_the_id_number():
    with pytest.raises(DomainError) as caught:
        model.register_resident(household("38-1-101"), resident(), register("38-1-101"), NOW)
    problem = caught.value.problem
    assert problem.code == "resident_exists" and problem.field == "id_number"
    assert "0012" not in problem.message_en and "0012" not in problem.message_zh


def test_an_update_records_only_what_changed():
    cmd = c.UpdateResident(**BASE, resident_id="r1", full_name="张三", relation="户主")
    [event] = model.update_resident(resident(), None, cmd, NOW)
    assert event.relation == "户主" and event.name is None and event.household_id is None


def test_an_update_that_changes_nothing_yields_no_event():
    assert model.update_resident(resident(), None, c.UpdateResident(**BASE, resident_id="r1", full_name="张三"), NOW) == []


def test_a_moved_out_resident_cannot_be_verified():
    state = resident()
    model.apply(state, e.ResidentMovedOut(resident_id="r1", reason="搬家", moved_out_by="x", moved_out_at=NOW))
    with pytest.raises(DomainError) as caught:
        model.verify(state, c.VerifyResident(**BASE, resident_id="r1"), NOW)
    assert caught.value.problem.code == "resident_moved_out"


def test_a_door_to_door_check_is_recorded_with_who_and_when():
    [event] = model.verify(resident(), c.VerifyResident(**BASE, resident_id="r1", note="核对无误"), NOW)
    assert (event.verified_by, event.verified_at, event.note) == ("cadre-gao", NOW, "核对无误")


def test_an_erased_resident_is_erased_once_and_cannot_be_updated():
    state = resident()
    [event] = model.erase(state, c.EraseResident(**BASE, resident_id="r1", reason="管控结束"), NOW)
    model.apply(state, event)
    assert model.erase(state, c.EraseResident(**BASE, resident_id="r1", reason="again"), NOW) == []
    with pytest.raises(DomainError):
        model.update_resident(state, None, c.UpdateResident(**BASE, resident_id="r1", full_name="李四"), NOW)


def test_a_cadre_assignment_to_the_same_cadre_changes_nothing():
    cmd = c.AssignBuildingCadre(**BASE, building="38", cadre_id="cadre-gao", cadre_name="高莹")
    state = building()
    [event] = model.assign_cadre(state, cmd, NOW)
    model.apply(state, event)
    assert model.assign_cadre(state, cmd, NOW) == []


def test_building_numbers_that_are_not_subject_tokens_are_hashed_stably():
    assert model.slug("38") == "38"
    assert model.slug("三十八") == model.slug("三十八") and model.slug("三十八").startswith("x")
