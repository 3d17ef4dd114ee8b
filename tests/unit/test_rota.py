"""Duty rota generation: pairs, one day on, one day off, fair, within availability. No I/O."""
import random
from datetime import date, timedelta

import pytest

from services.roster.domain.rota import Assignment, Gap, Person, Post, check_swap, coverage_gaps, generate

D1 = date(2022, 4, 1)
SHIFTS = ("08:30-12:30", "13:00-17:00")
AM, PM = SHIFTS


def day(n: int) -> date:
    """Day n of the plan, counting from 1."""
    return D1 + timedelta(days=n - 1)


def pool(n: int, **kw) -> list[Person]:
    return [Person(f"p{i:02}", f"志愿者{i}", "party_volunteer", order=i, **kw) for i in range(n)]


def post(post_id="A", first=1, last=14, shifts=SHIFTS) -> Post:
    return Post(post_id, "38", day(first), day(last), shifts)


def plan(posts, people, first=1, last=14, **kw):
    return generate(posts, people, start=day(first), end=day(last), **kw)


def pairs_by_day(result, post_id="A") -> dict[int, tuple[str, ...]]:
    return {(a.day - D1).days + 1: a.people for a in result.assignments if a.post_id == post_id and a.shift == AM}


def working_days(result, person_id) -> list[date]:
    return sorted({a.day for a in result.assignments if person_id in a.people})


def assert_hard_rules(result, posts, people, start, end, last_worked=None):
    by_id = {p.person_id: p for p in people}
    posts_by_id = {p.post_id: p for p in posts}
    seen = {}
    for a in result.assignments:
        assert len(a.people) <= 2 and len(set(a.people)) == len(a.people)
        assert all(by_id[p].available_on(a.day) for p in a.people)
        for p in a.people:
            assert seen.setdefault((p, a.day), a.post_id) == a.post_id, "one person on two posts the same day"
    for post_ in posts:
        for d in post_.days():
            if start <= d <= end:
                day_people = {a.people for a in result.assignments if a.post_id == post_.post_id and a.day == d}
                assert len(day_people) == 1, "the same pair on every shift of a day"
    for person in people:
        days = working_days(result, person.person_id)
        if last_worked and person.person_id in last_worked:
            days = [last_worked[person.person_id], *days]
        assert all((b - a).days > 1 for a, b in zip(days, days[1:])), "two days running"
    expected = [Gap(a.post_id, a.day, a.shift, len(a.people)) for a in result.assignments if len(a.people) < 2]
    assert list(result.gaps) == expected
    planned = {(a.post_id, a.day, a.shift) for a in result.assignments}
    assert planned == {(p.post_id, d, s) for p in posts_by_id.values() for d in p.days() if start <= d <= end
                       for s in p.shifts}


# ---- pairs -------------------------------------------------------------------------------------------------------

def test_four_people_make_two_fixed_pairs_alternating_days():
    result = plan([post()], pool(4))
    assert pairs_by_day(result) == {n: ("p00", "p01") if n % 2 else ("p02", "p03") for n in range(1, 15)}
    assert result.days_worked() == {"p00": 7, "p01": 7, "p02": 7, "p03": 7}
    assert result.gaps == ()


def test_a_pair_works_every_shift_of_its_day():
    shifts = ("07:00-08:30", "08:30-12:30", "13:00-17:00")
    result = plan([post(shifts=shifts)], pool(4))
    for n in range(1, 15):
        today = [a for a in result.assignments if a.day == day(n)]
        assert [a.shift for a in today] == list(shifts)
        assert len({a.people for a in today}) == 1 and len(today[0].people) == 2


def test_a_partner_from_before_the_plan_stays_the_partner():
    result = plan([post()], pool(4), last_partner={"p00": "p02", "p02": "p00", "p01": "p03", "p03": "p01"})
    assert pairs_by_day(result)[1] == ("p00", "p02") and pairs_by_day(result)[2] == ("p01", "p03")


def test_assignments_are_sorted_by_day_post_and_shift_order():
    shifts = ("13:00-17:00", "08:30-12:30")  # the post's own order, not alphabetical
    result = plan([post("B", shifts=shifts), post("A", shifts=shifts)], pool(8), last=2)
    keys = [(a.day, a.post_id, a.shift) for a in result.assignments]
    assert keys == [(day(n), p, s) for n in (1, 2) for p in ("A", "B") for s in shifts]


# ---- never two places at once, one day on one day off ----------------------------------------------------------

def test_nobody_is_on_two_posts_the_same_day():
    people = pool(13)
    result = plan([post("A"), post("B")], people)
    for n in range(1, 15):
        a_people, b_people = set(pairs_by_day(result, "A")[n]), set(pairs_by_day(result, "B")[n])
        assert len(a_people) == len(b_people) == 2 and not a_people & b_people
        assert set(result.on(day(n))) == a_people | b_people
    assert result.gaps == ()
    assert_hard_rules(result, [post("A"), post("B")], people, day(1), day(14))


def test_nobody_works_two_days_running():
    people = pool(13)
    result = plan([post("A"), post("B")], people)
    for person in people:
        days = working_days(result, person.person_id)
        assert all((b - a).days >= 2 for a, b in zip(days, days[1:]))


def test_whoever_worked_the_day_before_the_plan_rests_on_its_first_day():
    result = plan([post()], pool(4), last_worked={"p00": day(0), "p01": day(0)})
    assert pairs_by_day(result)[1] == ("p02", "p03") and pairs_by_day(result)[2] == ("p00", "p01")


def test_a_kept_day_gives_that_person_a_rest_day_before_and_after():
    kept = [Assignment("B", day(3), s, ("p00", "p01")) for s in SHIFTS]
    result = plan([post()], pool(4), kept=kept)
    for n in (2, 4):
        assert not {"p00", "p01"} & set(pairs_by_day(result)[n])
    assert "p00" not in pairs_by_day(result)[3] and result.on(day(3))["p00"] == "B"


# ---- availability ----------------------------------------------------------------------------------------------

def test_unavailable_days_are_respected():
    people = pool(6)
    people[0] = Person("p00", "志愿者0", "party_volunteer", unavailable=frozenset({day(1), day(5)}))
    result = plan([post()], people)
    assert day(1) not in working_days(result, "p00") and day(5) not in working_days(result, "p00")
    assert working_days(result, "p00")  # still on the rota on other days


def test_available_from_and_until_are_inclusive():
    people = pool(4) + [Person("late", "迟到", "reinforcement", available_from=day(5), available_until=day(9))]
    result = plan([post()], people, worked_before={p.person_id: 9 for p in pool(4)})
    assert working_days(result, "late") == [day(5), day(7), day(9)]


# ---- fairness --------------------------------------------------------------------------------------------------

def test_thirteen_people_on_two_posts_work_within_one_day_of_each_other():
    people = pool(13)
    worked = plan([post("A"), post("B")], people).days_worked()
    counts = [worked.get(p.person_id, 0) for p in people]
    assert sum(counts) == 14 * 4 and max(counts) - min(counts) <= 1


def test_someone_with_five_days_already_worked_is_chosen_less():
    people = pool(13)
    worked = plan([post("A"), post("B")], people, worked_before={"p00": 5}).days_worked()
    others = [worked.get(p.person_id, 0) for p in people[1:]]
    assert worked.get("p00", 0) < min(others)


@pytest.mark.parametrize("posts", [1, 2, 3])
def test_over_sixty_days_everyone_equally_available_works_within_one_day_of_each_other(posts):
    for size in range(4 * posts, 4 * posts + 10):
        people = pool(size)
        result = plan([post(f"P{i}", last=60) for i in range(posts)], people, last=60)
        counts = [result.days_worked().get(p.person_id, 0) for p in people]
        assert max(counts) - min(counts) <= 1 and result.gaps == (), size


# ---- gaps ------------------------------------------------------------------------------------------------------

def test_three_people_on_one_post_leave_one_person_alone_every_other_day():
    result = plan([post()], pool(3))
    assert pairs_by_day(result) == {n: ("p00", "p01") if n % 2 else ("p02",) for n in range(1, 15)}
    assert list(result.gaps) == [Gap("A", day(n), s, 1) for n in range(2, 15, 2) for s in SHIFTS]
    assert result.days_worked() == {"p00": 7, "p01": 7, "p02": 7}


def test_a_day_with_nobody_eligible_gets_an_empty_assignment_and_a_gap_per_shift():
    result = plan([post(last=1)], pool(2), last=1, last_worked={"p00": day(0), "p01": day(0)})
    assert [(a.shift, a.people) for a in result.assignments] == [(AM, ()), (PM, ())]
    assert list(result.gaps) == [Gap("A", day(1), AM, 0), Gap("A", day(1), PM, 0)]


def test_two_posts_short_of_people_get_one_person_each_before_either_gets_two():
    result = plan([post("A", last=1), post("B", last=1)], pool(2), last=1)
    assert result.on(day(1)) == {"p00": "A", "p01": "B"}
    assert len(result.gaps) == 4 and {g.have for g in result.gaps} == {1}


def test_coverage_gaps_lists_every_assignment_with_fewer_than_two_people():
    assignments = [Assignment("A", day(1), AM, ("p00", "p01")), Assignment("A", day(1), PM, ("p00",)),
                   Assignment("B", day(1), AM, ())]
    assert coverage_gaps(assignments) == [Gap("A", day(1), PM, 1), Gap("B", day(1), AM, 0)]


def test_posts_are_planned_only_within_their_own_dates_and_the_plans():
    result = plan([post("A", first=3, last=20), post("B", first=1, last=2)], pool(8), first=2, last=5)
    assert sorted({(a.post_id, a.day) for a in result.assignments}) == [
        ("A", day(3)), ("A", day(4)), ("A", day(5)), ("B", day(2))]


# ---- kept assignments ------------------------------------------------------------------------------------------

def test_kept_assignments_stay_as_they_are_and_count_for_fairness():
    kept = [Assignment("A", day(1), s, ("p03", "p02")) for s in SHIFTS]
    result = plan([post()], pool(4), kept=kept)
    assert [a for a in result.assignments if a.day == day(1)] == kept
    assert pairs_by_day(result) == {1: ("p03", "p02")} | {
        n: ("p02", "p03") if n % 2 else ("p00", "p01") for n in range(2, 15)}
    assert result.days_worked() == {"p00": 7, "p01": 7, "p02": 7, "p03": 7}


def test_kept_days_before_the_plan_count_for_rest_and_partners_but_are_not_in_it():
    kept = [Assignment("A", day(0), s, ("p00", "p03")) for s in SHIFTS]
    result = plan([post()], pool(4), kept=kept)
    assert all(a.day >= day(1) for a in result.assignments)
    assert pairs_by_day(result)[1] == ("p01", "p02") and pairs_by_day(result)[2] == ("p00", "p03")


def test_a_partly_kept_day_gives_its_other_shifts_the_kept_people():
    kept = [Assignment("A", day(2), PM, ("p00", "p03"))]
    result = plan([post(last=2)], pool(4), last=2, kept=kept)
    assert [(a.day, a.shift, a.people) for a in result.assignments] == [
        (day(1), AM, ("p01", "p02")), (day(1), PM, ("p01", "p02")), (day(2), AM, ("p00", "p03")),
        (day(2), PM, ("p00", "p03"))]


def test_the_same_input_gives_the_same_plan():
    people = pool(9, unavailable=frozenset({day(4)}))
    args = ([post("B"), post("A", first=3)], people)
    kw = {"worked_before": {"p04": 2}, "last_worked": {"p05": day(0)}, "last_partner": {"p01": "p07"},
          "kept": [Assignment("A", day(6), AM, ("p08",))]}
    assert plan(*args, **kw) == plan(*args, **kw)
    assert plan(*args, **kw) == plan(list(reversed(args[0])), list(reversed(people)), **kw)


# ---- the hard rules on random pools ----------------------------------------------------------------------------

def test_random_pools_and_availabilities_never_break_a_hard_rule():
    rng = random.Random(20220401)
    for _ in range(300):
        people = []
        for i in range(rng.randint(0, 14)):
            first = day(rng.randint(-3, 10)) if rng.random() < 0.3 else None
            until = day(rng.randint(3, 20)) if rng.random() < 0.3 else None
            off = frozenset(day(rng.randint(1, 16)) for _ in range(rng.randint(0, 4)))
            people.append(Person(f"p{i:02}", "", rng.choice(["party_volunteer", "committee_cadre"]), first, until,
                                 off, order=rng.randint(0, 5)))
        posts = [post(f"P{i}", first=rng.randint(1, 6), last=rng.randint(6, 18),
                      shifts=SHIFTS[:rng.randint(1, 2)]) for i in range(rng.randint(1, 3))]
        ids = [p.person_id for p in people]
        last_worked = {p: day(rng.randint(-2, 0)) for p in ids if rng.random() < 0.3}
        last_partner = {p: rng.choice(ids) for p in ids if rng.random() < 0.3}
        worked_before = {p: rng.randint(0, 6) for p in ids if rng.random() < 0.3}
        start, end = day(rng.randint(1, 4)), day(rng.randint(4, 16))
        result = generate(posts, people, start=start, end=end, last_worked=last_worked, last_partner=last_partner,
                          worked_before=worked_before)
        assert_hard_rules(result, posts, people, start, end, last_worked)


# ---- manual swaps ----------------------------------------------------------------------------------------------

def swap_rota():
    """p00+p01 on A on day 1 and 3, p02+p03 on A on day 2, p04+p05 on B on day 2."""
    assignments = [Assignment("A", day(n), s, ("p00", "p01")) for n in (1, 3) for s in SHIFTS]
    assignments += [Assignment("A", day(2), s, ("p02", "p03")) for s in SHIFTS]
    assignments += [Assignment("B", day(2), s, ("p04", "p05")) for s in SHIFTS]
    people = {p.person_id: p for p in pool(8)}
    people["p07"] = Person("p07", "请假", "party_volunteer", unavailable=frozenset({day(2)}))
    return assignments, people


def swap(shift=AM, out="p02", into="p06", n=2, post_id="A"):
    assignments, people = swap_rota()
    return check_swap(assignments, people, post_id=post_id, day=day(n), shift=shift, out_person=out, in_person=into)


def test_a_swap_with_a_rested_available_person_is_allowed():
    assert swap() == ([], [])
    assert swap(shift=None) == ([], [])


@pytest.mark.parametrize(("kw", "problems"), [
    ({"out": "p02", "into": "p02"}, ["same_person"]),
    ({"out": "p04"}, ["not_assigned"]),
    ({"shift": "19:00-21:00"}, ["not_assigned"]),
    ({"n": 4, "shift": None}, ["not_assigned"]),
    ({"into": "nobody"}, ["unknown_person"]),
    ({"into": "p07"}, ["unavailable"]),
    ({"into": "p04"}, ["double_booked"]),
    ({"into": "p03"}, ["double_booked"]),
    ({"out": "p04", "into": "p07"}, ["not_assigned", "unavailable"]),
])
def test_a_swap_reports_each_problem(kw, problems):
    assert swap(**kw)[0] == problems


def test_a_swap_onto_the_day_after_someone_worked_is_allowed_with_a_no_rest_day_warning():
    assert swap(into="p00") == ([], ["no_rest_day"])
    assert swap(into="p04", n=1, out="p00", post_id="A") == ([], ["no_rest_day"])
