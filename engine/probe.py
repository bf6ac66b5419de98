"""ffprobe -> MediaInfo, and the checks that turn bad uploads into a sentence for a person."""
from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from engine.models import BrokenMedia, MediaInfo, MediaTooLarge, UnsupportedMedia

# The one list of what a person may send, by the names of their types. What a file IS comes
# from ffprobe (its container and streams), never from its name: the adapters only use the
# names to decide what to download (media_kind_for_name), and a link's file has no name.
VIDEO_TYPES = ("mp4", "mov", "m4v", "3gp", "avi", "webm", "mkv")
AUDIO_TYPES = ("mp3", "wav", "m4a", "aac", "ogg", "opus", "flac")
IMAGE_TYPES = ("jpg", "jpeg", "png", "gif", "webp")
ACCEPTED = VIDEO_TYPES + AUDIO_TYPES + IMAGE_TYPES

MIME_TYPES = {
    "mp4": "video/mp4", "mov": "video/quicktime", "m4v": "video/x-m4v", "3gp": "video/3gpp",
    "avi": "video/x-msvideo", "webm": "video/webm", "mkv": "video/x-matroska",
    "mp3": "audio/mpeg", "wav": "audio/wav", "m4a": "audio/mp4", "aac": "audio/aac", "ogg": "audio/ogg",
    "opus": "audio/opus", "flac": "audio/flac",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
}

# ffprobe's demuxer (format_name) -> the types it reads; the first is the default.
_CONTAINER_TYPES = {
    "mov,mp4,m4a,3gp,3g2,mj2": ("mp4", "mov", "m4v", "m4a", "3gp"),
    "matroska,webm": ("mkv", "webm"),
    "avi": ("avi",),
    "mp3": ("mp3",),
    "wav": ("wav",),
    "aac": ("aac",),
    "ogg": ("ogg", "opus"),
    "flac": ("flac",),
}
# Pictures are read by the image2 demuxer (or a *_pipe one); their codec says which type they are.
_IMAGE_CODEC_TYPES = {"mjpeg": ("jpg", "jpeg"), "png": ("png",), "gif": ("gif",), "webp": ("webp",)}
# An MP4-family file's major brand says which member of the family it is.
_BRAND_TYPES = {"qt": "mov", "m4a": "m4a", "m4b": "m4a", "m4v": "m4v", "m4vh": "m4v", "m4vp": "m4v"}
_WEBM_CODECS = frozenset({"vp8", "vp9", "av1", "opus", "vorbis"})

STILL_PICTURE_S = 1.0       # a video stream this short (or of one frame) under sound is a cover picture,
COVERED_SOUND_S = 4.0       # ... when the sound lasts at least this long (a shorter clip is a video)
ASIDE = ("comment", "visual_impaired", "descriptions")     # audio tracks beside the recording, not of it

# Frame intervals that differ from the median by more than this share mean variable frame rate.
VFR_TOLERANCE = 0.2
VFR_SAMPLE_PACKETS = 600
VFR_SAMPLE_STRETCHES = 5    # the packets are read in this many stretches spread over the video


def accepted_types_sentence() -> str:
    return (f"videos ({', '.join(VIDEO_TYPES)}), audio ({', '.join(AUDIO_TYPES)}) "
            f"and images ({', '.join(IMAGE_TYPES)})")


def media_kind_for_name(name: str | None, mime: str | None = None) -> str | None:
    """"video" | "audio" | "image" as a platform's MIME type or the file's name suggests, else None.

    A hint for deciding what to download, never a verdict: probe() reads the bytes.
    """
    major = (mime or "").split("/")[0].strip().lower()
    if major in ("video", "audio", "image"):
        return major
    suffix = Path(name or "").suffix.lower().lstrip(".")
    if suffix in VIDEO_TYPES:
        return "video"
    if suffix in AUDIO_TYPES:
        return "audio"
    if suffix in IMAGE_TYPES:
        return "image"
    return None


def mime_type_for(media_type: str) -> str:
    return MIME_TYPES.get(media_type.lower().lstrip("."), "application/octet-stream")


def media_type_of(fmt: dict, streams: list[dict], name: str = "") -> str | None:
    """The accepted type (e.g. "mp4", "ogg", "jpg") of what ffprobe read, or None for a container
    that is not accepted. The file's name only picks between names of the same container."""
    format_name = str(fmt.get("format_name") or "")
    hinted = Path(name).suffix.lower().lstrip(".")
    if format_name == "image2" or format_name.endswith("_pipe") or format_name in ("gif", "webp"):
        picture = _first(streams, "video")
        candidates = _IMAGE_CODEC_TYPES.get(picture.get("codec_name", "") if picture else "", ())
    else:
        candidates = _CONTAINER_TYPES.get(format_name, ())
    if not candidates:
        return None
    if hinted in candidates:
        return hinted
    if format_name.startswith("mov,"):
        brand = str(fmt.get("tags", {}).get("major_brand", "")).strip().lower()
        return "3gp" if brand.startswith("3g") else _BRAND_TYPES.get(brand, "mp4")
    if format_name == "matroska,webm":
        codecs = {s.get("codec_name") for s in streams if s.get("codec_type") in ("video", "audio")}
        return "webm" if codecs and codecs <= _WEBM_CODECS else "mkv"
    return candidates[0]


def content_hash(path: Path | str, chunk_size: int = 1 << 20) -> str:
    """sha256 of the file's bytes, read in chunks so a large video never sits in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def media_type_of_file(path: Path | str) -> str | None:
    """The accepted type of a file's content (one quick ffprobe), or None when it is not one."""
    path = Path(path)
    try:
        report = _ffprobe(path)
    except (UnsupportedMedia, BrokenMedia):
        return None
    streams = [s for s in report.get("streams", []) if _carries_data(s)]
    if not any(s.get("codec_type") in ("video", "audio") for s in streams):
        return None
    return media_type_of(report.get("format", {}), streams, path.name)


def probe(path: Path | str, max_upload_mb: int = 500) -> MediaInfo:
    """Read a file's container and streams; raise UnsupportedMedia / MediaTooLarge / BrokenMedia when unusable.

    The kind ("video" | "audio" | "image") and the type (MediaInfo.extension) come from the
    bytes: a link saved as `fetch-3fa9`, a voice message or a misnamed file are read for what they are.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise BrokenMedia(f"I could not find the file {name}.", "probe_missing", name=name)
    size = path.stat().st_size
    if size > max_upload_mb * 1024 * 1024:
        raise MediaTooLarge(f"{name} is {size / 1024 / 1024:.0f} MB, over the {max_upload_mb} MB limit. "
                            "Please trim or compress it and send it again.", "probe_too_large", name=name,
                            size=round(size / 1024 / 1024), limit=max_upload_mb)
    if size == 0:
        raise BrokenMedia(f"{name} is empty (0 bytes).", "probe_empty", name=name)

    report = _ffprobe(path)
    fmt = report.get("format", {})
    streams = [s for s in report.get("streams", []) if _carries_data(s)]
    media_type = media_type_of(fmt, streams, name)
    if media_type is None:
        container = str(fmt.get("format_name") or "unknown").split(",")[0]
        raise UnsupportedMedia(f"{name}: files in the {container} format are not supported. "
                               f"I accept {accepted_types_sentence()}.", "probe_unsupported", name=name,
                               container=container, accepted=accepted_types_sentence())
    video = _first(streams, "video", skip_cover_art=media_type not in IMAGE_TYPES)
    audio = _first(streams, "audio")
    if video is None and audio is None:
        raise BrokenMedia(f"{name} has neither a picture nor sound in it.", "probe_nothing_inside", name=name)
    # An mp4 or webm with only sound is a sound file; an mp3's cover art does not make it a video.
    kind = "image" if media_type in IMAGE_TYPES else "video" if video is not None else "audio"

    duration = _duration(fmt, streams)
    if kind != "image" and duration <= 0:
        raise BrokenMedia(f"{name} has no length (zero duration): it may be cut short or still uploading.",
                          "probe_no_length", name=name)
    pictures = _picture_end(video, fmt) if kind == "video" else 0.0
    one_picture = kind == "video" and (0 < pictures < STILL_PICTURE_S or str(video.get("nb_frames")) == "1")
    if audio is not None and one_picture and duration >= COVERED_SOUND_S:
        kind = "audio"                  # one still picture over the sound (a podcast's cover): a sound file
    packets = VideoPackets.read(path, _stream_duration(video) or duration) if kind == "video" else None
    if packets is not None and not packets.reach_the_end():
        raise BrokenMedia(f"{name} is cut short or damaged: its pictures cannot be read. "
                          "Please send the file again.", "probe_cut_short", name=name)

    if kind == "video" and pictures > 0:
        duration = min(duration, pictures)         # a short is made of pictures: none after the last
    fps = _frame_rate(video) if video else 0.0
    return MediaInfo(
        path=path,
        kind=kind,
        container=fmt.get("format_name", ""),
        extension=media_type,
        duration=duration,
        size_bytes=size,
        has_video=video is not None and kind != "audio",
        has_audio=audio is not None,
        video_codec=video.get("codec_name") if video else None,
        width=int(video.get("width", 0)) if video else 0,
        height=int(video.get("height", 0)) if video else 0,
        fps=fps,
        variable_fps=packets is not None and is_variable_frame_rate(packets.intervals),
        steady_fps=steady_rate_of_runs(list(packets.runs)) if packets is not None else 0.0,
        rotation=rotation_of(video) if video else 0,
        audio_codec=audio.get("codec_name") if audio else None,
        audio_channels=int(audio.get("channels", 0)) if audio else 0,
        audio_rate=int(audio.get("sample_rate", 0)) if audio else 0,
        pix_fmt=video.get("pix_fmt") if video else None,
        color_transfer=video.get("color_transfer") if video else None,
        sar=_pixel_aspect(video) if video else 1.0,
        sound_tracks=sound_tracks(report.get("streams", [])),
    )


def _ffprobe(path: Path) -> dict:
    cmd = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    try:
        report = json.loads(result.stdout or "{}") if result.returncode == 0 else None
    except json.JSONDecodeError:
        report = None
    if report is None:
        raise _unreadable(path.name)
    return report


def _unreadable(name: str) -> UnsupportedMedia | BrokenMedia:
    """ffprobe cannot read it: a damaged file when its name says it is media, else another kind of file."""
    accepted = f"I accept {accepted_types_sentence()}."
    if media_kind_for_name(name) is not None:
        return BrokenMedia(f"{name} is not a video, audio or image file I can read (it may be damaged, "
                           f"cut short, or another kind of file renamed). {accepted}", "probe_unreadable", name=name,
                           accepted=accepted_types_sentence())
    return UnsupportedMedia(f"{name} is not a video, audio or image file, so it is not supported. {accepted}")


def _carries_data(stream: dict) -> bool:
    """A picture needs a size and a sound a sample rate: the image2 demuxer "reads" any file named
    .jpg or .png as a picture of 0x0."""
    if stream.get("codec_type") == "video":
        return int(stream.get("width") or 0) > 0 and int(stream.get("height") or 0) > 0
    if stream.get("codec_type") == "audio":
        return int(stream.get("sample_rate") or 0) > 0
    return True


def sound_tracks(streams: list[dict]) -> tuple[int, ...]:
    """The audio tracks a short's sound is made of (ffmpeg's a:N), from ffprobe's streams. All the
    tracks of one recording, to be mixed: OBS can put the microphone on a track of its own, and
    track 1 may carry only the game, or nothing. Of versions in different languages (a film's
    dubs) only the default; never a commentary or an audio description."""
    audio = [(k, s) for k, s in enumerate(s for s in streams if s.get("codec_type") == "audio")
             if int(s.get("sample_rate") or 0) > 0 and s.get("codec_name") not in (None, "", "unknown", "none")]
    main = [(k, s) for k, s in audio if not any(s.get("disposition", {}).get(d) for d in ASIDE)] or audio[:1]
    if not main:
        return (0,)
    languages = {str(s.get("tags", {}).get("language", "")).lower() for _, s in main} - {"", "und"}
    if len(languages) > 1:
        return (next((k for k, s in main if s.get("disposition", {}).get("default")), main[0][0]),)
    return tuple(k for k, _ in main)


def _first(streams: list[dict], codec_type: str, skip_cover_art: bool = False) -> dict | None:
    for stream in streams:
        if stream.get("codec_type") != codec_type:
            continue
        if skip_cover_art and stream.get("disposition", {}).get("attached_pic"):
            continue
        return stream
    return None


def _duration(fmt: dict, streams: list[dict]) -> float:
    candidates = [fmt.get("duration")] + [s.get("duration") for s in streams]
    values = []
    for value in candidates:
        try:
            values.append(float(value))
        except (TypeError, ValueError):
            continue
    return max(values) if values else 0.0


def _picture_end(video: dict, fmt: dict) -> float:
    """Where the pictures end on the file's timeline; 0 when the stream does not say."""
    length = _stream_duration(video)
    if length <= 0:
        return 0.0
    try:
        return float(video.get("start_time", 0)) - float(fmt.get("start_time", 0)) + length
    except (TypeError, ValueError):
        return length


def _pixel_aspect(video: dict) -> float:
    """The sample aspect ratio ("4:3" for HDV, "32:27" for a wide DVD); 1 when square or unknown."""
    try:
        ratio = Fraction(str(video.get("sample_aspect_ratio", "1:1")).replace(":", "/"))
    except (ValueError, ZeroDivisionError):
        return 1.0
    return float(ratio) if 0.25 <= ratio <= 4 else 1.0


def _frame_rate(stream: dict) -> float:
    for key in ("avg_frame_rate", "r_frame_rate"):
        try:
            rate = Fraction(stream.get(key, "0/0"))
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return float(rate)
    return 0.0


def rotation_of(stream: dict) -> int:
    """Degrees clockwise the player turns the picture, from the display matrix (or the old `rotate` tag)."""
    degrees = None
    for side_data in stream.get("side_data_list", []):
        if "rotation" in side_data:
            # The display matrix states the counter-clockwise angle: -90 means "turn 90 degrees clockwise".
            degrees = -float(side_data["rotation"])
    if degrees is None and "rotate" in stream.get("tags", {}):
        degrees = float(stream["tags"]["rotate"])
    if degrees is None:
        return 0
    return int(round(degrees / 90.0)) * 90 % 360


@dataclass(frozen=True)
class VideoPackets:
    """Presentation times of video packets, read without decoding by one ffprobe run: stretches
    of packets spread over the video (is the frame rate steady, and which is it? A phone that
    starts in a dim room at 24 fps may run at 30 once it is outside) and the last keyframe
    interval (do the pictures run to the end the header promises? A file cut short keeps its
    header, with `+faststart` its index is at the front, but loses its last pictures)."""

    runs: tuple[np.ndarray, ...]        # the frame intervals inside each stretch read, in seconds
    latest: float                       # the latest time read; -1 when none was
    duration: float                     # the video's length as its header gives it

    @classmethod
    def read(cls, path: Path, duration: float, limit: int = VFR_SAMPLE_PACKETS,
             stretches: int = VFR_SAMPLE_STRETCHES) -> "VideoPackets":
        each = max(2, limit // stretches)
        starts = [duration * k / stretches for k in range(stretches)]
        seek = max(0.0, duration - 1.0)
        intervals = ",".join([f"{start:.3f}%+#{each}" for start in starts] + [f"{seek:.3f}%"])
        cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", intervals,
               "-show_entries", "packet=pts_time,dts_time", "-of", "csv=p=0", str(path)]
        lines = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.splitlines()
        runs = packet_runs(_stamps(lines))
        times = [run[:, 0][np.isfinite(run[:, 0])] for run in runs]
        latest = max((float(t.max()) for t in times if len(t)), default=-1.0)
        return cls(runs=tuple(frame_intervals(times)), latest=latest, duration=duration)

    @property
    def intervals(self) -> np.ndarray:
        return np.concatenate(self.runs) if self.runs else np.zeros(0)

    def reach_the_end(self) -> bool:
        slack = min(2.0, max(0.5, 0.1 * self.duration))
        return self.latest >= self.duration - slack


RUN_GAP_S = 2.0     # decode times further apart than this belong to two stretches of the read


def packet_runs(stamps: np.ndarray) -> list[np.ndarray]:
    """(pts, dts) rows in the order ffprobe read them -> the runs of consecutive packets: a
    stretch of the read starts where the decode time goes back (stretches of a short file
    overlap) or leaps forward. (Presentation times go back inside a run: B-frames.)"""
    if len(stamps) == 0:
        return []
    steps = np.diff(stamps[:, 1])           # NaN where a decode time is missing: no break there
    breaks = np.flatnonzero((steps <= 0) | (steps > RUN_GAP_S)) + 1
    return np.split(stamps, breaks)


def frame_intervals(runs: list[np.ndarray]) -> list[np.ndarray]:
    """For each run of packet times, the intervals between its successive frames (in presentation
    order); two frames read twice, by stretches that overlap, count once."""
    pairs: set[tuple[float, float]] = set()
    out = []
    for times in runs:
        fresh = np.unique(times)
        new = [(a, b) for a, b in zip(fresh[:-1].tolist(), fresh[1:].tolist()) if (a, b) not in pairs]
        pairs.update(new)
        out.append(np.array([b - a for a, b in new], dtype=np.float64))
    return out


def _stamps(lines: list[str]) -> np.ndarray:
    """ffprobe's "pts,dts" lines -> rows of floats, NaN for N/A; lines with neither are left out."""
    rows = []
    for line in lines:
        fields = line.strip().strip(",").split(",")
        values = []
        for field in (fields + ["", ""])[:2]:
            try:
                values.append(float(field))
            except ValueError:          # N/A, or nothing
                values.append(float("nan"))
        if not all(np.isnan(values)):
            rows.append(values)
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def is_variable_frame_rate(intervals: np.ndarray, tolerance: float = VFR_TOLERANCE) -> bool:
    """True when frame intervals stray from their median by more than `tolerance` (a share of it)."""
    intervals = intervals[intervals > 0]
    if len(intervals) < 2:
        return False
    typical = float(np.median(intervals))
    strays = np.abs(intervals - typical) > tolerance * typical
    return bool(np.mean(strays) > 0.05)


def steady_frame_rate(intervals: np.ndarray) -> float:
    """The rate of the usual frame interval: the mean of the intervals near the median one, so a
    jittery phone's timestamps average out and its dropped frames (double intervals) do not count.
    0.0 with fewer than two intervals."""
    intervals = intervals[intervals > 0]
    if len(intervals) < 2:
        return 0.0
    typical = _typical(intervals)
    usual = intervals[np.abs(intervals - typical) < 0.5 * typical]
    return float(1.0 / np.mean(usual))


def steady_rate_of_runs(runs: list[np.ndarray], tolerance: float = VFR_TOLERANCE) -> float:
    """steady_frame_rate over the runs of intervals (stretches of the video) whose usual interval
    is the video's: a phone that filmed at 24 fps in a dim room and at 30 outside is steady at the
    rate most of its stretches keep, not at a mean of the two."""
    runs = [run[run > 0] for run in runs]
    runs = [run for run in runs if len(run) >= 2]
    if not runs:
        return 0.0
    typicals = np.array([_typical(run) for run in runs])
    usual = _typical(typicals)
    kept = [run for run, typical in zip(runs, typicals) if abs(typical - usual) <= tolerance * usual]
    return steady_frame_rate(np.concatenate(kept))


def _typical(values: np.ndarray) -> float:
    """A median that is one of the values (the lower one of an even count)."""
    return float(np.sort(values)[(len(values) - 1) // 2])


def _stream_duration(stream: dict) -> float:
    try:
        return float(stream.get("duration"))
    except (TypeError, ValueError):
        return 0.0
