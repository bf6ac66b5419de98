"""An audiogram's photo laid out around its faces (engine.photo_layout): a 16:9 photo of two people
far apart is shown whole, a photo of one person off-centre is cropped on that person, and the faces
stay clear of the captions and the level bars. Checked on the rendered short with the face detector."""
from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.audiogram import WAVE_SHARE
from engine.models import RenderSpec, Word
from engine.photo_layout import FACE_ZONE, MAX_UPSCALE, caption_spot, place_photo
from engine.probe import probe
from engine.reframe.detection import Face, FaceDetector
from engine.render import render_clip
from tests.media import SHARED_MEDIA

PAIR = SHARED_MEDIA / "headpose_female_and_male_ccby.mp4"     # a woman on the left, a man on the right
ONE = SHARED_MEDIA / "headpose_male_ccby.mp4"                  # one man in the middle
SPEECH = SHARED_MEDIA / "es_speech_40s.wav"
WORDS = [Word(0.2, 0.9, " hola"), Word(1.0, 1.8, " buenos"), Word(1.9, 2.8, " días")]


def need(*paths: Path) -> None:
    for path in paths:
        if not path.exists():
            pytest.skip(f"{path} is missing (../shared/media)")


def photo_from(video: Path, at: float, filters: str, out: Path) -> Path:
    """A still of the video, cut and enlarged to a photo's size (the faces stay real faces)."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", f"{at}", "-i", str(video), "-frames:v", "1",
                    "-vf", filters, str(out)], check=True)
    return out


def short_with(photo: Path, tmp_path: Path, engine_config) -> Path:
    spec = RenderSpec(media=probe(SPEECH), segments=[(0.0, 3.0)], words=WORDS, title="Buenos días",
                      background=photo, language="es")
    return render_clip(spec, tmp_path / "clip-01.mp4", replace(engine_config, x264_preset="ultrafast")).path


def faces_on(short: Path, at: float) -> list[Face]:
    """The faces the engine's detector finds on the rendered frame (captions and bars drawn)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at}", "-i", str(short), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    return FaceDetector().detect(np.frombuffer(raw, np.uint8).reshape(1920, 1080), thorough=True, wanted=8)


def clear_of_captions_and_bars(face: Face) -> bool:
    return face.y + face.h <= 0.5 - 0.06 and face.y + face.h <= WAVE_SHARE[0]


@pytest.mark.slow
def test_two_people_far_apart_are_both_whole_in_the_short(engine_config, tmp_path):
    """Centre-cropped to 9:16, this photo lost both people; shown whole, both faces are found on
    the short, neither at an edge, both above the captions, while a caption is on screen."""
    need(PAIR, SPEECH)
    photo = photo_from(PAIR, 0.3, "scale=1440:810:flags=lanczos", tmp_path / "pair.png")
    faces = faces_on(short_with(photo, tmp_path, engine_config), 1.4)
    assert len(faces) == 2, faces
    left, right = sorted(faces, key=lambda f: f.cx)
    assert left.x > 0.02 and right.x + right.w < 0.98, faces
    assert right.cx - left.cx > 0.4, "far apart: the whole width of the photo is shown"
    assert all(clear_of_captions_and_bars(f) for f in faces), faces


@pytest.mark.slow
def test_one_person_off_centre_keeps_a_whole_face_clear_of_the_captions(engine_config, tmp_path):
    """One man at a third of a landscape photo's width: the centre crop cut his face; the crop
    holds it, filling the short's width, above the captions and the bars."""
    need(ONE, SPEECH)
    photo = photo_from(ONE, 0.5, "crop=350:270:130:0,scale=1050:810:flags=lanczos", tmp_path / "one.png")
    faces = faces_on(short_with(photo, tmp_path, engine_config), 1.4)
    assert len(faces) == 1, faces
    face = faces[0]
    assert 0.02 < face.x and face.x + face.w < 0.98
    assert face.w > 0.2, f"cropped on him, not the whole photo shrunk: {face}"
    assert clear_of_captions_and_bars(face), face


def test_a_photo_without_faces_is_shown_whole_and_not_blown_up():
    """No face to crop on: the whole photo, at the short's width, or at most MAX_UPSCALE for a small one."""
    big = place_photo(1920, 1080, [], 1080, 1920)
    assert big.layout == "fit" and big.scale == pytest.approx(1080 / 1920)
    assert big.x == 0 and 0 <= big.y and big.y + 1080 * big.scale <= 1920
    small = place_photo(320, 240, [], 1080, 1920)
    assert small.scale == MAX_UPSCALE and small.x > 0


def test_a_close_up_too_tall_for_the_room_above_the_captions_moves_them_off_the_face():
    """A portrait whose face runs from a fifth to past the middle: the captions hang under the chin,
    or under the bars, never over the face."""
    face = Face(0.3, 0.2, 0.4, 0.45)
    placed = place_photo(1080, 1920, [face], 1080, 1920)
    top, chin = placed.face_rows
    assert chin - top > FACE_ZONE[1] - FACE_ZONE[0]
    spot = caption_spot(placed, sum(WAVE_SHARE))
    assert spot.alignment == 8 and spot.margin_v / 1920 > chin


def with_orientation_6(turned: Path, out: Path) -> Path:
    """The JPEG with an EXIF orientation of 6 ("turn it a quarter to the right to show it"), as a phone
    stores a photo taken upright: its pixels on their side."""
    tiff = (b"II*\x00" + (8).to_bytes(4, "little") + (1).to_bytes(2, "little") + (0x0112).to_bytes(2, "little")
            + (3).to_bytes(2, "little") + (1).to_bytes(4, "little") + (6).to_bytes(2, "little") + bytes(2)
            + bytes(4))
    app1 = b"Exif\x00\x00" + tiff
    data = turned.read_bytes()
    out.write_bytes(data[:2] + b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + data[2:])
    return out


def test_a_phone_photo_stored_on_its_side_is_laid_out_as_it_is_shown(tmp_path):
    """ffmpeg shows such a photo upright; its size was read as stored (on its side), so the upright
    photo was squeezed into the other shape: the same picture must give the same background."""
    from engine.photo_layout import compose_background, photo_size

    need(ONE)
    turned = photo_from(ONE, 1.0, "crop=iw*0.8:ih*0.8,scale=720:960,transpose=2", tmp_path / "turned.jpg")
    phone = with_orientation_6(turned, tmp_path / "phone.jpg")
    upright = tmp_path / "upright.png"                                               # the same pixels, turned
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(turned), "-vf", "transpose=1", str(upright)], check=True)
    assert photo_size(phone) == photo_size(upright) == (720, 960)

    def background(photo: Path) -> np.ndarray:
        out = tmp_path / f"{photo.stem}-background.png"
        compose_background(photo, out, 1080, 1920)
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                             capture_output=True, check=True).stdout
        return np.frombuffer(raw, np.uint8).reshape(1920, 1080).astype(int)

    assert np.mean(np.abs(background(phone) - background(upright))) < 2
