"""Captions over one cropped window (engine/caption_crop.py, engine.framing.crop_shots,
engine.captions.crop_spans): off a speaker's brows to lower lip, inside the safe zone, held for a
stretch rather than moved with each face box, and where nothing covers a face, where they always
were. Real shorts rendered with ffmpeg and libass, the face found again in the picture shown."""
from __future__ import annotations

import dataclasses
import subprocess

import numpy as np
import pytest

from engine import captions, render
from engine.caption_crop import CropShot
from engine.caption_placement import LOWEST
from engine.captions import Layout, caption_script, drawn_height, look, title_bottom
from engine.models import EngineConfig, RenderSpec, Word
from engine.probe import probe
from engine.reframe.detection import FaceDetector
from engine.reframe.panels import BROWS, MOUTH
from tests.engine.test_captions import words_from
from tests.engine.test_captions_seam import events, render_frame, title_rows
from tests.media import Person, make_two_people

LAYOUT = Layout(1080, 1920)
ROW = drawn_height(1, LAYOUT, look("bold", LAYOUT.font_size))


def _gray(path, at: float, width: int, height: int) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width)


def _spoken(seconds: float) -> list[Word]:
    return [Word(0.2 + i * 0.45, 0.6 + i * 0.45, " " + w)
            for i, w in enumerate(("we charge for the value you create " * 6).split()) if 0.6 + i * 0.45 < seconds]


@pytest.mark.slow
@pytest.mark.parametrize("aspect", ["9:16", "1:1"])
def test_captions_over_a_tight_close_up_leave_his_eyes_to_mouth_clear(shared_media, tmp_path, aspect):
    """Ted Lieu's face fills the frame (his lower lip at about 0.72 of the height). Rendered with and
    without captions: the rows the captions change miss his brows to his lower lip as the detector
    finds them in the picture shown, and stay inside the safe zone (they sat on his lower lip and
    chin in the 9:16 short, across his mouth in the square one)."""
    source = shared_media / "talking_tedlieu_60s.mp4"
    config = EngineConfig(cache_dir=tmp_path / "cache", x264_preset="ultrafast")
    spec = RenderSpec(media=probe(source), segments=[(2.0, 10.0)], aspect=aspect, resolution=360,
                      words=[dataclasses.replace(w, start=w.start + 2.0, end=w.end + 2.0) for w in _spoken(8.0)])
    prepared = render.prepare(spec, config)
    assert prepared.framings[0].mode in ("crop", "scale")
    width, height = prepared.width, prepared.height
    captioned = render.encode(prepared, tmp_path / "with.mp4", config).path
    plain = render.encode(dataclasses.replace(prepared, ass_script=None), tmp_path / "plain.mp4", config).path
    detector = FaceDetector()
    checked = 0
    for at in (0.8, 2.1, 3.4, 4.7, 6.0, 7.3):
        shown, bare = _gray(captioned, at, width, height).astype(int), _gray(plain, at, width, height)
        ink = np.flatnonzero((np.abs(shown - bare) > 60).sum(axis=1) > 3)
        assert len(ink), f"a caption is shown at {at} s"
        # a face filling the picture is found with room around it, as the cascades need
        pad = height // 2
        faces = detector.detect(np.pad(bare, pad, constant_values=128))
        assert faces, f"his face at {at} s"
        face = max(faces, key=lambda f: f.area)
        brows, mouth = ((face.y + share * face.h) * (height + 2 * pad) - pad for share in (BROWS, MOUTH))
        assert ink.max() < brows or ink.min() > mouth, \
            f"{at} s: caption rows {ink.min()}-{ink.max()} over his brows to lower lip at rows {brows:.0f}-{mouth:.0f}"
        assert ink.max() <= LOWEST * height + 1, f"{at} s: the caption reaches into the bottom fifth"
        checked += 1
    assert checked == 6


@pytest.mark.slow
def test_a_medium_shot_keeps_its_captions_and_title_where_they_always_were(shared_media, tmp_path):
    """One person in a wide picture, his face in the upper half of the 9:16 crop: the captions stay
    at their usual place (the Caption style, not positioned) and the title at the top."""
    person = Person("talking_tedlieu_60s.mp4", 800, 180, 320, skip=2.0)
    source = make_two_people(tmp_path / "one.mp4", [(0.0, 6.0, 0)], 6.0, people=(person,), media=shared_media)
    config = EngineConfig(cache_dir=tmp_path / "cache", x264_preset="ultrafast")
    prepared = render.prepare(RenderSpec(media=probe(source), segments=[(0.0, 6.0)], resolution=360,
                                         words=_spoken(6.0), title="What we charge for"), config)
    assert prepared.framings[0].mode == "crop" and any(prepared.framings[0].faces.faces)
    shown = events(prepared.ass_script)
    assert shown and all(style == "Caption" and y is None for _, _, style, y in shown)
    assert title_rows(prepared.ass_script) == [(0.0, captions.TITLE_SECONDS, None)]


# A close-up as the framing sees it: (head, brows, mouth, chin) rows of the output, his lower lip
# where the usual place's captions are drawn.
CLOSE = (0.0, 0.28, 0.73, 0.87)
MEDIUM = (0.12, 0.2, 0.38, 0.45)


def _shot(faces_at, start: float = 0.0, end: float = 12.0, step: float = 0.5) -> CropShot:
    times = tuple(np.arange(start, end, step))
    return CropShot(start, end, times, tuple(faces_at(t) for t in times))


def test_a_face_that_comes_and_goes_over_the_usual_place_moves_the_captions_once_and_holds_them():
    """The face boxes of a close-up jitter between just clear of the usual place and over it every
    half second: the captions take one place for the whole shot, clear of the face at its lowest
    (not a jump every few frames)."""
    words = words_from("we charge for the value you create and we tell people so " * 2, step=0.45)
    jitter = _shot(lambda t: CLOSE if int(t * 2) % 2 else (0.05, 0.2, 0.6, 0.66))
    shown = events(caption_script(words, [(0.0, 12.0, 0.0)], 1080, 1920, cropped=[jitter]))
    assert {y for _, _, _, y in shown} != {None} and len({y for _, _, _, y in shown}) == 1, shown
    y = shown[0][3]
    assert y + ROW / 2 < CLOSE[1] * 1920 or y - ROW / 2 > CLOSE[2] * 1920


def test_a_face_that_settles_lower_moves_the_captions_at_a_line_start_after_a_while():
    """Six seconds of a medium shot, then the speaker leans in (his lower lip onto the usual
    place) for six: the captions stay at the usual place, then move once, within a few seconds of
    the lean, where a line starts (the one showing then, or a later one): no line is drawn in two
    places."""
    words = words_from("we charge for the value you create and we tell people so " * 2, step=0.45)
    lean = _shot(lambda t: MEDIUM if t < 6.0 else CLOSE)
    script = caption_script(words, [(0.0, 12.0, 0.0)], 1080, 1920, cropped=[lean])
    shown = events(script)
    usual = [s for s, _, _, y in shown if y is None]
    moved = [(s, y) for s, _, _, y in shown if y is not None]
    assert usual and moved and max(usual) < min(s for s, _ in moved), "usual, then moved, once"
    lines = captions.timed_lines(captions.split_lines(words))
    showing = next(line for line in lines if line.start <= 6.0 < line.end)
    assert showing.start <= min(s for s, _ in moved) <= 6.0 + 3.0, "within a few seconds of the lean"
    assert len({y for _, y in moved}) == 1
    assert round(min(s for s, _ in moved), 2) in {round(line.start, 2) for line in lines}, "at a line's start"
    assert all(len({y for s, _, _, y in shown if line.start <= s < line.end}) == 1 for line in lines)
    assert all(y + ROW / 2 < CLOSE[1] * 1920 or y - ROW / 2 > CLOSE[2] * 1920 for _, y in moved)


def test_over_a_close_up_the_title_stays_over_the_hair_and_the_captions_keep_below_it(tmp_path):
    """A close-up with his brows at 0.28: the title stays at the top, over his hair, clear of his
    brows, as it does over a stacked face; the captions that leave his mouth go above his brows and
    under the title's box, never over it (drawn by libass, the box opaque)."""
    words = words_from("we charge for the value you create")
    title = "What we charge for"
    script = caption_script(words, [(0.0, 6.0, 0.0)], 1080, 1920, title=title,
                            cropped=[_shot(lambda t: CLOSE, end=6.0)])
    assert title_rows(script) == [(0.0, captions.TITLE_SECONDS, None)]
    drawn = render_frame(tmp_path, script.replace("&H40000000", "&H00FFFFFF"), 1.0)
    rows = np.flatnonzero((drawn > 128).sum(axis=1) > 2)
    box = title_bottom(title, LAYOUT, captions.caption_font("en"))
    caption = rows[rows > box + 2]
    assert len(caption) and caption.max() < CLOSE[1] * 1920, "the caption above his brows"
    assert caption.min() - box >= captions.TITLE_GAP * LAYOUT.font_size - 2, "clear of the title's box"
    assert rows[rows <= box + 2].max() < CLOSE[1] * 1920, "the title clear of his brows"
