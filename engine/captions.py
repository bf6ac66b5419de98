"""Word-level captions as an ASS script for libass (ffmpeg's `ass` filter) to burn in.

The transcript's words are moved onto the output's timeline (`place_words`), grouped into
short lines (engine.caption_lines), timed (`timed_lines`), and written as ASS events in one of
a few styles (`ass_document`): the whole line shows while it is spoken and the word being said
is highlighted. Lines sit above the bottom fifth of the picture, where the apps put their
buttons; over two people stacked, at the seam (engine.caption_placement); over one cropped
window, lower or above a face the usual place would cover (engine.caption_crop). The title shows
for its first seconds at the top, or lower where the top would cover a face (`seam_spans`,
`crop_spans`). Sizes are in output pixels (PlayRes is the output size).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.caption_lines import join_words, space_before, split_lines
from engine.caption_crop import CropPlace, CropShot, crop_place, held_place, steady_places
from engine.caption_placement import SeamPlace, StackedSpan, seam_place, title_spot
from engine.caption_fonts import CaptionFont, bold_font_file, caption_font, font_metrics, is_rtl, wrapped_rows
from engine.caption_look import BLACK, WHITE, Look, _colour, _tag_colour, ass_time, escape, look
from engine.models import Word

STYLES = ("bold", "boxed", "karaoke")

HOLD = 0.3                # a line stays this long after its last word, unless the next one starts
JOIN_SNAP = 0.5           # a reel segment's first line starting this soon after the join starts at it
TITLE_SECONDS = 3.0
TITLE_PIECE = 0.5         # seconds: the title shows at least this long in a place (see title_events)
TITLE_FADE_IN, TITLE_FADE_OUT, TITLE_BOX_ALPHA = 200, 300, 0x40   # ms, ms; the box lets a quarter through
TITLE_GAP = 0.3           # of the caption font's size: the least room between the title's box and a caption
FACE_GAP = 0.25           # ... and between a caption and a face's rows, when the faces leave room for it


@dataclass(frozen=True)
class Line:
    start: float
    end: float
    words: tuple[Word, ...]
    # shown between the two halves of a stacked layout, or off a cropped face (see at_the_seam)
    at_seam: bool = False
    place: SeamPlace = SeamPlace(0.5, 0.5)     # ... inside these rows, as near the seam as it fits

    @property
    def style(self) -> str:
        return "Seam" if self.at_seam else "Caption"


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

def timed_lines(groups: list[list[Word]], hold: float = HOLD) -> list[Line]:
    """Each group shown from its first word to its last word plus `hold`, and never at the same
    time as another: a line ends where the next begins, even if its last word runs on."""
    lines = []
    for i, group in enumerate(groups):
        end = group[-1].end + hold
        if i + 1 < len(groups):
            end = min(end, groups[i + 1][0].start)
        lines.append(Line(group[0].start, max(group[0].start, end), tuple(group)))
    return lines


def across_joins(segments: list[list[Line]], placements: list[tuple[float, float, float]]) -> list[list[Line]]:
    """Each segment's lines with their times fitted to the reel's joins, as a subtitler fits them to
    shot changes: at the middle of each crossfade, where the picture turns from one segment to the
    next, the earlier segment's line ends and the later one's begins (pulled back to it from up to
    JOIN_SNAP later, so that no blank blinks between them). A line shows only in its own segment's
    half of the crossfade, and never two at once (libass does not move positioned lines apart: they
    would be drawn over each other). A line left no time at all (words in the last moments of a
    crossfade, under the next segment's first) is dropped."""
    fitted = []
    for i, lines in enumerate(segments):
        src_start, src_end, at = placements[i]
        after = (at + placements[i - 1][2] + placements[i - 1][1] - placements[i - 1][0]) / 2 if i else 0.0
        until = (placements[i + 1][2] + at + src_end - src_start) / 2 if i + 1 < len(placements) else float("inf")
        own = []
        for k, line in enumerate(lines):
            start = after if k == 0 and i and line.start < after + JOIN_SNAP else max(line.start, after)
            end = min(line.end, until)
            if round(end * 100) > round(start * 100):
                own.append(dataclasses.replace(line, start=start, end=end))
        fitted.append(own)
    return fitted


def at_the_seam(lines: list[Line], spans: list[tuple]) -> list[Line]:
    """Lines shown while two people are stacked (`spans`, output time: (start, end) or
    (start, end, SeamPlace), see seam_spans) move from the lower third, where the bottom
    person's face is, to the seam between the two halves, or as near it as the faces leave
    room, as podcast clip tools place them (or, over a cropped window, off a face: crop_spans).
    A line that crosses a span's edge is split there;
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
                place = span[2] if span is not None and len(span) > 2 else SeamPlace(0.5, 0.5)
                out.append(Line(a, b, line.words, at_seam=span is not None, place=place))
    return out


# --- ASS --------------------------------------------------------------------------------------

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

    @property
    def wrap_width(self) -> int:
        """libass wraps a line wider than this (the width inside the side margins)."""
        return self.width - 2 * self.side_margin


UNMEASURED_ROWS = 2         # rows assumed for a caption when its font's widths cannot be read


def rows_drawn(text: str, size: int, layout: Layout, font: CaptionFont) -> int:
    """How many rows libass draws `text` in at font size `size` (see engine.caption_fonts)."""
    metrics = font_metrics(path) if (path := bold_font_file(font.name, font.directory)) else None
    return UNMEASURED_ROWS if metrics is None else wrapped_rows(text, metrics, size, layout.wrap_width)


def drawn_height(rows: int, layout: Layout, lk: Look) -> int:
    """A caption's height in pixels: libass gives each row the font size, and the outline and
    shadow (or the box's padding) reach past the first and last."""
    return rows * layout.font_size + 2 * round(lk.outline_px + lk.shadow_px)


def title_pad(layout: Layout) -> int:
    """How far the title's box reaches past its text (the Title style's shadow pads the box)."""
    return round(layout.title_size * 0.3)


def title_bottom(title: str, layout: Layout, font: CaptionFont) -> int:
    """The lowest row of the title's box (the Title style: at the top margin, padded by its shadow)."""
    rows = rows_drawn(escape(title.strip()), layout.title_size, layout, font)
    return layout.top_margin + rows * layout.title_size + title_pad(layout)


@dataclass(frozen=True)
class _Room:
    """What placing captions around faces needs of a short's page, as shares of its height: the
    title's box, the gaps kept from a face and from the box, and how tall a band of lines is."""
    layout: Layout
    look: Look
    font: CaptionFont
    titled: bool
    box_top: float
    box_bottom: float
    gap: float
    title_gap: float
    ceiling: float

    def usual(self, band: float) -> float:
        """Where a band `band` tall is centred at the Caption style's place, above the bottom fifth."""
        return (self.layout.height - self.layout.bottom_margin + round(self.look.outline_px + self.look.shadow_px)
                ) / self.layout.height - band / 2

    def band(self, shown: list[Line]) -> float:
        """The height of a band as tall as the tallest of the `shown` lines."""
        size = self.layout.font_size
        rows = max((rows_drawn(join_words(line.words), size, self.layout, self.font) for line in shown), default=1)
        return drawn_height(rows, self.layout, self.look) / self.layout.height


def _room(width: int, height: int, style: str, font: CaptionFont, title: str | None) -> _Room:
    layout = Layout(width, height)
    titled = bool(title and title.strip())
    return _Room(layout, look(style, layout.font_size), font, titled,
                 box_top=(layout.top_margin - title_pad(layout)) / height,
                 box_bottom=title_bottom(title, layout, font) / height if titled else 0.0,
                 gap=FACE_GAP * layout.font_size / height, title_gap=TITLE_GAP * layout.font_size / height,
                 ceiling=layout.top_margin / height)


def seam_spans(lines: list[Line], stacked: list[StackedSpan], width: int, height: int, style: str,
               font: CaptionFont, title: str | None = None, title_seconds: float = TITLE_SECONDS
               ) -> tuple[list[tuple[float, float, SeamPlace]], list[tuple[float, float, float]]]:
    """The room each stacked stretch gives its captions (for at_the_seam), and where the title
    moves to in the stretches it would cover a face at the top in: (start, end, the top of its
    box, a share of the height).

    A caption band is as tall as the tallest caption shown in the stretch. While the title shows
    it goes just above the band when its box at the top would cover the top person's face and
    there is room lower (see title_spot); otherwise it stays at the top and the band keeps
    `TITLE_GAP` below its box. Either holds for the whole stretch, so that the captions do not
    jump when the title goes."""
    room = _room(width, height, style, font, title)
    places, moved = [], []
    for span in stacked:
        band = room.band([line for line in lines if line.start < span.end and line.end > span.start])
        place = seam_place(span.faces, band, room.ceiling, span.seam, room.gap)
        if room.titled and span.start < title_seconds:
            spot = title_spot(span.faces, room.box_top, room.box_bottom, room.ceiling, place.top - room.title_gap,
                              room.gap)
            if spot is None:
                place = seam_place(span.faces, band, max(room.ceiling, room.box_bottom + room.title_gap), span.seam,
                                   room.gap)
            else:
                moved.append((max(0.0, span.start), min(title_seconds, span.end), spot))
        places.append((span.start, span.end, place))
    return places, moved


def _shown(lines: list[Line], shot: CropShot) -> list[Line]:
    return [line for line in lines if line.start < shot.end and line.end > shot.start]


def held_places(fitted: list[list[Line]], shots: list[CropShot], width: int, height: int, style: str,
                font: CaptionFont, title: str | None = None, title_seconds: float = TITLE_SECONDS
                ) -> dict[int, CropPlace]:
    """The one place the captions keep through the shots of each picture that goes on across a
    reel's straight cuts (engine.caption_crop.held_place), by picture: a band as tall as the
    tallest caption over any of them (`fitted`: each segment's lines), kept below the title's box
    when the title stays at the top over the first of them."""
    room = _room(width, height, style, font, title)
    pictures: dict[int, list[CropShot]] = {}
    for shot in shots:
        if shot.picture is not None:
            pictures.setdefault(shot.picture, []).append(shot)
    held = {}
    for picture, group in pictures.items():
        if len(group) < 2:
            continue
        band = max(room.band(_shown(fitted[shot.segment], shot)) for shot in group)
        centre, face = held_place(group, band, room.usual(band), room.ceiling, room.gap)
        if room.titled and group[0].start < title_seconds and centre - band / 2 < room.box_bottom + room.title_gap:
            if title_spot([face] if face else [], room.box_top, room.box_bottom, room.ceiling,
                          centre - band / 2 - room.title_gap, room.gap, hair=False) is None:
                centre, face = held_place(group, band, room.usual(band), room.box_bottom + room.title_gap, room.gap)
        held[picture] = CropPlace(group[0].start, group[-1].end, centre, band, centre == room.usual(band), face)
    return held


def crop_spans(lines: list[Line], shots: list[CropShot], width: int, height: int, style: str, font: CaptionFont,
               title: str | None = None, title_seconds: float = TITLE_SECONDS,
               held: dict[int, CropPlace] | None = None
               ) -> tuple[list[tuple[float, float, SeamPlace]], list[tuple[float, float, float]]]:
    """Over a cropped window, the stretches whose captions leave their usual place for a face
    (for at_the_seam; engine.caption_crop.steady_places, or the place `held` for the shot's
    picture through a reel's straight cuts, see held_places), and where the title moves to, by
    the stacked layout's rule (title_spot) for the face's brows to mouth under its box at the top.
    A band is as tall as the shot's tallest caption. A move inside a shot waits for the next
    line, so no line jumps while it shows; one that leaves the captions under the title's box
    keeps them below it instead."""
    room = _room(width, height, style, font, title)
    gap, title_gap, box_bottom = room.gap, room.title_gap, room.box_bottom
    places, moved = [], []
    for shot in shots:
        shown = _shown(lines, shot)
        if held and shot.picture in held:
            kept = held[shot.picture]
            band, stretches = kept.band, [dataclasses.replace(kept, start=shot.start, end=shot.end)]
        else:
            band = room.band(shown)
            stretches = steady_places(shot, band, room.usual(band), room.ceiling, gap)
        usual = room.usual(band)
        for k, place in enumerate(stretches):
            start = place.start if k == 0 else next((line.start for line in shown
                                                     if line.start < place.start < line.end), place.start)
            end = stretches[k + 1].start if k + 1 < len(stretches) else place.end
            end = next((line.start for line in shown if line.start < end < line.end and k + 1 < len(stretches)), end)
            centre = place.centre
            if room.titled and start < title_seconds:
                faces = [place.face] if place.face else []
                spot = title_spot(faces, room.box_top, box_bottom, room.ceiling, place.top - title_gap, gap,
                                  hair=False)
                if spot is not None:
                    moved.append((max(0.0, start), min(title_seconds, end), spot))
                elif place.top < box_bottom + title_gap:
                    centre = crop_place(place.face, band, usual, box_bottom + title_gap, gap)
            if centre != usual and end > start:
                bottom, top = centre + band / 2, centre - band / 2
                places.append((start, end, SeamPlace(top, bottom, bottom if centre >= usual else top)))
    return places, moved


def ass_document(lines: list[Line], width: int, height: int, style: str = "bold",
                 title: str | None = None, title_seconds: float = TITLE_SECONDS,
                 font: CaptionFont | None = None, whole_lines: bool = False,
                 title_moves: list[tuple[float, float, float]] = ()) -> str:
    """The ASS script. `title_moves`: (start, end, top of the box as a share of the height) where
    the title leaves the top (see seam_spans)."""
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
        f"{_colour(BLACK, TITLE_BOX_ALPHA)},-1,0,0,0,100,100,0,0,4,0,{round(layout.title_size * 0.3)},"
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
        events += title_events(escape(title.strip()), title_seconds, title_moves, width, height)
    for line in lines:
        if whole_lines:
            shown = [_event(line.start, line.end, line.style, _line_text(line.words, None, lk.highlight))]
        else:
            shown = karaoke_events(line) if style == "karaoke" else highlight_events(line, lk.highlight)
        if line.at_seam:
            drawn = drawn_height(rows_drawn(join_words(line.words), layout.font_size, layout, font), layout, lk)
            shown = [_placed(e, line, width, height, drawn) for e in shown]
        events += shown
    return "\n".join(header + events) + "\n"


def title_events(text: str, seconds: float, moves: list[tuple[float, float, float]], width: int, height: int
                 ) -> list[str]:
    """The title over [0, seconds), cut at the edges of `moves`, where it is drawn lower (a
    layout change is a cut, so it may jump there). A first or last piece shorter than
    TITLE_PIECE is left out: the title starts or ends at that cut instead of flashing in its
    other place. It shows whole from the clip's first frame (the cover a platform shows), fades in
    where it starts later, and fades out at its end, its box with its words."""
    edges = sorted({0.0, seconds, *(t for a, b, _ in moves for t in (a, b) if 0.0 < t < seconds)})
    pieces: list[tuple[float, float, float | None]] = []
    for a, b in zip(edges, edges[1:]):
        spot = next((top for start, end, top in moves if start <= (a + b) / 2 < end), None)
        if pieces and pieces[-1][2] == spot:
            pieces[-1] = (pieces[-1][0], b, spot)        # one place across two stretches: one piece
        else:
            pieces.append((a, b, spot))
    while len(pieces) > 1 and pieces[-1][1] - pieces[-1][0] < TITLE_PIECE:
        pieces.pop()
    while len(pieces) > 1 and pieces[0][1] - pieces[0][0] < TITLE_PIECE:
        pieces.pop(0)
    pad = title_pad(Layout(width, height))
    out = []
    # libass's \fad leaves a BorderStyle 4 box whole (empty while its words fade in): \t fades both alike
    hidden, shown = "\\1a&HFF&\\4a&HFF&", f"\\1a&H00&\\4a&H{TITLE_BOX_ALPHA:02X}&"
    for k, (a, b, spot) in enumerate(pieces):
        ms = round((b - a) * 1000)
        tags = f"{hidden}\\t(0,{TITLE_FADE_IN},{shown})" if k == 0 and a > 0 else ""   # at 0: the cover, whole
        if k == len(pieces) - 1:
            tags += f"\\t({max(0, ms - TITLE_FADE_OUT)},{ms},{hidden})"
        if spot is not None:
            tags += f"\\pos({round(width / 2)},{round(spot * height) + pad})"
        out.append(_event(a, b, "Title", "{" + tags + "}" + text if tags else text, layer=1))
    return out


def _placed(event: str, line: Line, width: int, height: int, drawn: int) -> str:
    """A seam line's event, `drawn` pixels tall, centred where its place puts it (the Seam style
    alone centres it on the middle; libass still wraps it within the margins)."""
    y = round(line.place.centre_for(drawn / height) * height)
    if y == round(height / 2):
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
                   captions: bool = True, stacked: list[StackedSpan] = (), cropped: list[CropShot] = ()) -> str:
    """Everything above in one call: source-time words -> the ASS text for one output.
    `stacked`: where the output shows two people one above the other (output time) and their
    faces; `cropped`: the shots of one cropped window and the faces in them. Each segment's words
    make their own lines, so no line runs across a join of a reel, and in a crossfade each line
    is placed by its own segment's framing."""
    font = caption_font(language)
    lines: list[Line] = []
    title_moves: list[tuple[float, float, float]] = []
    segments = [timed_lines(split_lines(place_words(words, [placement]), language=language)) if captions else []
                for placement in placements]
    fitted = across_joins(segments, placements)
    held = held_places(fitted, list(cropped), width, height, style, font, title)
    for i, own in enumerate(fitted):
        spans, moves = seam_spans(own, [s for s in stacked if s.segment == i], width, height, style, font, title)
        crop_places, crop_moves = crop_spans(own, [s for s in cropped if s.segment == i], width, height, style, font,
                                             title, held=held)
        lines += at_the_seam(own, spans + crop_places)
        title_moves += moves + crop_moves
    return ass_document(lines, width, height, style=style, title=title, font=font, whole_lines=is_rtl(language),
                        title_moves=title_moves)
