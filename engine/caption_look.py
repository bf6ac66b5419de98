"""How captions and the title look in ASS terms: text escaped for libass, times, colours, and each
caption style's colours, outline and shadow (engine.captions writes the script with them)."""
from __future__ import annotations

from dataclasses import dataclass


def escape(text: str) -> str:
    """Text shown as written: ASS reads `{...}` as override tags and `\\N`, `\\n`, `\\h` as
    breaks. A backslash gets a word joiner after it (so it starts no escape), braces become
    libass's `\\{` and `\\}`, and line breaks become spaces."""
    text = " ".join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    text = text.replace("\\", "\\\u2060")
    return text.replace("{", "\\{").replace("}", "\\}")


def ass_time(seconds: float) -> str:
    cs = max(0, int(round(seconds * 100)))
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def _colour(rgb: str, alpha: int = 0) -> str:
    """'#RRGGBB' -> ASS &HAABBGGRR (alpha 0 is opaque)."""
    r, g, b = rgb[1:3], rgb[3:5], rgb[5:7]
    return f"&H{alpha:02X}{b}{g}{r}".upper()


def _tag_colour(rgb: str) -> str:
    """'#RRGGBB' -> the &HBBGGRR& form override tags take."""
    return f"&H{rgb[5:7]}{rgb[3:5]}{rgb[1:3]}&".upper()


WHITE, BLACK, YELLOW, GREEN = "#FFFFFF", "#000000", "#FFE500", "#3CFF6E"


@dataclass(frozen=True)
class Look:
    primary: str
    secondary: str
    outline: str
    back: str
    highlight: str
    border_style: int          # 1: outline and shadow, 4: one box behind the line
    outline_px: float
    shadow_px: float


def look(style: str, font_size: int) -> Look:
    if style == "boxed":
        # BorderStyle 4 (a libass extension): one box behind the whole event in BackColour,
        # padded by the shadow size; style 3 would draw a box per colour run, with seams.
        return Look(_colour(WHITE), _colour(WHITE), _colour(BLACK), _colour(BLACK, 0x50),
                    GREEN, 4, 0, round(font_size * 0.2))
    if style == "karaoke":
        # \kf fills from SecondaryColour (not yet sung) to PrimaryColour (sung).
        return Look(_colour(YELLOW), _colour(WHITE), _colour(BLACK), _colour(BLACK, 0x80),
                    YELLOW, 1, round(font_size * 0.08), round(font_size * 0.03))
    return Look(_colour(WHITE), _colour(WHITE), _colour(BLACK), _colour(BLACK, 0x80),
                YELLOW, 1, round(font_size * 0.09), round(font_size * 0.03))
