"""Rendering: one RenderSpec -> one MP4 and its JPEG thumbnail, in one ffmpeg run.

`render_clip` works in two steps so that they can overlap across clips:
- `prepare` decides everything ffmpeg needs: the framing of each segment (faces found on a
  small decode of only that range, see engine.reframe), the speech's loudness (a quick
  EBU R128 measurement of only that range's audio), and the caption script (engine.captions).
- `encode` builds the filter graph and runs ffmpeg with `-progress pipe:1`, reporting
  progress, honouring a cancel event and a time limit, and writing to hidden part-files that
  are renamed only when the run succeeded, so a stopped render leaves nothing behind.

`render_moments` renders a set of chosen moments as clip-01.mp4, clip-02.mp4, ... while it
finds the faces of the next clip during the current clip's encode.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from engine import captions, picture, reframe
from engine.ahead import AHEAD, Ahead
from engine.edges import edge_fades
from engine.framing import crop_shots, framing_filters, stacked_spans
from engine.join_choice import straight_cuts
from engine.joins import CUT_SOUND, crossfade_for, placements, shown_parts
from engine.letterbox import Active, active_area
from engine.loudness import SoundLevel, measure_sound
from engine.soundtrack import the_sound
from engine.spec import render_spec
from engine.models import (
    Cancelled,
    EngineConfig,
    LayoutStretch,
    ProgressCallback,
    RenderedClip,
    RenderFailed,
    RenderSpec,
)

PEAK_LIMIT = 0.89           # about -1 dBFS
AUDIO_RATE = 48000
THUMBNAIL_AT = 1.0          # seconds into the clip, when the title and first caption show
PREPARE_SHARE = 0.1         # of render_clip's progress bar

SIZES = {"9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5), "16:9": (16, 9)}


def output_size(aspect: str, resolution: int = 1080) -> tuple[int, int]:
    """Width and height for an aspect, `resolution` being the short side (at most 1080):
    1080x1920, 1080x1080, 1080x1350, 1920x1080."""
    if aspect not in SIZES:
        raise ValueError(f"unknown aspect {aspect!r}; choose one of {', '.join(SIZES)}")
    a, b = SIZES[aspect]
    short = min(1080, max(64, int(resolution))) // 2 * 2
    long = int(round(short * max(a, b) / min(a, b) / 2)) * 2
    return (short, long) if a <= b else (long, short)


# --- prepare ----------------------------------------------------------------------------------

@dataclass
class Prepared:
    spec: RenderSpec
    width: int
    height: int
    framings: list[reframe.Framing]
    sound: SoundLevel
    crossfade: float
    duration: float
    ass_script: str | None = None           # captions and title, for libass; None: nothing to draw
    font: captions.CaptionFont | None = None
    timings: dict[str, float] = field(default_factory=dict)
    straight_cuts: tuple[bool, ...] = ()    # per join: a straight cut (one shot on both sides), else a dissolve


def prepare(spec: RenderSpec, config: EngineConfig, cancel: threading.Event | None = None,
            detector: reframe.FaceDetector | None = None) -> Prepared:
    """Everything decided before the encode. Holds no files, so a prepare that is never
    encoded (cancelled, or ahead of a failed clip) leaves nothing to clean up."""
    if not spec.segments or any(e <= s for s, e in spec.segments):
        raise RenderFailed("nothing to render: every segment needs an end after its start", "render_no_segments")
    media = spec.media
    if not media.has_video:
        raise RenderFailed(f"{media.path.name} has no picture to make a short from", "render_no_picture",
                           name=media.path.name)
    width, height = output_size(spec.aspect, spec.resolution)
    crossfade = crossfade_for(spec.segments)
    placed, duration = placements(spec.segments, crossfade)
    started = time.monotonic()
    framings = []
    for start, end in spec.segments:
        _check(cancel)
        cuts = [c - start for c in spec.scene_cuts if start < c < end]
        words = [(w.start - start, w.end - start) for w in spec.words if w.end > start and w.start < end]
        active = active_area(media.path, start, end, media.display_width, media.display_height, config.render_timeout_s)
        shown_w, shown_h = active.size(media.display_width, media.display_height)
        framing = reframe.frame_range(media.path, start, end, shown_w, shown_h, spec.aspect, cuts,
                                      detector=detector, cancel=cancel, timeout_s=config.render_timeout_s,
                                      words=words or None, has_audio=media.has_audio, active=active,
                                      tracks=media.sound_tracks, drawn_over=spec.captions or bool(spec.title))
        framings.append(framing if active.whole else cut_out(framing, active))
    _check(cancel)
    faces_s = time.monotonic() - started
    scene_cuts = [[c - start for c in spec.scene_cuts] for start, _ in spec.segments]
    cut_joins = straight_cuts(spec.segments, framings, scene_cuts)
    level = (replace(measure_sound(media.path, spec.segments, config.render_timeout_s, media.sound_tracks),
                     voice=bool(spec.words)) if media.has_audio else SoundLevel(None))
    script, font = None, None
    if (spec.captions and spec.words) or (spec.title and spec.title.strip()):
        font = captions.caption_font(spec.language)
        script = captions.caption_script(spec.words, placed, width, height, style=spec.caption_style,
                                         title=spec.title, language=spec.language, captions=spec.captions,
                                         stacked=stacked_spans(placed, framings, height),
                                         cropped=crop_shots(placed, framings, scene_cuts, cut_joins))
    timings = {"faces": faces_s, "prepare": time.monotonic() - started}
    return Prepared(spec, width, height, framings, level, crossfade, duration, script, font, timings, cut_joins)


def cut_out(framing: reframe.Framing, active: Active) -> reframe.Framing:
    """The framing of the picture inside black bars, its reasons saying so."""
    said = active.said()
    return replace(framing, active=active, reason=f"{framing.reason}; {said}",
                   stretches=tuple(replace(s, reason=f"{s.reason}; {said}") for s in framing.stretches))


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("rendering was cancelled")


# --- the filter graph (the framing fragments are in engine.framing) ----------------------------

def layout_of(prepared: Prepared) -> tuple[LayoutStretch, ...]:
    """The framing of each stretch of the output, in output time, for clips.json."""
    placed, _ = placements(prepared.spec.segments, prepared.crossfade)
    out: list[LayoutStretch] = []
    for (start, end, at), framing in zip(placed, prepared.framings):
        if framing.mode == "speakers":
            out += [LayoutStretch(at + s.start, at + s.end, s.layout, s.tracks, s.reason) for s in framing.stretches]
        else:
            out.append(LayoutStretch(at, at + end - start, framing.mode, (), framing.reason))
    return tuple(out)


def _quote(path: Path) -> str:
    """A path as a filter option value, escaped twice as ffmpeg-filters describes: once for
    the filter's option parser, once for the filter graph parser."""
    value = str(path)
    for ch in "\\':":
        value = value.replace(ch, "\\" + ch)
    for ch in "\\'[],;":
        value = value.replace(ch, "\\" + ch)
    return value


def filter_graph(prepared: Prepared, music_input: int | None, fps: Fraction, ass_path: Path | None = None) -> str:
    spec, w, h = prepared.spec, prepared.width, prepared.height
    media = spec.media
    n = len(spec.segments)
    cuts = prepared.straight_cuts or (False,) * (n - 1)
    shown, heard = (shown_parts(spec.segments, prepared.crossfade, cuts, overlap)
                    for overlap in (0.0, CUT_SOUND))
    chains = []
    for i, framing in enumerate(prepared.framings):
        # xfade needs one frame rate on both sides, exactly the rate the source's frames come at
        # (or a whole step of it): any other rate repeats or drops frames (see engine.picture).
        tail = f",fps={picture.rate_option(fps)},format=yuv420p" if n > 1 else ""
        length = spec.segments[i][1] - spec.segments[i][0]
        # 30 fps, SDR and (unless a face panel is enlarged from part of it) shrunk, before anything else
        source = picture.source_picture(media, w, h, shrink=framing.mode != "speakers", active=framing.active)
        chains.append(f"[{i}:v:0]setpts=PTS-STARTPTS,{source.filters}"
                      f"{framing_filters(framing, source.width, source.height, w, h, f'f{i}')},"
                      f"setsar=1{tail}{_trimmed(shown[i], length)}[v{i}]")
        if media.has_audio:
            chains.append(f"{the_sound(media.sound_tracks, i)},{prepared.sound.both_sides()}aresample={AUDIO_RATE},"
                          f"aformat=sample_fmts=fltp:channel_layouts=stereo,{edge_fades(length)}"
                          f"{_trimmed(heard[i], length, 'a')}[a{i}]")
        else:
            chains.append(f"anullsrc=r={AUDIO_RATE}:cl=stereo,atrim=duration={length:.3f}"
                          f"{_trimmed(heard[i], length, 'a')}[a{i}]")
    video, audio = "[v0]", "[a0]"
    placed, _ = placements(spec.segments, prepared.crossfade)
    for i in range(1, n):
        if cuts[i - 1]:             # the pieces are trimmed to meet in the middle of the join
            chains.append(f"{video}[v{i}]concat=n=2:v=1:a=0[vx{i}]")
            chains.append(f"{audio}[a{i}]acrossfade=d={CUT_SOUND:.3f}:c1=tri:c2=tri[ax{i}]")
        else:
            chains.append(f"{video}[v{i}]xfade=transition=fade:duration={prepared.crossfade:.3f}"
                          f":offset={placed[i][2]:.3f}[vx{i}]")
            chains.append(f"{audio}[a{i}]acrossfade=d={prepared.crossfade:.3f}:c1=tri:c2=tri[ax{i}]")
        video, audio = f"[vx{i}]", f"[ax{i}]"
    finish = []
    if ass_path is not None:
        fonts = f":fontsdir={_quote(prepared.font.directory)}" if prepared.font and prepared.font.directory else ""
        finish.append(f"ass=filename={_quote(ass_path)}{fonts}")
    finish.append("format=yuv420p")
    thumb_at = min(THUMBNAIL_AT, prepared.duration / 3)
    chains.append(f"{video}{','.join(finish)},split=2[vout][vthumb0]")
    chains.append(f"[vthumb0]trim=start={thumb_at:.3f}:duration=0.5,setpts=PTS-STARTPTS[vthumb]")
    speech = f"{audio}volume={prepared.sound.gain_db():.2f}dB"
    if music_input is not None:
        chains.append(f"{speech}[speech]")
        chains.append(f"[{music_input}:a:0]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
                      f"volume={spec.music_volume:.3f}[music]")
        chains.append(f"[speech][music]amix=inputs=2:duration=first:dropout_transition=0:normalize=0,"
                      f"alimiter=limit={PEAK_LIMIT}:level=false:latency=true[aout]")
    else:
        chains.append(f"{speech},alimiter=limit={PEAK_LIMIT}:level=false:latency=true[aout]")
    return ";\n".join(chains)


def _trimmed(part: tuple[float, float], length: float, kind: str = "") -> str:
    """The filters keeping `part` (from, to) of a piece `length` long, as engine.joins.shown_parts
    says; none when it is all of it."""
    head, end = part
    if head <= 0 and end >= length:
        return ""
    return f",{kind}trim=start={head:.4f}:end={end:.4f},{kind}setpts=PTS-STARTPTS"


SERIAL_UP_TO_CORES = 2          # see serial_front
SERIAL_UP_TO_PIXELS = 1920 * 1088


def usable_cores(config: EngineConfig) -> int:
    """config.threads when set, else the cores this process may run on."""
    if config.threads > 0:
        return config.threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                     # not on Linux
        return os.cpu_count() or 1


def serial_front(media, config: EngineConfig) -> bool:
    """True: decoder and filter graph on one thread each, x264 alone on several. On two cores
    x264 keeps both busy, so frame and slice threads only add upkeep (one thread each: 13 % less
    CPU decoding 1080p, 8 % less decoding and filtering) and one thread stays ahead of x264.
    With more cores, or a 4K or HDR source, one thread would hold x264 back."""
    small = media.display_width * media.display_height <= SERIAL_UP_TO_PIXELS and not picture.is_hdr(media)
    return small and usable_cores(config) <= SERIAL_UP_TO_CORES


def ffmpeg_command(prepared: Prepared, video_part: Path, thumb_part: Path, graph_file: Path,
                   config: EngineConfig) -> list[str]:
    spec = prepared.spec
    serial = serial_front(spec.media, config)
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-nostats", "-progress", "pipe:1", "-y"]
    for start, end in spec.segments:
        cmd += [*(["-threads", "1"] if serial else []),
                "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}", "-i", str(spec.media.path)]
    if spec.music is not None:
        cmd += ["-stream_loop", "-1", "-i", str(spec.music)]
    if serial:
        cmd += ["-filter_complex_threads", "1"]
    cmd += ["-filter_complex_script", str(graph_file),
            "-map", "[vout]", "-map", "[aout]",
            "-c:v", "libx264", "-preset", config.x264_preset, "-crf", str(config.x264_crf),
            "-profile:v", "high", "-pix_fmt", "yuv420p", "-threads", str(config.threads),
            "-c:a", "aac", "-b:a", "128k", "-ar", str(AUDIO_RATE), "-ac", "2",
            "-t", f"{prepared.duration:.3f}",
            "-movflags", "+faststart", "-f", "mp4", str(video_part),
            "-map", "[vthumb]", "-frames:v", "1", "-q:v", "3", "-f", "image2", "-update", "1", str(thumb_part)]
    return cmd


def _fps(media) -> Fraction:
    return picture.output_fps(media)


# --- encode -------------------------------------------------------------------------------------

def encode(prepared: Prepared, out_path: Path, config: EngineConfig,
           progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> RenderedClip:
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    thumb_path = out_path.with_suffix(".jpg")
    video_part = out_path.with_name(f".{out_path.name}.part")
    thumb_part = thumb_path.with_name(f".{thumb_path.name}.part")
    music_input = len(prepared.spec.segments) if prepared.spec.music is not None else None
    try:
        with tempfile.TemporaryDirectory(prefix="shortsbot-render-") as tmp:
            work = Path(tmp)
            ass_path = None
            if prepared.ass_script is not None:
                ass_path = work / "captions.ass"
                ass_path.write_text(prepared.ass_script, encoding="utf-8")
            graph_file = work / "graph.txt"
            graph_file.write_text(filter_graph(prepared, music_input, _fps(prepared.spec.media), ass_path),
                                  encoding="utf-8")
            cmd = ffmpeg_command(prepared, video_part, thumb_part, graph_file, config)
            run_ffmpeg(cmd, prepared.duration, progress, cancel, config.render_timeout_s)
        keep_outputs(video_part, thumb_part, out_path, thumb_path)
    finally:
        video_part.unlink(missing_ok=True)
        thumb_part.unlink(missing_ok=True)
    return rendered(out_path, thumb_path, layout_of(prepared))


def run_ffmpeg(cmd: list[str], duration: float, progress: ProgressCallback | None,
               cancel: threading.Event | None, timeout_s: float, label: str = "rendering") -> None:
    """Run ffmpeg with `-progress pipe:1`; fraction done = out_time / duration. Ends the process
    on cancel (raises Cancelled) or after `timeout_s` (raises RenderFailed)."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True)
        reader = threading.Thread(target=_read_progress, args=(proc.stdout, duration, progress, label), daemon=True)
        reader.start()
        deadline = time.monotonic() + timeout_s
        try:
            while proc.poll() is None:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("rendering was cancelled")
                if time.monotonic() > deadline:
                    raise RenderFailed(f"rendering took longer than the {timeout_s:.0f} s limit and was stopped",
                                       "render_timeout", seconds=round(timeout_s))
                try:
                    proc.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join(timeout=5)       # the reader closes ffmpeg's stdout when it has read it all
        if proc.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            detail = " | ".join(tail) or f"exit code {proc.returncode}"
            raise RenderFailed("ffmpeg could not render the clip: " + detail, "render_ffmpeg", detail=detail)


def keep_outputs(video_part: Path, thumb_part: Path, out_path: Path, thumb_path: Path) -> None:
    """Move what ffmpeg wrote into place, both files or neither."""
    if not video_part.exists() or not thumb_part.exists():
        raise RenderFailed("ffmpeg finished without writing the clip", "render_no_output")
    video_part.replace(out_path)
    thumb_part.replace(thumb_path)


def rendered(out_path: Path, thumb_path: Path, layout: tuple = ()) -> RenderedClip:
    info = probe_output(out_path)
    return RenderedClip(path=out_path, thumbnail=thumb_path, width=info["width"], height=info["height"],
                        duration=info["duration"], size_bytes=out_path.stat().st_size, layout=layout)


def _read_progress(stream, duration: float, progress: ProgressCallback | None, label: str) -> None:
    with stream:
        for line in stream:
            if progress is None:
                continue
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit() and duration > 0:
                progress(min(1.0, max(0.0, int(value) / 1e6 / duration)), label)
            elif key == "progress" and value == "end":
                progress(1.0, label)


PROBE_TIMEOUT_S = 60.0


def probe_output(path: Path, timeout_s: float = PROBE_TIMEOUT_S) -> dict:
    """Width, height and duration of a rendered file; RenderFailed when ffprobe fails or hangs
    (subprocess.run kills it at the time limit)."""
    try:
        result = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                                 "-show_entries", "stream=width,height:format=duration", "-of", "json", str(path)],
                                capture_output=True, text=True, check=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"reading the rendered clip took longer than the {timeout_s:.0f} s limit",
                           "render_read_timeout", seconds=round(timeout_s)) from None
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.strip()[-200:]
        raise RenderFailed(f"the rendered clip could not be read: {detail}", "render_unreadable",
                           detail=detail) from None
    data = json.loads(result.stdout)
    stream = data["streams"][0]
    return {"width": int(stream["width"]), "height": int(stream["height"]),
            "duration": float(data["format"]["duration"])}


# --- public entry points ----------------------------------------------------------------------------

def render_clip(spec: RenderSpec, out_path: Path, config: EngineConfig,
                progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                ahead: Ahead | None = None) -> RenderedClip:
    """Render one spec to `out_path` (an MP4) and the thumbnail beside it (same name, .jpg),
    with the prepare `ahead` started for that path if any. A source without a picture becomes an
    audiogram (engine.audiogram)."""
    if not spec.media.has_video:
        from engine.audiogram import render_audiogram

        return render_audiogram(spec, out_path, config, progress, cancel)
    if progress:
        progress(0.0, "finding faces")
    prepared = ahead.take(str(out_path), spec, config, cancel) if ahead else prepare(spec, config, cancel)
    if progress:
        progress(PREPARE_SHARE, "rendering")
    scaled = (lambda f, label: progress(PREPARE_SHARE + (1 - PREPARE_SHARE) * f, label)) if progress else None
    rendered = encode(prepared, out_path, config, scaled, cancel)
    if config.debug_reframe:
        write_reframe_previews(prepared, Path(out_path))
    return rendered


def write_reframe_previews(prepared: Prepared, out_path: Path) -> list[Path]:
    """clip-01.reframe.mp4 (or .reframe-2.mp4, ... for a reel's later pieces) beside the clip."""
    from engine.reframe.debug import write_preview

    media = prepared.spec.media
    written = []
    for n, ((start, end), framing) in enumerate(zip(prepared.spec.segments, prepared.framings)):
        suffix = ".reframe.mp4" if n == 0 else f".reframe-{n + 1}.mp4"
        written.append(write_preview(media.path, start, end, *framing.active.size(media.display_width,
                                                                                  media.display_height),
                                     framing, out_path.with_suffix(suffix)))
    return written


def clip_name(index: int) -> str:
    return f"clip-{index:02d}.mp4"


def render_specs(specs: list[RenderSpec], out_dir: Path, config: EngineConfig,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                 overlap: bool = True, names: list[str] | None = None) -> list[RenderedClip]:
    """Render specs in order to `names` (default clip-01.mp4, clip-02.mp4, ...). With `overlap`,
    the faces and loudness of the clips ahead are found while the current clip encodes (engine.ahead)."""
    names = names or [clip_name(i + 1) for i in range(len(specs))]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    total = len(specs)
    done: list[RenderedClip] = []
    ahead = Ahead()
    try:
        for i, spec in enumerate(specs):
            for later in range(i, min(total, i + AHEAD)) if overlap else ():
                ahead.start(str(out_dir / names[later]), specs[later], config, cancel)
            done.append(render_clip(spec, out_dir / names[i], config, _clip_progress(progress, i, total), cancel,
                                    ahead=ahead))
    finally:
        ahead.close()                       # a prepare running ahead of a failed clip stops
    if progress:
        progress(1.0, "done")
    return done


def _clip_progress(progress: ProgressCallback | None, i: int, total: int) -> ProgressCallback | None:
    """Clip i's own progress (0-1) as a share of the whole run's."""
    return (lambda f, label: progress((i + f) / total, f"clip {i + 1} of {total}: {label}")) if progress else None


def render_moments(analysis, moments, request, out_dir: Path, config: EngineConfig,
                   progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> dict:
    """Chosen moments -> {rank: RenderedClip}, written as clip-01.mp4 / clip-01.jpg, ... in rank
    order. The specs come from engine.spec, which the pipeline uses too (no import cycle)."""
    ordered = sorted(moments, key=lambda m: m.rank)
    specs = [render_spec(analysis, m, request) for m in ordered]
    rendered = render_specs(specs, out_dir, config, progress, cancel, names=[clip_name(m.rank) for m in ordered])
    return {m.rank: clip for m, clip in zip(ordered, rendered)}
