"""The captions' font: which family libass is asked for (`caption_font`), how wide a text is in
it, from its file's advance widths, and how many rows libass wraps a text into (where captions
are placed over a stacked layout depends on how tall they are).

Read straight from the OpenType tables (head, hhea, hmtx, OS/2 and cmap, in a .ttf, .otf or
.ttc), so no font library is needed. libass sizes a font so that its Windows ascent plus descent
(OS/2) is the font size, which is also one row's height. Kerning is left out: it only narrows
text, so a width measured here is never short of what libass draws.
"""
from __future__ import annotations

import struct
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


def _table_directory(data: bytes, offset: int) -> dict[bytes, tuple[int, int]]:
    (count,) = struct.unpack_from(">H", data, offset + 4)
    tables = {}
    for i in range(count):
        tag, _, start, length = struct.unpack_from(">4sIII", data, offset + 12 + 16 * i)
        tables[tag] = (start, length)
    return tables


def _code_points(data: bytes, cmap: int) -> dict[int, int]:
    """Code point -> glyph, from the cmap's Unicode subtable (format 12, else format 4)."""
    (count,) = struct.unpack_from(">H", data, cmap + 2)
    subtables = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
        subtables[(platform, encoding)] = cmap + offset
    for key in ((3, 10), (0, 4), (3, 1), (0, 3)):
        if key not in subtables:
            continue
        at = subtables[key]
        (fmt,) = struct.unpack_from(">H", data, at)
        if fmt == 12:
            (groups,) = struct.unpack_from(">I", data, at + 12)
            glyphs = {}
            for g in range(groups):
                first, last, glyph = struct.unpack_from(">III", data, at + 16 + 12 * g)
                glyphs.update((cp, glyph + cp - first) for cp in range(first, min(last, 0x2FFFF) + 1))
            return glyphs
        if fmt == 4:
            (segments,) = struct.unpack_from(">H", data, at + 6)
            segments //= 2
            ends = struct.unpack_from(f">{segments}H", data, at + 14)
            starts = struct.unpack_from(f">{segments}H", data, at + 16 + 2 * segments)
            deltas = struct.unpack_from(f">{segments}h", data, at + 16 + 4 * segments)
            range_at = at + 16 + 6 * segments
            ranges = struct.unpack_from(f">{segments}H", data, range_at)
            glyphs = {}
            for s in range(segments):
                for cp in range(starts[s], ends[s] + 1):
                    if cp == 0xFFFF:
                        continue
                    if ranges[s] == 0:
                        glyph = (cp + deltas[s]) & 0xFFFF
                    else:
                        (glyph,) = struct.unpack_from(">H", data, range_at + 2 * s + ranges[s] + 2 * (cp - starts[s]))
                        glyph = (glyph + deltas[s]) & 0xFFFF if glyph else 0
                    glyphs[cp] = glyph
            return glyphs
    return {}


@lru_cache(maxsize=8)
def font_metrics(path: Path) -> FontMetrics | None:
    """The metrics of a font file (the first font of a collection: the Latin and CJK advances
    of Noto Sans CJK's language variants are the same); None when it cannot be read."""
    try:
        data = path.read_bytes()
        offset = struct.unpack_from(">I", data, 12)[0] if data[:4] == b"ttcf" else 0
        tables = _table_directory(data, offset)
        (hmetrics,) = struct.unpack_from(">H", data, tables[b"hhea"][0] + 34)
        win_ascent, win_descent = struct.unpack_from(">HH", data, tables[b"OS/2"][0] + 74)
        widths = struct.unpack_from(f">{hmetrics * 2}H", data, tables[b"hmtx"][0])[0::2]
        glyphs = _code_points(data, tables[b"cmap"][0])
    except (OSError, KeyError, struct.error):
        return None
    if not glyphs or not widths or win_ascent + win_descent <= 0:
        return None
    advances = {cp: widths[min(g, len(widths) - 1)] for cp, g in glyphs.items()}
    return FontMetrics(win_ascent + win_descent, advances, widths[0])


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
