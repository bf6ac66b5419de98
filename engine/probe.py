"""ffprobe -> MediaInfo, and the checks that turn bad uploads into a sentence for a person."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from engine.models import BrokenMedia, MediaInfo, MediaTooLarge, UnsupportedMedia

VIDEO_EXTENSIONS = ("mp4", "mov", "avi", "webm", "mkv")
AUDIO_EXTENSIONS = ("mp3", "wav", "m4a", "aac")
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "gif", "webp")
ACCEPTED = VIDEO_EXTENSIONS + AUDIO_EXTENSIONS + IMAGE_EXTENSIONS

# Frame intervals that differ from the median by more than this share mean variable frame rate.
VFR_TOLERANCE = 0.2
VFR_SAMPLE_PACKETS = 600


def accepted_types_sentence() -> str:
    return (f"videos ({', '.join(VIDEO_EXTENSIONS)}), audio ({', '.join(AUDIO_EXTENSIONS)}) "
            f"and images ({', '.join(IMAGE_EXTENSIONS)})")


def kind_of_extension(extension: str) -> str | None:
    if extension in VIDEO_EXTENSIONS:
        return "video"
    if extension in AUDIO_EXTENSIONS:
        return "audio"
    if extension in IMAGE_EXTENSIONS:
        return "image"
    return None


def content_hash(path: Path | str, chunk_size: int = 1 << 20) -> str:
    """sha256 of the file's bytes, read in chunks so a large video never sits in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def probe(path: Path | str, max_upload_mb: int = 500) -> MediaInfo:
    """Read a file's container and streams; raise UnsupportedMedia / MediaTooLarge / BrokenMedia when unusable."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise BrokenMedia(f"I could not find the file {name}.")
    extension = path.suffix.lower().lstrip(".")
    kind = kind_of_extension(extension)
    if kind is None:
        shown = f".{extension}" if extension else "without an extension"
        raise UnsupportedMedia(f"{name}: files {shown} are not supported. I accept {accepted_types_sentence()}.")
    size = path.stat().st_size
    if size > max_upload_mb * 1024 * 1024:
        raise MediaTooLarge(f"{name} is {size / 1024 / 1024:.0f} MB, over the {max_upload_mb} MB limit. "
                            "Please trim or compress it and send it again.")
    if size == 0:
        raise BrokenMedia(f"{name} is empty (0 bytes).")

    report = _ffprobe(path)
    streams = report.get("streams", [])
    fmt = report.get("format", {})
    video = _first(streams, "video", skip_cover_art=True)
    audio = _first(streams, "audio")
    if kind == "image":
        video = video or _first(streams, "video")
    if video is None and audio is None:
        raise BrokenMedia(f"{name} has neither a picture nor sound in it.")
    if kind == "video" and video is None:
        kind = "audio"                       # a webm/mp4 with only an audio track is a sound file
    if kind == "audio" and video is not None and audio is None:
        raise UnsupportedMedia(f"{name} has no sound in it.")

    duration = _duration(fmt, streams)
    if kind != "image" and duration <= 0:
        raise BrokenMedia(f"{name} has no length (zero duration): it may be cut short or still uploading.")
    if kind == "video" and not _video_reaches_its_end(path, _stream_duration(video) or duration):
        raise BrokenMedia(f"{name} is cut short or damaged: its pictures cannot be read. "
                          "Please send the file again.")

    fps = _frame_rate(video) if video else 0.0
    return MediaInfo(
        path=path,
        kind=kind,
        container=fmt.get("format_name", ""),
        extension=extension,
        duration=duration,
        size_bytes=size,
        has_video=video is not None and kind != "audio",
        has_audio=audio is not None,
        video_codec=video.get("codec_name") if video else None,
        width=int(video.get("width", 0)) if video else 0,
        height=int(video.get("height", 0)) if video else 0,
        fps=fps,
        variable_fps=kind == "video" and is_variable_frame_rate(packet_times(path)),
        rotation=rotation_of(video) if video else 0,
        audio_codec=audio.get("codec_name") if audio else None,
        audio_channels=int(audio.get("channels", 0)) if audio else 0,
        audio_rate=int(audio.get("sample_rate", 0)) if audio else 0,
    )


def _ffprobe(path: Path) -> dict:
    cmd = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise BrokenMedia(f"{path.name} is not a video, audio or image file I can read "
                          "(it may be damaged, cut short, or another kind of file renamed).")
    try:
        return json.loads(result.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise BrokenMedia(f"{path.name} could not be read as media.") from exc


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


def packet_times(path: Path, limit: int = VFR_SAMPLE_PACKETS) -> np.ndarray:
    """Presentation times of the first video packets (no decoding), sorted."""
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", f"%+#{limit}",
           "-show_entries", "packet=pts_time", "-of", "csv=p=0", str(path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    times = []
    for line in result.stdout.splitlines():
        try:
            times.append(float(line.strip().strip(",")))
        except ValueError:
            continue
    return np.sort(np.array(times, dtype=np.float64))


def is_variable_frame_rate(times: np.ndarray, tolerance: float = VFR_TOLERANCE) -> bool:
    """True when frame intervals stray from their median by more than `tolerance` (a share of it)."""
    if len(times) < 3:
        return False
    intervals = np.diff(times)
    intervals = intervals[intervals > 0]
    if len(intervals) < 2:
        return False
    typical = float(np.median(intervals))
    strays = np.abs(intervals - typical) > tolerance * typical
    return bool(np.mean(strays) > 0.05)


def _stream_duration(stream: dict) -> float:
    try:
        return float(stream.get("duration"))
    except (TypeError, ValueError):
        return 0.0


def _video_reaches_its_end(path: Path, duration: float) -> bool:
    """Do the video packets run to the end the header promises? A file cut short keeps its header
    (with `+faststart` the index is at the front) but loses its last pictures. Only the last
    keyframe interval is read, not the whole file."""
    seek = max(0.0, duration - 1.0)
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", f"{seek:.3f}%",
           "-show_entries", "packet=pts_time", "-of", "csv=p=0", str(path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    times = [float(t) for t in re.findall(r"^\s*(-?[0-9.]+)", result.stdout, flags=re.M)]
    slack = min(2.0, max(0.5, 0.1 * duration))
    return bool(times) and max(times) >= duration - slack
