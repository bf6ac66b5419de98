"""The captions' font: which family libass is asked for (`caption_font`), how wide a text is in
it, from its file's advance widths, and how many rows libass wraps a text into (where captions
are placed over a stacked layout depends on how tall they are).

Read with fontTools (hmtx, OS/2 and cmap of a .ttf, .otf or .ttc). libass sizes a font so that
its Windows ascent plus descent (OS/2) is the font size, which is also one row's height. Kerning is left out: it only narrows
text, so a width measured here is never short of what libass draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")

# Fonts tried in order: shipped with the project, then the Debian packages the Makefile installs.
# Noto Sans CJK also covers Latin, Greek and Cyrillic, so one family serves every transcript.
FONT_CANDIDATES = (
    (Path(__file__).with_name("fonts"), None),
    (Path("/usr/share/fonts/opentype/noto"), "Noto Sans CJK {variant}"),
    (Path("/usr/share/fonts/truetype/dejavu"), "DejaVu Sans"),
)
CJK_VARIANTS = {"ja": "JP", "ko": "KR", "zh": "SC", "yue": "TC"}
# Right-to-left scripts: Noto Sans CJK has no Arabic or Hebrew letters, DejaVu Sans has both, and
# libass (with FriBidi and HarfBuzz) orders and joins them. Lines there are shown whole, without
# per-word colour runs that would cut the bidirectional text into pieces.
RTL_LANGUAGES = {"ar", "fa", "he", "ur", "yi", "ps", "sd", "ug"}
RTL_FONT = (Path("/usr/share/fonts/truetype/dejavu"), "DejaVu Sans")


@dataclass(frozen=True)
class CaptionFont:
    name: str                  # the family name libass asks for
    directory: Path | None     # handed to libass as fontsdir


def base_language(language: str | None) -> str:
    return (language or "").split("-")[0].lower()


def is_rtl(language: str | None) -> bool:
    return base_language(language) in RTL_LANGUAGES


def caption_font(language: str = "en") -> CaptionFont:
    """The first available font family, with the CJK variant that suits the language."""
    if is_rtl(language) and RTL_FONT[0].is_dir():
        return CaptionFont(RTL_FONT[1], RTL_FONT[0])
    variant = CJK_VARIANTS.get(base_language(language), "SC")
    for directory, name in FONT_CANDIDATES:
        if not directory.is_dir():
            continue
        if name is None:
            shipped = sorted(p for p in directory.iterdir() if p.suffix.lower() in FONT_SUFFIXES)
            if shipped:
                return CaptionFont(_family_of(shipped[0]), directory)
            continue
        if any(directory.iterdir()):
            return CaptionFont(name.format(variant=variant), directory)
    return CaptionFont("Sans", None)       # fontconfig's default; may lack CJK glyphs


def _family_of(font_file: Path) -> str:
    return font_file.stem.split("-")[0]


@dataclass(frozen=True)
class FontMetrics:
    line_units: int                 # the Windows ascent plus descent: one row, in font units
    advances: dict[int, int]        # code point -> advance width, in font units
    missing_advance: int            # the advance of glyph 0, drawn for a code point the font lacks

    def width(self, text: str, size: float) -> float:
        """The pen's travel over `text` at font size `size`, in pixels."""
        units = sum(self.advances.get(ord(ch), self.missing_advance) for ch in text)
        return units * size / self.line_units


@lru_cache(maxsize=8)
def font_metrics(path: Path) -> FontMetrics | None:
    """The metrics of a font file (the first font of a collection: the Latin and CJK advances
    of Noto Sans CJK's language variants are the same); None when it cannot be read."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        # Closed here: a TTFont's tables refer back to it, so left to the garbage collector its
        # open file would be closed at some later collection (a ResourceWarning, anywhere).
        with TTFont(str(path), fontNumber=0, lazy=True) as font:
            widths = dict(font["hmtx"].metrics)
            glyphs = font.getBestCmap() or {}
            os2 = font["OS/2"]
            line_units = os2.usWinAscent + os2.usWinDescent
            missing = widths[font.getGlyphOrder()[0]][0]
    except (OSError, KeyError, IndexError, TTLibError, AssertionError):
        return None
    if not glyphs or line_units <= 0:
        return None
    advances = {cp: widths[name][0] for cp, name in glyphs.items() if name in widths}
    return FontMetrics(line_units, advances, missing)


@lru_cache(maxsize=8)
def bold_font_file(family: str, directory: Path | None) -> Path | None:
    """The bold file libass finds for `family` in `directory` (the captions are bold): the file
    whose name starts with the family's name without spaces (and without a 'CJK SC'-like variant
    suffix beyond 'CJK'), bold preferred; None when there is none."""
    if directory is None or not directory.is_dir():
        return None
    words = family.split()
    stem = "".join(words[: words.index("CJK") + 1] if "CJK" in words else words).lower()
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in FONT_SUFFIXES
                   and p.stem.lower().split("-")[0] == stem)
    bold = [p for p in files if p.stem.lower().endswith("-bold")]
    return (bold or files or [None])[0]


def wrapped_rows(text: str, metrics: FontMetrics, size: float, max_width: float) -> int:
    """How many rows libass wraps `text` into: a greedy break at spaces (libass's smart wrapping
    evens the rows out afterwards but keeps their number); text without spaces (CJK) breaks
    between characters."""
    pieces = text.split(" ") if " " in text.strip() else list(text)
    joiner = " " if " " in text.strip() else ""
    rows, current = 1, ""
    for piece in pieces:
        candidate = current + joiner + piece if current else piece
        if current and metrics.width(candidate, size) > max_width:
            rows, current = rows + 1, piece
        else:
            current = candidate
    return rows
