"""Audiograms: a short from sound alone (a podcast, a voice note, a recorded call).

The picture is made in the same single ffmpeg run as the sound:

    background   the cover (the last photo the person sent, else the file's own cover art) laid out
                 around its faces by engine.photo_layout (cropped on them, or the whole photo over a
                 blurred copy) and a little darkened, or a clean two-colour gradient; either is made
                 once as a still of the short's size;
    waveform     bars of the sound's level, the last seconds scrolling by, in the lower part;
    captions     the word-by-word captions of engine.captions, large, in the middle (under a face
                 that reaches down there);
    title        engine.captions' title at the top for the first seconds.

The sound gets the same treatment as a video short's (two-step loudness, fades at the cuts,
a limiter), so a person cannot tell an audiogram's sound from a video short's.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from engine import captions
from engine.edges import edge_fades
from engine.loudness import SoundLevel, measure_sound
from engine.models import EngineConfig, ProgressCallback, RenderedClip, RenderFailed, RenderSpec
from engine.photo_layout import WAVE_TOP, CaptionSpot, PhotoPlacement, caption_spot, compose_background
from engine.render import (
    AUDIO_RATE,
    PEAK_LIMIT,
    THUMBNAIL_AT,
    _check,
    _quote,
    keep_outputs,
    output_size,
    placements,
    rendered,
    run_ffmpeg,
)
from engine.soundtrack import the_sound

FPS = 25
GRADIENT = ("0x10243e", "0x4a1d5c")          # deep blue to plum: white text and waves read well on both
WAVE_SHARE = (WAVE_TOP, 0.17)                # the waveform's top and height, as shares of the picture's height
WAVE_BAR = (12, 4)                          # a bar's pitch and the gap between bars, in pixels: 90 bars, 3.6 s
WAVE_DB = (-48, -3)                          # a bar's level (RMS, dBFS, of the evened-out sound) from none to full
CAPTION_SCALE = 1.3                          # captions larger than on a video short: they are the picture


def gradient_still(path: Path, width: int, height: int, timeout_s: float = 60.0) -> Path:
    """A diagonal two-colour gradient, one PNG frame."""
    source = (f"gradients=s={width}x{height}:c0={GRADIENT[0]}:c1={GRADIENT[1]}:nb_colors=2"
              f":x0=0:y0=0:x1={width}:y1={height}:duration=0.04:rate=25")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-frames:v", "1", str(path)],
                   check=True, capture_output=True, timeout=timeout_s)
    return path


def centred_captions(script: str, height: int, spot: CaptionSpot = CaptionSpot(5, 0)) -> str:
    """The ASS script with its Caption style enlarged and moved to the middle of the picture, or
    where `spot` says (off a face)."""
    def restyle(match: re.Match) -> str:
        fields = match.group(0).split(",")
        fields[2] = str(round(int(fields[2]) * CAPTION_SCALE))      # Fontsize
        fields[18] = str(spot.alignment)                            # Alignment: 5 middle centre, 8 top centre
        fields[21] = str(spot.margin_v)                             # MarginV
        return ",".join(fields)

    return re.sub(r"^Style: Caption,.*$", restyle, script, flags=re.MULTILINE)


def composed(cover: Path, out: Path, width: int, height: int, timeout_s: float) -> PhotoPlacement | None:
    """The cover laid out as the background still, or None when ffmpeg cannot read it as a picture."""
    try:
        return compose_background(cover, out, width, height, timeout_s)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None


def own_cover(path: Path, out: Path) -> Path | None:
    """The sound file's own picture (an mp3's or m4a's cover art, a podcast video's one still
    frame) as a PNG, or None when it has none."""
    try:
        result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(path), "-map", "0:v:0",
                                 "-frames:v", "1", str(out)], capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None
    return out if result.returncode == 0 and out.is_file() and out.stat().st_size > 0 else None


def wave_chains(width: int, height: int) -> list[str]:
    """[awave] -> [wave]: the loudness of each frame's 1/25 s as a bar, the last few seconds of bars
    scrolling right to left, mirrored about the middle, white with gaps, on a see-through ground.
    Drawn from the level and not the raw samples, so steady speech reads as a steady, lively row of
    bars (showwaves drew each frame's 1/25 s of samples, flat and full by turns)."""
    bars, half = max(1, width // WAVE_BAR[0]), height // 4 * 2     # odd heights crash ffmpeg 5.1's alphamerge
    return [f"[awave]aformat=channel_layouts=mono,asetnsamples=n={AUDIO_RATE // FPS}:p=0,astats=metadata=1:reset=1,"
            f"adrawgraph=m1=lavfi.astats.Overall.RMS_level:min={WAVE_DB[0]}:max={WAVE_DB[1]}:mode=bar:slide=scroll"
            f":fg1=0xffffffff:bg=0xff000000:s={bars}x{half}:r={FPS},format=gray,"
            f"scale={width}:{half}:flags=neighbor,drawgrid=w={WAVE_BAR[0]}:h={half + 1}:t={WAVE_BAR[1]}:c=black,"
            f"lut=c0='if(gt(val,128),255,0)',split[wave_up][wave_down]",
            "[wave_down]vflip[wave_flipped]",
            "[wave_up][wave_flipped]vstack,split[wave_mask][wave_white]",
            f"[wave_white]lut=c0=255,format=yuva420p[wave_paint]",
            "[wave_paint][wave_mask]alphamerge,setsar=1[wave]"]


def audiogram_graph(spec: RenderSpec, width: int, height: int, level: SoundLevel, ass_path: Path | None) -> str:
    """Inputs: 0..n-1 the segments' sound, n the background still (width x height)."""
    n = len(spec.segments)
    chains = []
    for i, (start, end) in enumerate(spec.segments):
        chains.append(f"{the_sound(spec.media.sound_tracks, i)},{level.both_sides()}aresample={AUDIO_RATE},"
                      f"aformat=sample_fmts=fltp:channel_layouts=stereo,{edge_fades(end - start)}[a{i}]")
    joined = "".join(f"[a{i}]" for i in range(n))
    sound = f"{joined}concat=n={n}:v=0:a=1" if n > 1 else "[a0]anull"
    chains.append(f"{sound},volume={level.gain_db():.2f}dB,alimiter=limit={PEAK_LIMIT}:level=false:latency=true,"
                  f"asplit=2[aout][awave]")
    wave_top, wave_height = (round(height * share / 2) * 2 for share in WAVE_SHARE)
    chains += wave_chains(width, wave_height)
    # The still is read and converted once and repeated in the graph: read again for every frame
    # (-loop 1), a photo's 1080x1920 PNG cost more than the rest of the picture together.
    chains.append(f"[{n}:v:0]format=yuv420p,loop=loop=-1:size=1,setpts=N/({FPS}*TB)[bg]")
    finish = f"overlay=x=0:y={wave_top}:shortest=1:format=yuv420"
    if ass_path is not None:
        font = captions.caption_font(spec.language)
        fonts = f":fontsdir={_quote(font.directory)}" if font.directory else ""
        finish += f",ass=filename={_quote(ass_path)}{fonts}"
    chains.append(f"[bg][wave]{finish},format=yuv420p,split=2[vout][vthumb0]")
    duration = sum(e - s for s, e in spec.segments)
    chains.append(f"[vthumb0]trim=start={min(THUMBNAIL_AT, duration / 3):.3f}:duration=0.5,setpts=PTS-STARTPTS[vthumb]")
    return ";\n".join(chains)


def render_audiogram(spec: RenderSpec, out_path: Path, config: EngineConfig,
                     progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> RenderedClip:
    """One RenderSpec of a sound-only source -> an MP4 (H.264 + AAC) and its JPEG thumbnail."""
    if not spec.segments or any(e <= s for s, e in spec.segments):
        raise RenderFailed("nothing to render: every segment needs an end after its start", "render_no_segments")
    if not spec.media.has_audio:
        raise RenderFailed(f"{spec.media.path.name} has neither picture nor sound to make a short from",
                           "render_nothing_inside", name=spec.media.path.name)
    width, height = output_size(spec.aspect, spec.resolution)
    duration = sum(e - s for s, e in spec.segments)
    level = replace(measure_sound(spec.media.path, spec.segments, config.render_timeout_s, spec.media.sound_tracks),
                    voice=bool(spec.words))
    _check(cancel)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    thumb_path = out_path.with_suffix(".jpg")
    video_part = out_path.with_name(f".{out_path.name}.part")
    thumb_part = thumb_path.with_name(f".{thumb_path.name}.part")
    try:
        with tempfile.TemporaryDirectory(prefix="shortsbot-audiogram-") as tmp:
            work = Path(tmp)
            sent = Path(spec.background) if spec.background is not None and Path(spec.background).is_file() else None
            cover = sent or own_cover(spec.media.path, work / "cover.png")
            photo: PhotoPlacement | None = None
            if cover is not None:
                photo = composed(cover, work / "background.png", width, height, config.render_timeout_s)
            still = work / "background.png" if photo else gradient_still(work / "gradient.png", width, height)
            _check(cancel)
            ass_path = None
            if (spec.captions and spec.words) or (spec.title and spec.title.strip()):
                placed, _ = placements(spec.segments, 0.0)
                script = captions.caption_script(spec.words, placed, width, height, style=spec.caption_style,
                                                 title=spec.title, language=spec.language, captions=spec.captions)
                ass_path = work / "captions.ass"
                spot = caption_spot(photo, wave_bottom=sum(WAVE_SHARE))
                ass_path.write_text(centred_captions(script, height, spot), encoding="utf-8")
            graph_file = work / "graph.txt"
            graph_file.write_text(audiogram_graph(spec, width, height, level, ass_path), encoding="utf-8")
            cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-nostats", "-progress", "pipe:1", "-y"]
            for start, end in spec.segments:
                cmd += ["-ss", f"{start:.3f}", "-t", f"{end - start:.3f}", "-i", str(spec.media.path)]
            cmd += ["-framerate", str(FPS), "-i", str(still),
                    "-filter_complex_script", str(graph_file),
                    "-map", "[vout]", "-map", "[aout]",
                    "-c:v", "libx264", "-preset", config.x264_preset, "-crf", str(config.x264_crf),
                    "-tune", "stillimage", "-profile:v", "high", "-pix_fmt", "yuv420p", "-threads", str(config.threads),
                    "-c:a", "aac", "-b:a", "128k", "-ar", str(AUDIO_RATE), "-ac", "2",
                    "-t", f"{duration:.3f}", "-movflags", "+faststart", "-f", "mp4", str(video_part),
                    "-map", "[vthumb]", "-frames:v", "1", "-q:v", "3", "-f", "image2", "-update", "1", str(thumb_part)]
            run_ffmpeg(cmd, duration, progress, cancel, config.render_timeout_s)
        keep_outputs(video_part, thumb_part, out_path, thumb_path)
    finally:
        video_part.unlink(missing_ok=True)
        thumb_part.unlink(missing_ok=True)
    return rendered(out_path, thumb_path)
