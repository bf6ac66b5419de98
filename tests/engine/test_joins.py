"""A reel's joins (engine/joins.py, engine/join_choice.py, the render's filter graph) and its
captions across them (engine.captions.held_places), on real recordings in ../shared/media: two
parts of one close-up meet in a straight cut, with the captions at one place on both sides;
parts of different shots dissolve, each with its captions placed on its own faces; and a reel
plays exactly as long as its placements say, whatever its joins are."""
from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine import joins, render
from engine.models import EngineConfig, RenderSpec, Word
from engine.probe import probe

CLOSE_UP = "talking_tedlieu_60s.mp4"        # one man, his face filling the picture
WIDER = "talking_obama_20s.mp4"             # another man, further from the camera
# three parts of the close-up, as a highlight reel of it chose them; on their own faces the
# captions of the first go below the chin, of the second over the forehead (his lip is lower)
CLOSE_UP_PARTS = [(5.71, 13.11), (20.66, 28.265), (30.93, 37.16)]


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> EngineConfig:
    return EngineConfig(cache_dir=tmp_path_factory.mktemp("joins-cache"), x264_preset="ultrafast")


@pytest.fixture(scope="module")
def two_shots(shared_media, tmp_path_factory) -> Path:
    """10 s of the wider shot, then 12 s of the close-up (scaled to the same size): one video
    whose two halves are different pictures of different people."""
    path = tmp_path_factory.mktemp("two-shots") / "two-shots.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-t", "10", "-i", str(shared_media / WIDER),
                    "-ss", "5", "-t", "12", "-i", str(shared_media / CLOSE_UP),
                    "-filter_complex", "[0:v]scale=450:450,setsar=1,fps=25[a];[1:v]scale=450:450,setsar=1,fps=25[b];"
                    "[0:a]aresample=44100[x];[1:a]aresample=44100[y];[a][x][b][y]concat=n=2:v=1:a=1[v][s]",
                    "-map", "[v]", "-map", "[s]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", str(path)], check=True)
    return path


def words_over(segments: list[tuple[float, float]]) -> list[Word]:
    """A made-up word every 0.4 s of each segment: captions to place, whatever is said."""
    words = []
    for start, end in segments:
        at = start + 0.3
        while at < end - 0.5:
            words.append(Word(round(at, 2), round(at + 0.3, 2), " word"))
            at += 0.4
    return words


def spec_for(path: Path, segments, **kwargs) -> RenderSpec:
    return RenderSpec(media=probe(path), segments=list(segments), words=words_over(segments), **kwargs)


def caption_rows(ass_script: str) -> dict[float, int]:
    """Each caption event's start (output seconds) -> the row it is drawn at (\\pos's y; the
    Caption style's own place counts as row 0)."""
    rows = {}
    for line in ass_script.splitlines():
        if line.startswith("Dialogue: 0,"):
            h, m, s = line.split(",")[1].split(":")
            at = int(h) * 3600 + int(m) * 60 + float(s)
            pos = re.search(r"\\pos\(\d+,(\d+)\)", line)
            rows[at] = int(pos.group(1)) if pos else 0
    return rows


def rows_in(rows: dict[float, int], start: float, end: float) -> set[int]:
    return {row for at, row in rows.items() if start + 0.5 <= at < end - 0.5}


def test_the_captions_of_two_parts_of_one_close_up_keep_one_place(shared_media, config):
    """Placed on each part's own face the captions jumped from below his chin to his forehead at
    the join; the two parts are one shot, so they keep one place through both."""
    segments = CLOSE_UP_PARTS[:2]
    prepared = render.prepare(spec_for(shared_media / CLOSE_UP, segments), config)
    placed, length = joins.placements(segments, prepared.crossfade)
    rows = caption_rows(prepared.ass_script)
    first, second = rows_in(rows, 0.0, placed[1][2]), rows_in(rows, placed[1][2] + prepared.crossfade, length)
    assert first and second
    assert first | second == first == second and len(first) == 1, f"the captions move at the join: {rows}"


def test_two_different_shots_dissolve_and_place_their_captions_each_on_its_own_faces(two_shots, config):
    segments = [(1.0, 8.0), (12.0, 20.0)]
    prepared = render.prepare(spec_for(two_shots, segments), config)
    assert prepared.straight_cuts == (False,), "a wider shot of one man, then a close-up of another: a dissolve"
    placed, length = joins.placements(segments, prepared.crossfade)
    rows = caption_rows(prepared.ass_script)
    for k, (start, end) in enumerate(segments):
        alone = render.prepare(spec_for(two_shots, [(start, end)]), config)
        lone_rows = caption_rows(alone.ass_script)
        at = placed[k][2]
        shown = {row for t, row in rows.items() if at + 0.5 <= t < at + end - start - 0.5}
        assert shown == {row for t, row in lone_rows.items() if 0.5 <= t < end - start - 0.5}, (
            f"part {k + 1} is placed as if it were shown alone")


@pytest.fixture(scope="module")
def marked_close_up(shared_media, tmp_path_factory) -> Path:
    """The close-up's first 40 s with a grey bar across the bottom whose brightness tells the
    source time each frame shows (40 + 4 per second), below his face and tie."""
    path = tmp_path_factory.mktemp("marked") / "marked.mp4"
    bar = "gt(Y,H*0.92)"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-t", "40", "-i", str(shared_media / CLOSE_UP),
                    "-vf", f"geq=lum='if({bar},40+T*4,lum(X,Y))':cb='if({bar},128,cb(X,Y))':cr='if({bar},128,cr(X,Y))'",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "copy", str(path)],
                   check=True)
    return path


def test_a_reel_of_one_close_up_is_cut_straight_and_plays_as_long_as_its_placements_say(marked_close_up, config,
                                                                                         tmp_path):
    """Every frame at a join shows one side or the other (the bar's brightness is one side's time),
    none the two half transparent, as a dissolve does (his eyes doubled for 0.3 s); the video and
    the sound last as long as joins.placements says, the length the bot says before rendering."""
    segments = CLOSE_UP_PARTS
    prepared = render.prepare(spec_for(marked_close_up, segments, resolution=240, captions=False), config)
    clip = render.encode(prepared, tmp_path / "reel.mp4", config)
    placed, length = joins.placements(segments, prepared.crossfade)
    fps = 25
    streams = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(clip.path)],
                                        capture_output=True, text=True, check=True).stdout)["streams"]
    assert {s["codec_type"] for s in streams} == {"video", "audio"}
    for stream in streams:
        assert float(stream["duration"]) == pytest.approx(length, abs=1.5 / fps), stream["codec_type"]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(clip.path), "-f", "rawvideo", "-pix_fmt", "gray",
                          "pipe:1"], capture_output=True, check=True).stdout
    pictures = np.frombuffer(raw, np.uint8).reshape(-1, clip.height, clip.width)
    bar = pictures[:, -6:-2, 10:-10].mean(axis=(1, 2))          # brighter the later in the source
    for _, _, at in placed[1:]:
        frames = range(int(at * fps) - 2, int((at + prepared.crossfade) * fps) + 3)
        before, after = bar[frames.start - 1], bar[frames.stop]
        assert after - before > 5, "the two sides show different times"
        blended = [k for k in frames if min(abs(bar[k] - before), abs(bar[k] - after)) > 0.3 * (after - before)]
        assert not blended, f"frames {blended} of the join at {at:.2f} s show both: {bar[frames.start:frames.stop]}"


def test_the_two_sides_of_a_join_say_whether_it_is_one_shot(shared_media, two_shots, config):
    from engine.join_choice import straight_cuts
    from engine.reframe import frame_range

    def framed(path: Path, start: float, end: float):
        media = probe(path)
        return frame_range(path, start, end, media.display_width, media.display_height, "9:16", [])

    close_up = [framed(shared_media / CLOSE_UP, s, e) for s, e in CLOSE_UP_PARTS[:2]]
    assert straight_cuts(CLOSE_UP_PARTS[:2], close_up, [[], []]) == (True,)
    mixed = [(1.0, 8.0), (12.0, 20.0)]
    assert straight_cuts(mixed, [framed(two_shots, s, e) for s, e in mixed], [[], []]) == (False,)
    same = [(12.0, 15.0), (17.0, 20.0)]
    assert straight_cuts(same, [framed(two_shots, s, e) for s, e in same], [[], []]) == (True,)
    assert straight_cuts(same, [framed(two_shots, s, e) for s, e in same], [[], [1.0]]) == (True,)
    moved = [dataclasses.replace(close_up[1], pieces=tuple((a, b, c + 0.2, d + 0.2)
                                                           for a, b, c, d in close_up[1].pieces))]
    assert straight_cuts(CLOSE_UP_PARTS[:2], [close_up[0], *moved], [[], []]) == (False,), (
        "the window somewhere else shows another picture")
