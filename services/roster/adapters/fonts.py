"""The font a roster is printed in — Noto Sans CJK SC, found through fontconfig — what it can print
and how wide it prints it (advance widths from the same file Pango uses).

Characters the font does not have (a rare given-name character such as U+2B81D, a private-use
character) would print as a box or in some other font: `unprintable()` finds them, and `Printable`
turns them into a visible "[U+2B81D]" and remembers where they were, so that a printed page can
list them for a cadre to write in by hand."""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

FONT_FAMILY = "Noto Sans CJK SC"
_DEFAULT_FONT_FILES = {False: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                       True: "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"}


# ---- the font: what it can print and how wide it prints it -------------------------------------

class FontMissing(RuntimeError):
    """Noto Sans CJK SC is not installed: printing would fall back to boxes or another font."""


@dataclass(frozen=True)
class Face:
    path: str
    index: int
    advances: dict[int, float]  # code point -> advance in em
    by_char: dict[str, float]   # the same, keyed by the character

    def width(self, text: str) -> float:
        try:
            return sum(map(self.by_char.__getitem__, text))
        except KeyError:  # a character the font lacks: counted as 1 em (it is printed as [U+XXXX])
            adv = self.advances
            return sum(adv.get(ord(ch), 1.0) for ch in text)


def _font_file(bold: bool) -> tuple[str, int]:
    """Where fontconfig finds Noto Sans CJK SC (the same file Pango will use)."""
    if shutil.which("fc-match"):
        pattern = f"{FONT_FAMILY}:weight={'bold' if bold else 'regular'}"
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}|%{index}|%{family}", pattern], capture_output=True,
                                 text=True, timeout=10, check=True).stdout
            path, index, family = out.split("|", 2)
            if FONT_FAMILY in family.split(","):
                return path, int(index)
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    path = _DEFAULT_FONT_FILES[bold]
    if Path(path).exists():
        return path, -1
    raise FontMissing(f"字体 {FONT_FAMILY} 未安装，无法打印中文 — install fonts-noto-cjk "
                      f"(deploy/system-packages.sh)")


@functools.cache
def _font_tables(bold: bool) -> tuple[str, int, dict[int, str], dict[str, int], int]:
    """(path, face index, cmap: code point -> glyph name, advances: glyph name -> units, units per em)."""
    from fontTools.ttLib import TTCollection, TTFont

    path, index = _font_file(bold)
    if index < 0:  # no fontconfig: look for the face by name in the collection
        with TTCollection(path, lazy=True) as collection:
            names = [f["name"].getDebugName(1) for f in collection.fonts]
        if FONT_FAMILY not in names:
            raise FontMissing(f"{path} has no face named {FONT_FAMILY}")
        index = names.index(FONT_FAMILY)
    font = TTFont(path, fontNumber=index, lazy=True)
    try:
        advances = {glyph: width for glyph, (width, _) in font["hmtx"].metrics.items()}
        upem = font["head"].unitsPerEm
        cmap = None
        if bold:
            # The weights of Noto Sans CJK share one glyph set (the same CIDs): the bold face can
            # use the regular face's character map, which saves parsing a second 44,000-entry cmap.
            regular = _font_tables(False)[2]
            if all(glyph in advances for glyph in regular.values()):
                cmap = regular
        return path, index, cmap or font.getBestCmap(), advances, upem
    finally:
        font.close()


@functools.cache
def face(bold: bool = False) -> Face:
    path, index, cmap, advances, upem = _font_tables(bold)
    by_code = {cp: advances[glyph] / upem for cp, glyph in cmap.items()}
    return Face(path, index, by_code, {chr(cp): a for cp, a in by_code.items()})


_LAYOUT_WHITESPACE = frozenset("\t\n\r")


def unprintable(text: str) -> set[str]:
    """The characters of `text` that Noto Sans CJK SC has no glyph for (they would print as a box,
    or in another font). Tabs and line breaks are layout, not characters, and are never reported."""
    advances = face(False).advances
    return {ch for ch in set(text) if ord(ch) not in advances and ch not in _LAYOUT_WHITESPACE}


@dataclass(frozen=True)
class UnprintableChar:
    char: str
    where: str  # as printed, e.g. "1-301 王[U+2B81D]英" or "包干干部"

    @property
    def code(self) -> str:
        return f"U+{ord(self.char):04X}"


class Printable:
    """Makes text safe to print: characters the font lacks become a visible "[U+XXXX]" and are
    remembered with where they were, whitespace that would break the tab layout becomes a space."""

    _CONTROL = re.compile(r"[\t\n\r\x0b\x0c]")

    def __init__(self) -> None:
        self.advances = face(False).advances
        self.found: list[UnprintableChar] = []

    def __call__(self, text: str, where: str = "") -> str:
        text = self._CONTROL.sub(" ", text)
        adv = self.advances
        if all(ord(ch) in adv for ch in text):
            return text
        shown = self.substitute(where or text)
        for ch in text:
            if ord(ch) not in adv:
                self.found.append(UnprintableChar(ch, shown))
        return self.substitute(text)

    def substitute(self, text: str) -> str:
        adv = self.advances
        return "".join(ch if ord(ch) in adv else f"[U+{ord(ch):04X}]" for ch in self._CONTROL.sub(" ", text))
