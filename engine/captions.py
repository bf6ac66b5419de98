"""Word-level captions as an ASS script for libass (ffmpeg's `ass` filter) to burn in.

The transcript's words are moved onto the output's timeline (`place_words`), grouped into
short lines (`split_lines`), and written as ASS events in one of a few styles
(`ass_document`): the whole line shows while it is spoken and the word being said is
highlighted. Lines sit above the bottom fifth of the picture, where the apps put their
buttons. Sizes are in output pixels (PlayRes is the output size).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from engine.models import Word

STYLES = ("bold", "boxed", "karaoke")

MAX_WORDS = 4
MAX_UNITS = 20            # a line's width budget: one unit per narrow character, two per wide (CJK)
MAX_GAP = 0.7             # a pause this long starts a new line
HOLD = 0.3                # a line stays this long after its last word, unless the next one starts
TITLE_SECONDS = 3.0

SENTENCE_END = tuple(".!?…。！？")
CLAUSE_END = tuple(",;:，、；：")

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
CJK_LINE_UNITS = 18       # CJK lines: at most 9 characters, broken between characters, not at spaces


@dataclass(frozen=True)
class CaptionFont:
    name: str                  # the family name libass asks for
    directory: Path | None     # handed to libass as fontsdir


@dataclass(frozen=True)
class Line:
    start: float
    end: float
    words: tuple[Word, ...]
    at_seam: bool = False       # shown between the two halves of a stacked layout (see at_the_seam)
    centre: float = 0.5         # ... centred on this share of the height (seam_centre)

    @property
    def style(self) -> str:
        return "Seam" if self.at_seam else "Caption"


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
            shipped = sorted(p for p in directory.iterdir() if p.suffix.lower() in {".ttf", ".otf", ".ttc"})
            if shipped:
                return CaptionFont(_family_of(shipped[0]), directory)
            continue
        if any(directory.iterdir()):
            return CaptionFont(name.format(variant=variant), directory)
    return CaptionFont("Sans", None)       # fontconfig's default; may lack CJK glyphs


def _family_of(font_file: Path) -> str:
    return font_file.stem.split("-")[0]


# --- words onto the output's timeline ---------------------------------------------------------

def place_words(words: list[Word], placements: list[tuple[float, float, float]]) -> list[Word]:
    """Source-time words -> output-time words. `placements` are (source start, source end,
    output start) per segment. A word belongs to the segment holding its middle; its times
    are clamped to that segment."""
    placed: list[Word] = []
    for src_start, src_end, out_start in placements:
        for w in words:
            middle = (w.start + w.end) / 2
            if src_start <= middle < src_end and w.text.strip():
                start = max(w.start, src_start) - src_start + out_start
                end = min(w.end, src_end) - src_start + out_start
                placed.append(Word(round(start, 3), round(max(end, start), 3), w.text, w.probability))
    return sorted(placed, key=lambda w: w.start)


# --- lines ------------------------------------------------------------------------------------

def is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def text_units(text: str) -> int:
    return sum(2 if is_wide(ch) else 1 for ch in text)


def space_before(previous: str, word: Word) -> str:
    """A space between the text so far and `word`: none where either side is CJK (written
    without spaces), and none before a piece Whisper wrote as part of the word before it
    (",000" after " 10", "'s", "%": no leading space and not starting with a letter or digit)."""
    token = word.text.strip()
    if not previous or not token or is_wide(previous[-1]) or is_wide(token[0]):
        return ""
    return "" if not word.text[:1].isspace() and not token[0].isalnum() else " "


def join_words(words: list[Word] | tuple[Word, ...]) -> str:
    out = ""
    for w in words:
        out += space_before(out, w) + w.text.strip()
    return out


def is_cjk_word(word: Word) -> bool:
    token = word.text.strip()
    return bool(token) and any(is_wide(ch) for ch in token)


def split_long_word(word: Word, max_units: int) -> list[Word]:
    """A CJK 'word' wider than a line, cut between characters, its time shared by character."""
    token = word.text.strip()
    if text_units(token) <= max_units:
        return [word]
    pieces, current = [], ""
    for ch in token:
        if current and text_units(current + ch) > max_units:
            pieces.append(current)
            current = ""
        current += ch
    pieces.append(current)
    per_char = (word.end - word.start) / max(1, len(token))
    out, offset = [], 0
    for piece in pieces:
        start = word.start + offset * per_char
        offset += len(piece)
        out.append(Word(round(start, 3), round(word.start + offset * per_char, 3), piece, word.probability))
    return out


def split_lines(words: list[Word], max_words: int = MAX_WORDS, max_units: int = MAX_UNITS,
                max_gap: float = MAX_GAP) -> list[list[Word]]:
    """Words in groups of at most `max_words` that fit `max_units`, broken after a sentence
    end, after a clause end once a line has two words, and at pauses. A lone word left at
    the end of a run borrows one from a full line before it, so lines hold 2-4 words.

    Chinese and Japanese are written without spaces and Whisper's words there are a character
    or two: their lines are measured by characters only (CJK_LINE_UNITS), and a word wider
    than a line is cut between characters."""
    if words and sum(is_cjk_word(w) for w in words) * 2 > len(words):
        max_units = min(max_units, CJK_LINE_UNITS)
        max_words = 10 ** 6
        words = [piece for w in words for piece in split_long_word(w, max_units)]
    groups: list[list[Word]] = []
    current: list[Word] = []
    for w in (w for w in words if w.text.strip()):
        if current:
            previous = current[-1].text.strip()
            starts_new = (
                len(current) >= max_words
                or text_units(join_words(current + [w])) > max_units
                or previous.endswith(SENTENCE_END)
                or (previous.endswith(CLAUSE_END) and len(current) >= 2)
                or w.start - current[-1].end > max_gap
            )
            if starts_new:
                groups.append(current)
                current = []
        current.append(w)
    if current:
        groups.append(current)
    for i in range(1, len(groups)):
        before, lone = groups[i - 1], groups[i]
        continuous = lone[0].start - before[-1].end <= max_gap and not before[-1].text.strip().endswith(SENTENCE_END)
        if len(lone) == 1 and len(before) >= 3 and continuous:
            lone.insert(0, before.pop())
    return [g for g in groups if g]


def timed_lines(groups: list[list[Word]], hold: float = HOLD) -> list[Line]:
    """Each group shown from its first word to its last word plus `hold`, never into the next."""
    lines = []
    for i, group in enumerate(groups):
        end = group[-1].end + hold
        if i + 1 < len(groups):
            end = min(end, groups[i + 1][0].start)
        lines.append(Line(group[0].start, max(end, group[-1].end), tuple(group)))
    return lines


def at_the_seam(lines: list[Line], spans: list[tuple[float, ...]]) -> list[Line]:
    """Lines shown while two people are stacked (`spans`, output time: (start, end) or
    (start, end, centre), centre from seam_centre) move from the lower third, where the bottom
    person's face is, to the seam between the two halves, or as near it as the faces leave
    room, as podcast clip tools place them. A line that crosses a span's edge is split there;
    its second part goes on with the same words (a karaoke sweep where it was)."""
    if not spans:
        return lines
    out = []
    for line in lines:
        edges = sorted({line.start, line.end, *(t for a, b, *_ in spans for t in (a, b) if line.start < t < line.end)})
        for a, b in zip(edges, edges[1:]):
            if round(b * 100) > round(a * 100):
                middle = (a + b) / 2
                span = next((sp for sp in spans if sp[0] <= middle < sp[1]), None)
                centre = float(span[2]) if span is not None and len(span) > 2 else 0.5
                out.append(Line(a, b, line.words, at_seam=span is not None, centre=centre))
    return out


SEAM_LINES = 2              # a caption band is planned this many lines tall (a line of 4 words can wrap)
LOWEST = 0.8                # the band ends above the bottom fifth, where the apps put their buttons


def _outside(lo: float, hi: float, zones: list[tuple[float, float]], pad: float) -> list[tuple[float, float]]:
    """The parts of [lo, hi] outside every zone widened by `pad` on both sides."""
    free = [(lo, hi)]
    for top, bottom in zones:
        free = [p for a, b in free for p in ((a, min(b, top - pad)), (max(a, bottom + pad), b)) if p[1] > p[0]]
    return free


def seam_centre(faces: list[tuple[float, float, float, float]], width: int, height: int, seam: float = 0.5) -> float:
    """Where a caption band is centred (a share of the height) over a stacked layout whose faces
    are `faces`: (head, brows, mouth, chin) rows as shares of the output's height. The seam,
    when the band there touches no face; else the nearest place that touches none from the top
    of the hair to the chin; else the nearest that leaves the brows to the mouth clear; else
    the middle of the widest room between the brows and mouths."""
    layout = Layout(width, height)
    band = SEAM_LINES * 1.1 * layout.font_size / height
    top, bottom = layout.top_margin / height, LOWEST
    for zones in ([(f[0], f[3]) for f in faces], [(f[1], f[2]) for f in faces]):
        allowed = _outside(top + band / 2, bottom - band / 2, zones, band / 2)
        if allowed:
            return min((min(max(seam, lo), hi) for lo, hi in allowed), key=lambda c: abs(c - seam))
    rooms = _outside(top, bottom, [(f[1], f[2]) for f in faces], 0.0) or [(seam, seam)]
    lo, hi = max(rooms, key=lambda r: r[1] - r[0])
    return (lo + hi) / 2


# --- ASS --------------------------------------------------------------------------------------

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


@dataclass(frozen=True)
class Layout:
    width: int
    height: int

    @property
    def font_size(self) -> int:
        return round(min(self.width, self.height) * 0.085)

    @property
    def title_size(self) -> int:
        return round(min(self.width, self.height) * 0.06)

    @property
    def bottom_margin(self) -> int:
        """Text bottom at 75% of the height: clear of the bottom 20% with room for the outline."""
        return round(self.height * 0.25)

    @property
    def side_margin(self) -> int:
        return round(self.width * 0.08)

    @property
    def top_margin(self) -> int:
        return round(self.height * 0.10)


def ass_document(lines: list[Line], width: int, height: int, style: str = "bold",
                 title: str | None = None, title_seconds: float = TITLE_SECONDS,
                 font: CaptionFont | None = None, whole_lines: bool = False) -> str:
    if style not in STYLES:
        raise ValueError(f"unknown caption style {style!r}; choose one of {', '.join(STYLES)}")
    font = font or caption_font()
    layout = Layout(width, height)
    lk = look(style, layout.font_size)
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
        "Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Caption,{font.name},{layout.font_size},{lk.primary},{lk.secondary},{lk.outline},{lk.back},"
        f"-1,0,0,0,100,100,0,0,{lk.border_style},{lk.outline_px},{lk.shadow_px},"
        f"2,{layout.side_margin},{layout.side_margin},{layout.bottom_margin},1",
        f"Style: Title,{font.name},{layout.title_size},{_colour(WHITE)},{_colour(WHITE)},{_colour(BLACK)},"
        f"{_colour(BLACK, 0x40)},-1,0,0,0,100,100,0,0,4,0,{round(layout.title_size * 0.3)},"
        f"8,{layout.side_margin},{layout.side_margin},{layout.top_margin},1",
        # the Caption style, centred on the seam of a stacked layout (alignment 5: the middle)
        f"Style: Seam,{font.name},{layout.font_size},{lk.primary},{lk.secondary},{lk.outline},{lk.back},"
        f"-1,0,0,0,100,100,0,0,{lk.border_style},{lk.outline_px},{lk.shadow_px},"
        f"5,{layout.side_margin},{layout.side_margin},0,1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = []
    if title and title.strip():
        events.append(_event(0.0, title_seconds, "Title", "{\\fad(200,300)}" + escape(title.strip()), layer=1))
    for line in lines:
        if whole_lines:
            shown = [_event(line.start, line.end, line.style, _line_text(line.words, None, lk.highlight))]
        else:
            shown = karaoke_events(line) if style == "karaoke" else highlight_events(line, lk.highlight)
        events += [_placed(e, line, width, height) for e in shown]
    return "\n".join(header + events) + "\n"


def _placed(event: str, line: Line, width: int, height: int) -> str:
    """A seam line's event moved off the middle (libass still wraps it within the margins)."""
    y = round(line.centre * height)
    if not line.at_seam or y == round(height / 2):
        return event
    head, text = event.split(",,0,0,0,,", 1)
    return f"{head},,0,0,0,,{{\\pos({round(width / 2)},{y})}}{text}"


def _event(start: float, end: float, style: str, text: str, layer: int = 0) -> str:
    return f"Dialogue: {layer},{ass_time(start)},{ass_time(end)},{style},,0,0,0,,{text}"


def _line_text(words: tuple[Word, ...], active: int | None, highlight: str) -> str:
    """The line's text with word `active` in the highlight colour."""
    parts = []
    previous = ""
    for i, w in enumerate(words):
        token = w.text.strip()
        gap = space_before(previous, w)
        shown = escape(token)
        if i == active:
            shown = "{\\c" + _tag_colour(highlight) + "}" + shown + "{\\r}"
        parts.append(gap + shown)
        previous = token
    return "".join(parts)


def highlight_events(line: Line, highlight: str) -> list[str]:
    """One event per word: the whole line, that word highlighted, from its start to the next
    word's start (the last word to the line's end). Times round to the same centisecond at
    each boundary, so the line never blinks."""
    events = []
    words = line.words
    for i, w in enumerate(words):
        # clipped to the line: a line split at a layout change holds only part of its words' times
        start = line.start if i == 0 else max(w.start, line.start)
        end = min(words[i + 1].start, line.end) if i + 1 < len(words) else line.end
        if round(end * 100) > round(start * 100):
            events.append(_event(start, end, line.style, _line_text(words, i, highlight)))
    return events


def karaoke_events(line: Line) -> list[str]:
    """One event per line with libass's \\kf sweep: each word fills in over its own time (the
    words sung before the line starts, when it is the second part of a split line, at once)."""
    parts = []
    previous = ""
    for i, w in enumerate(line.words):
        token = w.text.strip()
        until = line.words[i + 1].start if i + 1 < len(line.words) else max(line.end, w.end)
        centis = 0 if until <= line.start else max(1, round((until - max(w.start, line.start)) * 100))
        parts.append(f"{space_before(previous, w)}{{\\kf{centis}}}{escape(token)}")
        previous = token
    return [_event(line.start, line.end, line.style, "".join(parts))]


def caption_script(words: list[Word], placements: list[tuple[float, float, float]], width: int, height: int,
                   style: str = "bold", title: str | None = None, language: str = "en",
                   captions: bool = True, stacked: list[tuple[float, ...]] = ()) -> str:
    """Everything above in one call: source-time words -> the ASS text for one output.
    `stacked`: where the output shows two people one above the other (output time), and where
    the captions are centred there ((start, end, centre), see at_the_seam)."""
    lines = at_the_seam(timed_lines(split_lines(place_words(words, placements))), list(stacked)) if captions else []
    return ass_document(lines, width, height, style=style, title=title, font=caption_font(language),
                        whole_lines=is_rtl(language))
