"""How loud a short's sound is and how to bring it to the platforms' level: one ffmpeg pass over
the segments' audio measures the integrated loudness (ebur128) and each channel's RMS (astats).
The render lifts or lowers the sound by `SoundLevel.gain_db`, and puts a sound recorded in one
channel only (a lapel mic on one input of a camera) in both (`both_sides`)."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from engine.soundtrack import ONE_TRACK, the_sound

TARGET_LUFS = -14.0         # the loudness the platforms normalise to
MAX_GAIN_DB = 20.0          # never lift near-silence into loud noise ...
VOICE_MAX_GAIN_DB = 40.0    # ... but a voice the transcript heard, recorded too low, is brought up to the level
ONE_SIDED_DB = 30.0         # a channel this far below the loudest is empty: the sound is in one channel


@dataclass(frozen=True)
class SoundLevel:
    lufs: float | None                      # integrated loudness; None when silent or unreadable
    only_channel: int | None = None         # the one channel with sound in it, the others empty
    voice: bool = False                     # words were heard in it (the render knows; measure_sound does not)

    def gain_db(self) -> float:
        """The gain to TARGET_LUFS, for the sound as the short plays it: a lone channel is heard
        from both sides, 3 dB louder than it was measured. Lifted at most MAX_GAIN_DB, or
        VOICE_MAX_GAIN_DB over words (a lapel mic set too low: -41 LUFS came out at -22)."""
        if self.lufs is None:
            return 0.0
        heard = self.lufs + (3.01 if self.only_channel is not None else 0.0)
        lift = VOICE_MAX_GAIN_DB if self.voice else MAX_GAIN_DB
        return max(-MAX_GAIN_DB, min(lift, TARGET_LUFS - heard))

    def both_sides(self) -> str:
        """'' or the pan that puts the lone channel in both (a lapel mic on one input of a camera
        would be heard in one ear only), ending in ','."""
        k = self.only_channel
        return "" if k is None else f"pan=stereo|c0=c{k}|c1=c{k},"


def measure_sound(path: Path, segments: list[tuple[float, float]], timeout_s: float = 300.0,
                  tracks: tuple[int, ...] = ONE_TRACK) -> SoundLevel:
    """The segments' audio, joined: its integrated loudness (ebur128 at the source rate, without
    true-peak oversampling: a few hundred ms a minute) and, from the RMS of each channel, whether
    one alone carries the sound (the others ONE_SIDED_DB or more below it)."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-vn", "-sn", "-dn"]
    for start, end in segments:
        cmd += ["-ss", f"{start:.3f}", "-t", f"{end - start:.3f}", "-i", str(path)]
    heard = ";".join(f"{the_sound(tracks, i)}[m{i}]" for i in range(len(segments)))
    joined = "".join(f"[m{i}]" for i in range(len(segments)))
    graph = f"{heard};{joined}concat=n={len(segments)}:v=0:a=1," if len(segments) > 1 else f"{the_sound(tracks)},"
    graph += "ebur128,astats=measure_overall=none:measure_perchannel=RMS_level"
    cmd += ["-filter_complex", graph, "-f", "null", "-"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return SoundLevel(None)
    summary = result.stderr.rsplit("Summary:", 1)[-1]
    match = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    if result.returncode != 0 or not match:
        return SoundLevel(None)
    value = float(match.group(1))
    # astats prints once, at the end, before or after ebur128's summary depending on the graph
    levels = [float(v) for v in re.findall(r"RMS level dB: (-?inf|-?[\d.]+)", result.stderr)]
    loudest = max(range(len(levels)), key=lambda k: levels[k]) if levels else None
    alone = (loudest is not None and len(levels) > 1
             and all(levels[k] <= levels[loudest] - ONE_SIDED_DB for k in range(len(levels)) if k != loudest))
    return SoundLevel(None if value <= -69.0 else value, loudest if alone else None)
