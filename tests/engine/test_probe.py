"""engine.probe on every accepted container and on the ways an upload goes wrong."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine.models import BrokenMedia, MediaTooLarge, UnsupportedMedia
from engine.probe import (ACCEPTED, AUDIO_TYPES, IMAGE_TYPES, MIME_TYPES, VIDEO_TYPES, content_hash,
                          frame_intervals, is_variable_frame_rate, media_kind_for_name, packet_runs, probe,
                          rotation_of, steady_frame_rate, steady_rate_of_runs)

LAVFI_PICTURE = "testsrc2=size=160x90:rate=25:duration=2"
LAVFI_SOUND = "sine=frequency=440:duration=2"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-nostdin", "-v", "error", *args], check=True)


def picture_and_sound(out: Path, video_codec: list[str], audio_codec: list[str], extra: list[str] = ()) -> Path:
    ffmpeg("-f", "lavfi", "-i", LAVFI_PICTURE, "-f", "lavfi", "-i", LAVFI_SOUND,
           *video_codec, *audio_codec, "-pix_fmt", "yuv420p", *extra, str(out))
    return out


def sound_only(out: Path, audio_codec: list[str]) -> Path:
    ffmpeg("-f", "lavfi", "-i", LAVFI_SOUND, *audio_codec, str(out))
    return out


def image(out: Path, extra: list[str] = ()) -> Path:
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=1:duration=1", "-frames:v", "1", *extra, str(out))
    return out


H264 = ["-c:v", "libx264", "-preset", "ultrafast"]
AAC = ["-c:a", "aac", "-b:a", "64k"]

MAKERS = {
    "mp4": lambda d: picture_and_sound(d / "a.mp4", H264, AAC),
    "mov": lambda d: picture_and_sound(d / "a.mov", H264, AAC),
    "avi": lambda d: picture_and_sound(d / "a.avi", ["-c:v", "mpeg4"], ["-c:a", "libmp3lame"]),
    "webm": lambda d: picture_and_sound(d / "a.webm", ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"],
                                        ["-c:a", "libopus"]),
    "mkv": lambda d: picture_and_sound(d / "a.mkv", H264, AAC),
    "m4v": lambda d: picture_and_sound(d / "a.m4v", H264, AAC),
    "3gp": lambda d: picture_and_sound(d / "a.3gp", H264, AAC),
    "mp3": lambda d: sound_only(d / "a.mp3", ["-c:a", "libmp3lame"]),
    "wav": lambda d: sound_only(d / "a.wav", ["-c:a", "pcm_s16le"]),
    "m4a": lambda d: sound_only(d / "a.m4a", AAC),
    "aac": lambda d: sound_only(d / "a.aac", AAC),
    "ogg": lambda d: sound_only(d / "a.ogg", ["-c:a", "libopus"]),        # a Telegram voice message
    "opus": lambda d: sound_only(d / "a.opus", ["-c:a", "libopus"]),
    "flac": lambda d: sound_only(d / "a.flac", ["-c:a", "flac"]),
    "jpg": lambda d: image(d / "a.jpg"),
    "png": lambda d: image(d / "a.png"),
    "gif": lambda d: image(d / "a.gif"),
    "webp": lambda d: image(d / "a.webp"),
}
EXPECTED_KIND = {**{t: "video" for t in VIDEO_TYPES}, **{t: "audio" for t in AUDIO_TYPES},
                 **{t: "image" for t in IMAGE_TYPES}}


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("probe")


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """One file of each accepted type, made the first time a test asks for it and then shared
    (read-only: a test that changes a file works on a copy)."""
    folder = tmp_path_factory.mktemp("probe-made")

    class Made(dict):
        def __missing__(self, extension: str) -> Path:
            self[extension] = MAKERS[extension](folder)
            return self[extension]

    return Made()


@pytest.mark.parametrize("extension", sorted(MAKERS))
def test_each_accepted_type_is_read(made, extension):
    path = made[extension]
    info = probe(path)
    assert info.kind == EXPECTED_KIND[extension]
    assert info.extension == extension
    assert info.size_bytes == path.stat().st_size
    if info.kind == "video":
        assert info.has_video and info.has_audio
        assert (info.width, info.height) == (160, 90)
        assert info.fps == pytest.approx(25, abs=0.5)
        assert info.duration == pytest.approx(2.0, abs=0.15)
        assert info.audio_channels == 1 and info.audio_rate > 0
        assert not info.variable_fps and info.rotation == 0
    elif info.kind == "audio":
        assert info.has_audio and not info.has_video
        assert info.duration == pytest.approx(2.0, abs=0.15)
        assert info.audio_codec
    else:
        assert info.has_video and (info.width, info.height) == (160, 90)


def test_every_accepted_extension_has_a_maker_and_a_mime_type():
    assert set(ACCEPTED) - {"jpeg"} == set(MAKERS)
    assert set(MIME_TYPES) == set(ACCEPTED)


@pytest.mark.parametrize("extension", sorted(MAKERS))
def test_the_content_decides_not_the_name(made, media_dir, extension):
    """A link saved without a suffix (`fetch-<hex>`) is read for what it is, and gets its type back."""
    named = made[extension]
    nameless = media_dir / f"fetch-{extension}-3fa9c1"
    nameless.write_bytes(named.read_bytes())
    info = probe(nameless)
    assert info.kind == EXPECTED_KIND[extension]
    expected = {"ogg": "ogg", "opus": "ogg"}.get(extension, extension)   # the same container: Ogg
    assert info.extension == expected


def test_a_misnamed_file_is_read_for_what_it_is(made, media_dir):
    webm = made["webm"]
    misnamed = media_dir / "holiday.mp4"
    misnamed.write_bytes(webm.read_bytes())
    info = probe(misnamed)
    assert (info.kind, info.extension) == ("video", "webm")
    voice = media_dir / "voice-AgADBQAD.ogg"
    voice.write_bytes(made["opus"].read_bytes())
    info = probe(voice)
    assert (info.kind, info.extension, info.audio_codec) == ("audio", "ogg", "opus")


def test_the_kind_a_name_or_mime_type_suggests():
    assert media_kind_for_name("a.MOV") == "video"
    assert media_kind_for_name("clip.m4v") == "video" and media_kind_for_name("old.3gp") == "video"
    assert media_kind_for_name("voice-1.ogg") == "audio" and media_kind_for_name("x.opus") == "audio"
    assert media_kind_for_name("song.flac") == "audio"
    assert media_kind_for_name("a.bin", "audio/mpeg") == "audio"
    assert media_kind_for_name("document-AgAD", "video/mp4") == "video"
    assert media_kind_for_name("photo.JPEG") == "image"
    assert media_kind_for_name("notes.txt", "text/plain") is None
    assert media_kind_for_name("", None) is None and media_kind_for_name(None) is None


def test_media_info_round_trips_through_a_dict(made):
    info = probe(made["mp4"])
    assert type(info).from_dict(info.to_dict()) == info


def test_audio_only_and_video_only(media_dir):
    audio_in_mp4 = sound_only(media_dir / "sound.mp4", AAC)
    info = probe(audio_in_mp4)
    assert info.kind == "audio" and info.has_audio and not info.has_video

    silent_film = media_dir / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", LAVFI_PICTURE, *H264, "-pix_fmt", "yuv420p", str(silent_film))
    info = probe(silent_film)
    assert info.kind == "video" and info.has_video and not info.has_audio
    assert info.audio_channels == 0


def test_rotated_phone_video(made, media_dir):
    """A phone stores portrait video as landscape frames plus a display matrix saying 'turn 90° clockwise'."""
    plain = made["mp4"]                                             # landscape, 160x90
    phone = media_dir / "phone.mp4"
    # ffmpeg's legacy `rotate` tag is counter-clockwise: 270 here is 90 clockwise for the player.
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=270", str(phone))
    info = probe(phone)
    assert info.rotation == 90
    assert (info.width, info.height) == (160, 90)
    assert (info.display_width, info.display_height) == (90, 160)


def test_an_anamorphic_video_is_shown_with_square_pixels(media_dir):
    """HDV stores 16:9 as 1440x1080 pixels 4/3 as wide as they are tall; a player shows 1920x1080."""
    hdv = media_dir / "hdv.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1440x1080:rate=25:duration=1", "-vf", "setsar=4/3", *H264,
           "-pix_fmt", "yuv420p", str(hdv))
    info = probe(hdv)
    assert (info.width, info.height, info.sar) == (1440, 1080, pytest.approx(4 / 3))
    assert (info.display_width, info.display_height) == (1920, 1080)
    assert (probe(made_plain(media_dir)).sar, probe(made_plain(media_dir)).display_width) == (1.0, 160)


def made_plain(media_dir: Path) -> Path:
    path = media_dir / "square.mp4"
    if not path.exists():
        picture_and_sound(path, H264, AAC)
    return path


def test_a_video_whose_picture_ends_before_its_sound_is_as_long_as_its_picture(media_dir):
    """A short is made of pictures: no moment may run on over sound with no picture."""
    early_end = media_dir / "early_end.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=3", "-f", "lavfi", "-i", "sine=duration=8",
           *H264, *AAC, "-pix_fmt", "yuv420p", str(early_end))
    info = probe(early_end)
    assert info.kind == "video" and info.duration == pytest.approx(3.0, abs=0.05)


def test_one_still_picture_over_long_sound_is_a_sound_file(media_dir):
    """A podcast exported with its cover as a one-frame video track: what it holds is sound."""
    cover, covered = media_dir / "cover.mp4", media_dir / "covered.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x320:rate=25:duration=0.04", *H264, "-pix_fmt", "yuv420p", str(cover))
    ffmpeg("-i", str(cover), "-f", "lavfi", "-i", "sine=duration=6", "-map", "0:v", "-map", "1:a", "-c:v", "copy",
           *AAC, str(covered))
    info = probe(covered)
    assert info.kind == "audio" and info.has_audio and not info.has_video
    assert info.duration == pytest.approx(6.0, abs=0.1)
    slow_cover = media_dir / "slow_cover.mp4"                # one frame at 1 fps: a second of picture
    still = media_dir / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x405060:s=320x320", "-frames:v", "1", str(still))
    ffmpeg("-framerate", "1", "-i", str(still), "-f", "lavfi", "-i", "sine=duration=6",
           "-map", "0:v", "-map", "1:a", *H264, "-pix_fmt", "yuv420p", *AAC, str(slow_cover))
    assert probe(slow_cover).kind == "audio"
    blink = media_dir / "blink.mp4"                          # a clip shorter than a second is still a video
    ffmpeg("-i", str(cover), "-f", "lavfi", "-i", "sine=duration=0.5", "-map", "0:v", "-map", "1:a", "-c:v", "copy",
           *AAC, str(blink))
    assert probe(blink).kind == "video"


def test_rotation_from_side_data_and_tags():
    assert rotation_of({"side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]}) == 90
    assert rotation_of({"side_data_list": [{"rotation": 90}]}) == 270
    assert rotation_of({"side_data_list": [{"rotation": 180}]}) == 180
    assert rotation_of({"tags": {"rotate": "90"}}) == 90
    assert rotation_of({}) == 0


def test_variable_frame_rate(made, media_dir):
    vfr = media_dir / "vfr.mp4"
    # 30 fps for two seconds, then every third frame only: the frame intervals change mid-file.
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30:duration=4",
           "-vf", "select='if(lt(t,2),1,not(mod(n,3)))'", "-fps_mode", "vfr", *H264, "-pix_fmt", "yuv420p", str(vfr))
    assert probe(vfr).variable_fps
    assert not probe(made["mp4"]).variable_fps


def test_variable_frame_rate_rule():
    steady = np.arange(100) / 25.0
    assert not is_variable_frame_rate(np.diff(steady))
    jitter_free_reordered = np.random.default_rng(0).permutation(steady)   # B-frames come out of order
    assert not is_variable_frame_rate(frame_intervals([jitter_free_reordered])[0])
    changing = np.concatenate([np.arange(50) / 30.0, 50 / 30.0 + np.arange(50) / 10.0])
    assert is_variable_frame_rate(np.diff(changing))


def test_steady_frame_rate_is_the_usual_interval_not_the_average():
    """A phone at 30 fps that drops one frame in 10 and stamps the rest up to 4 ms early or late:
    27 frames a second on average, shot at 30."""
    n = np.array([i for i in range(300) if i % 10 != 5])
    times = n / 30.0 + 0.004 * np.sin(np.arange(len(n)) * 1.7)
    assert len(n) / 10.0 == 27.0
    assert steady_frame_rate(np.diff(np.sort(times))) == pytest.approx(30.0, abs=0.05)
    assert steady_frame_rate(np.diff(np.arange(50) / 25.0)) == pytest.approx(25.0)
    assert steady_frame_rate(np.diff(np.array([0.0]))) == 0.0


def test_steady_rate_of_a_phone_that_changed_rate_is_the_rate_most_stretches_keep():
    rng = np.random.default_rng(1)
    dim, outside = 1 / 24 + 0.001 * rng.standard_normal(120), 1 / 30 + 0.001 * rng.standard_normal(120)
    assert steady_rate_of_runs([dim, dim, outside, outside, outside]) == pytest.approx(30.0, abs=0.2)
    assert steady_rate_of_runs([dim, dim, dim, outside]) == pytest.approx(24.0, abs=0.2)
    assert steady_rate_of_runs([]) == 0.0


def test_frame_intervals_count_frames_read_twice_once_and_never_span_two_stretches():
    first = np.arange(0, 40) / 25.0
    overlapping = np.arange(20, 60) / 25.0                  # a second stretch over the end of the first
    far = 100.0 + np.arange(0, 40) / 30.0
    runs = frame_intervals([first, overlapping, far])
    assert [len(run) for run in runs] == [39, 20, 39]
    assert max(run.max() for run in runs) < 0.05


def test_packet_runs_split_where_the_decode_time_goes_back_or_leaps():
    stamps = np.array([[0.08, 0.0], [0.0, 0.04], [0.04, 0.08],          # a stretch, B-frame reordered
                       [0.0, 0.0], [0.04, 0.04],                          # the file read again from its start
                       [60.0, 60.0], [60.04, 60.04]])                     # a stretch further on
    assert [len(run) for run in packet_runs(stamps)] == [3, 2, 2]


def test_a_phone_video_that_starts_dim_at_24_fps_is_made_steady_at_the_30_it_keeps(media_dir):
    """The first 30 s at 24 fps (720 frames: more than the 600 packets once read from the start
    alone, which took the file for a steady 24), then a minute at 30."""
    video = media_dir / "dim-then-outside.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=24:duration=30",
           "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30:duration=60",
           "-filter_complex", "[0:v]settb=1/120[a];[1:v]settb=1/120[b];[a][b]concat=n=2:v=1:a=0",
           "-fps_mode", "vfr", "-video_track_timescale", "120", *H264, "-pix_fmt", "yuv420p", str(video))
    info = probe(video)
    assert info.variable_fps
    assert info.steady_fps == pytest.approx(30.0, abs=0.05)


def test_steady_frame_rate_is_a_rate_when_the_middle_interval_is_not_one_the_frames_have():
    """Two intervals, or as many of one length as of another (a short animation with uneven
    delays): their median lies between them and near neither. The rate is still a number (not
    NaN, which stored MediaInfo would carry into its JSON) and one the frames come at."""
    assert steady_frame_rate(np.diff([0.0, 0.1, 0.4])) == pytest.approx(10.0)
    bimodal = np.cumsum([0.0] + [1 / 60] * 300 + [1 / 15] * 300)
    assert steady_frame_rate(np.diff(bimodal)) in (pytest.approx(60.0), pytest.approx(15.0))


def test_truncated_files_are_broken(made, media_dir):
    whole = made["mp4"]                                                             # index at the end
    faststart = picture_and_sound(media_dir / "fast.mp4", H264, AAC, ["-movflags", "+faststart"])
    for source in (whole, faststart):
        cut = media_dir / f"cut-{source.name}"
        cut.write_bytes(source.read_bytes()[: source.stat().st_size // 3])
        with pytest.raises(BrokenMedia) as err:
            probe(cut)
        assert cut.name in str(err.value)


def test_text_renamed_to_mp4_is_broken_and_the_sentence_says_what_is_accepted(media_dir):
    fake = media_dir / "notes.mp4"
    fake.write_text("These are my meeting notes, not a video.\n" * 20)
    with pytest.raises(BrokenMedia) as err:
        probe(fake)
    message = str(err.value)
    assert "notes.mp4" in message and "renamed" in message
    assert "mp4" in message and "ogg" in message and "png" in message
    assert message.endswith(".")


@pytest.mark.parametrize("name", ["notes.jpg", "notes.png", "notes.webp"])
def test_text_renamed_to_a_picture_is_not_a_picture(media_dir, name):
    # ffmpeg's image2 demuxer goes by the name and "reads" a 0x0 picture out of any bytes.
    fake = media_dir / name
    fake.write_text("These are my meeting notes, not a picture.\n" * 20)
    with pytest.raises((BrokenMedia, UnsupportedMedia), match=name.replace(".", r"\.")):
        probe(fake)


def test_empty_and_missing_files(media_dir):
    empty = media_dir / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(BrokenMedia, match="empty"):
        probe(empty)
    with pytest.raises(BrokenMedia, match="could not find"):
        probe(media_dir / "nowhere.mp4")


def test_unsupported_types_name_what_is_accepted(media_dir):
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    for name, content in (("report.pdf", pdf), ("README", b"x" * 100), ("fetch-5d1e0c", b"<html></html>" * 10)):
        path = media_dir / name
        path.write_bytes(content)
        with pytest.raises(UnsupportedMedia) as err:
            probe(path)
        message = str(err.value)
        assert name in message and "mp4" in message and "wav" in message and "png" in message


def test_a_real_video_in_a_container_not_accepted_is_named(media_dir):
    flash = media_dir / "movie.flv"
    ffmpeg("-f", "lavfi", "-i", LAVFI_PICTURE, "-c:v", "flv", str(flash))
    with pytest.raises(UnsupportedMedia) as err:
        probe(flash)
    assert "movie.flv: files in the flv format are not supported" in str(err.value) and "mp4" in str(err.value)


def test_too_large(media_dir):
    big = media_dir / "big.mp4"
    with open(big, "wb") as f:
        f.truncate(3 * 1024 * 1024)                 # sparse: 3 MB long, nothing written
    with pytest.raises(MediaTooLarge) as err:
        probe(big, max_upload_mb=2)
    assert "2 MB" in str(err.value)


def test_neither_picture_nor_sound(media_dir):
    subtitles = media_dir / "words.srt"
    subtitles.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n")
    only_subtitles = media_dir / "only-subtitles.mkv"
    ffmpeg("-i", str(subtitles), str(only_subtitles))
    with pytest.raises(BrokenMedia, match="neither a picture nor sound"):
        probe(only_subtitles)


def test_zero_duration(media_dir):
    hollow = media_dir / "hollow.wav"
    ffmpeg("-f", "lavfi", "-i", LAVFI_SOUND, "-frames:a", "0", "-c:a", "pcm_s16le", str(hollow))
    with pytest.raises(BrokenMedia, match="zero duration"):
        probe(hollow)


def test_content_hash_is_sha256_of_the_bytes(made, media_dir):
    path = made["mp4"]
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert content_hash(path) == expected
    assert content_hash(path, chunk_size=1000) == expected          # streamed in small pieces: same answer
    other = media_dir / "other.bin"
    other.write_bytes(os.urandom(100))
    assert content_hash(other) != expected
