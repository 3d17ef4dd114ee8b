"""Identity values: ID numbers, phones, masks and note flags."""
from __future__ import annotations

from datetime import date

import pytest

from shared.events.registry import FLAG_LABELS
from services.registry.domain.identity import (
    birth_date_from_id, id_number_problem, mask_id, mask_phone, normalize_id_number,
    normalize_phone, normalize_text, parse_flags, phone_problem, sex_from_id,
)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(first17: str) -> str:
    """A valid ID number: append the GB 11643 check character to 17 digits."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def id_with_check(check: str) -> str:
    """A valid ID number whose check character is `check`, found by varying the sequence code."""
    for seq in range(1000):
        number = make_id(f"31010119800101{seq:03d}")
        if number.endswith(check):
            return number
    raise AssertionError("unreachable")


def test_a_correct_check_digit_is_accepted():
    assert id_number_problem(make_id("31010119900307123")) is None


def test_a_wrong_check_digit_is_rejected():
    good = make_id("31010119900307123")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert id_number_problem(wrong) == "id_checksum"


def test_an_x_check_digit_is_accepted_in_either_case():
    number = id_with_check("X")
    assert id_number_problem(number) is None
    assert id_number_problem(number[:17] + "x") is None
    assert normalize_id_number(number[:17] + "x").endswith("X")


def test_an_impossible_or_future_birth_date_is_rejected():
    assert id_number_problem(make_id("31010119900230123")) == "id_birthdate"
    assert id_number_problem(make_id("31010118991231123")) == "id_birthdate"
    assert id_number_problem(make_id(f"310101{date.today().year + 1}0101123")) == "id_birthdate"


def test_wrong_length_and_letters_are_reported_distinctly():
    assert id_number_problem("31010119900307") == "id_length"
    assert id_number_problem("3101011990030712A4") == "id_format"
    assert id_number_problem("") == "id_length"


def test_full_width_digits_and_stray_spaces_are_normalised():
    number = make_id("31010119900307123")
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in number)
    messy = f"　{full_width[:6]} {full_width[6:14]}　{full_width[14:]} "
    assert normalize_id_number(messy) == number
    assert id_number_problem(messy) is None


def test_normalize_text_collapses_whitespace_and_converts_full_width():
    assert normalize_text("  ３８　号  楼 ") == "38 号 楼"
    assert normalize_text("ＡＢＣ（１）") == "ABC(1)"
    assert normalize_text(None) == ""


def test_birth_date_and_sex_come_from_the_id_number():
    male = make_id("31010119900307123")  # 17th digit 3: odd
    female = make_id("31010119900307124")
    assert birth_date_from_id(male) == date(1990, 3, 7)
    assert sex_from_id(male) == "M"
    assert sex_from_id(female) == "F"


def test_an_invalid_id_raises_without_echoing_the_number():
    good = make_id("31010119900307123")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValueError) as raised:
        sex_from_id(wrong)
    assert wrong[:10] not in str(raised.value)


def test_a_phone_with_plus_86_and_spaces_is_accepted():
    assert normalize_phone("+86 138 1234 5678") == "13812345678"
    assert normalize_phone("0086-138-1234-5678") == "13812345678"
    assert normalize_phone("８６１３８１２３４５６７８") == "13812345678"
    assert phone_problem("+86 138 1234 5678") is None


def test_a_landline_with_area_code_is_accepted():
    assert phone_problem("(021) 6234-5678") is None
    assert phone_problem("0571-87654321") is None


def test_malformed_phones_are_rejected():
    assert phone_problem("12812345678") == "phone_format"
    assert phone_problem("1381234567") == "phone_format"
    assert phone_problem("62345678") == "phone_format"


def test_an_id_mask_keeps_region_and_last_four():
    number = make_id("31010119900307123")
    assert mask_id(number) == "310101********" + number[-4:]
    assert mask_id("") == ""


def test_a_phone_mask_keeps_prefix_and_last_digits():
    assert mask_phone("+86 138 1234 5678") == "138****5678"
    assert mask_phone("021-62345678") == "021******78"
    assert mask_phone("0571-87654321") == "0571******21"
    assert mask_phone("") == ""


def test_flags_come_from_simplified_traditional_and_english_notes():
    assert parse_flags("独居老人，慢性病") == ("chronic_illness", "elderly_alone")
    assert parse_flags("獨居老人；孕婦；嬰幼兒；殘疾") == ("disability", "elderly_alone", "infant", "pregnant")
    assert parse_flags("Pregnant, disabled; chronic asthma") == ("chronic_illness", "disability", "pregnant")
    assert parse_flags("孕妇 pregnant") == ("pregnant",)
    assert parse_flags("") == ()


def test_every_flag_has_a_label():
    assert set(FLAG_LABELS) == set(parse_flags("独居老人 慢性病 孕妇 婴幼儿 残疾"))
