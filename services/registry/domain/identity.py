"""Identity values of residents: text, PRC ID numbers (GB 11643-1999), phones, masks and note flags.

Pure functions only. Nothing here ever echoes an ID number or phone into an exception message,
because these strings end up in logs and in error reports shown to other cadres.
"""
from __future__ import annotations

import re
from datetime import date

# Full-width ASCII block (U+FF01–U+FF5E) sits exactly 0xFEE0 above ASCII; U+3000 is the
# ideographic space that Chinese IMEs type between fields.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"\d{17}[\dX]")
_EARLIEST_BIRTH = date(1900, 1, 1)

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}\d{7,8}")
_COUNTRY_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=1[3-9]\d{9}$)")
_PHONE_PUNCTUATION = re.compile(r"[\s\-()]")


def normalize_text(s: str | None) -> str:
    """Full-width → half-width, trim, and collapse inner whitespace runs to one space."""
    if s is None:
        return ""
    return " ".join(str(s).translate(_HALF_WIDTH).split())


def normalize_id_number(s: str | None) -> str:
    """Canonical form of an ID number: half-width, no spaces, upper-case check character."""
    text = normalize_text(s).replace(" ", "")
    if text.endswith("x"):
        text = text[:-1] + "X"
    return text


def _check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11]


def _birth_date(number: str) -> date | None:
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if _EARLIEST_BIRTH <= born <= date.today() else None


def id_number_problem(s: str | None) -> str | None:
    """None if `s` is a valid 18-character ID number, else one of the id_* error codes."""
    number = normalize_id_number(s)
    if len(number) != 18:
        return "id_length"
    if not _ID_SHAPE.fullmatch(number):
        return "id_format"
    if _birth_date(number) is None:
        return "id_birthdate"
    if _check_char(number[:17]) != number[17]:
        return "id_checksum"
    return None


def _require_valid(s: str | None) -> str:
    number = normalize_id_number(s)
    problem = id_number_problem(number)
    if problem:
        # The code, never the value: exception texts reach logs.
        raise ValueError(f"invalid ID number ({problem})")
    return number


def birth_date_from_id(s: str) -> date:
    """Birth date encoded in a valid ID number; ValueError otherwise."""
    born = _birth_date(_require_valid(s))
    assert born is not None  # guaranteed by _require_valid
    return born


def sex_from_id(s: str) -> str:
    """'M' when the 17th digit (sequence code) is odd, else 'F'; ValueError for invalid IDs."""
    return "M" if int(_require_valid(s)[16]) % 2 else "F"


def normalize_phone(s: str | None) -> str:
    """Half-width digits without separators, and without a +86/0086/86 prefix on mobiles."""
    text = _PHONE_PUNCTUATION.sub("", normalize_text(s))
    return _COUNTRY_PREFIX.sub("", text)


def phone_problem(s: str | None) -> str | None:
    """None for a mainland mobile or a landline with area code, else 'phone_format'."""
    phone = normalize_phone(s)
    if _MOBILE.fullmatch(phone) or _LANDLINE.fullmatch(phone):
        return None
    return "phone_format"


def mask_id(s: str | None) -> str:
    """First 6 (region) + 8 stars + last 4, e.g. 310101********1234."""
    number = normalize_id_number(s)
    if len(number) < 10:
        return "*" * len(number)  # too short to show anything without revealing most of it
    return number[:6] + "*" * 8 + number[-4:]


def _area_code_length(phone: str) -> int:
    # Beijing 010 and the 02x cities have 3-digit area codes; all others have 4.
    return 3 if phone[:2] in ("01", "02") else 4


def mask_phone(s: str | None) -> str:
    """Mobile: 138****5678; landline: area code + stars + last 2; empty stays empty."""
    phone = normalize_phone(s)
    if _MOBILE.fullmatch(phone):
        return phone[:3] + "****" + phone[-4:]
    if _LANDLINE.fullmatch(phone):
        keep = _area_code_length(phone)
        return phone[:keep] + "*" * (len(phone) - keep - 2) + phone[-2:]
    if len(phone) <= 2:
        return "*" * len(phone)
    return "*" * (len(phone) - 2) + phone[-2:]


# Keywords cadres write in the notes column, simplified, traditional and English (matched
# case-insensitively as substrings, so "disab" covers disabled/disability).
FLAGS: dict[str, str] = {
    "独居老人": "elderly_alone",
    "獨居老人": "elderly_alone",
    "elderly living alone": "elderly_alone",
    "慢性病": "chronic_illness",
    "chronic": "chronic_illness",
    "孕妇": "pregnant",
    "孕婦": "pregnant",
    "pregnant": "pregnant",
    "婴幼儿": "infant",
    "嬰幼兒": "infant",
    "infant": "infant",
    "残疾": "disability",
    "殘疾": "disability",
    "disab": "disability",
}

def parse_flags(notes: str | None) -> tuple[str, ...]:
    """Sorted, unique flag codes whose keywords appear in the notes."""
    text = normalize_text(notes).lower()
    return tuple(sorted({code for keyword, code in FLAGS.items() if keyword in text}))
