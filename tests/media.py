"""Test media made on the spot with espeak-ng, numpy and ffmpeg's lavfi sources.

A "talk" is a list of sentences spoken one after another with pauses; because each
sentence is synthesised alone, its start and end in the result are known exactly.
"""
from __future__ import annotations

import json
import secrets
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22050
SHARED_MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def speak(text: str, path: Path, voice: str = "en-us", speed: int = 165, pitch: int = 50) -> Path:
    """espeak-ng text -> 22.05 kHz mono WAV."""
    run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text])
    return path


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
    samples = np.frombuffer(frames, dtype=np.int16).astype(np.float32) / 32768.0
    if rate != SAMPLE_RATE:
        idx = np.linspace(0, len(samples) - 1, int(len(samples) * SAMPLE_RATE / rate))
        samples = np.interp(idx, np.arange(len(samples)), samples).astype(np.float32)
    return samples


def write_wav(samples: np.ndarray, path: Path, rate: int = SAMPLE_RATE) -> Path:
    clipped = np.clip(samples, -1.0, 1.0)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((clipped * 32767).astype(np.int16).tobytes())
    return path


def write_undecodable_wav(path: Path, seconds: float = 1.0) -> Path:
    """A WAV whose header names an audio format no decoder knows (tag 0x9999): ffprobe reads its
    length, ffmpeg cannot decode a sample of it."""
    write_wav(tone(seconds), path)
    data = bytearray(path.read_bytes())
    fmt = data.find(b"fmt ") + 8
    data[fmt: fmt + 2] = (0x9999).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


def noise_burst(seconds: float, level: float = 0.5, seed: int = 0) -> np.ndarray:
    """Applause-like: dense random clicks over noise, with a soft attack and decay."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    noise = rng.normal(0, 1, n).astype(np.float32)
    clicks = (rng.random(n) < 0.02).astype(np.float32) * rng.normal(0, 3, n).astype(np.float32)
    envelope = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.15 * SAMPLE_RATE))
    signal = (noise * 0.5 + clicks) * envelope
    return (signal / (np.max(np.abs(signal)) + 1e-9) * level).astype(np.float32)


# noise_burst(level=0.9) at this gain is applause about 8 dB quieter than an espeak-ng voice at gain 1.0.
QUIET_APPLAUSE_GAIN = 0.7


def tone(seconds: float, freq: float = 220.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (np.sin(2 * np.pi * freq * t) * level).astype(np.float32)


def music(seconds: float, seed: int = 0, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A band at 120 bpm: a chord a bar (I-V-vi-IV, each note with its harmonics, struck on the
    beat), a kick on beats 1 and 3, a snare on 2 and 4, hi-hats on the eighths. Loud, rhythmic
    and tonal as a podcast's intro is, with no voice in it."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    beat = 0.5

    def struck(freq: float, length: float, decay: float) -> np.ndarray:
        t = np.arange(int(length * rate)) / rate
        return sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 7)) * np.exp(-decay * t)

    def add(at: int, sound: np.ndarray) -> None:
        end = min(len(out), at + len(sound))
        out[at:end] += sound[:max(0, end - at)]

    t_kick, t_snare, t_hat = (np.arange(int(s * rate)) / rate for s in (0.25, 0.15, 0.04))
    for i in range(int(seconds / beat) + 1):
        at = int(i * beat * rate)
        root = (261.63, 392.0, 440.0, 349.23)[i // 4 % 4]
        add(at, 0.15 * sum(struck(root * r, beat, 2.0) for r in (1.0, 1.26, 1.5)))
        if i % 2 == 0:
            add(at, 0.8 * np.sin(2 * np.pi * (50 + 100 * np.exp(-20 * t_kick)) * t_kick) * np.exp(-12 * t_kick))
        else:
            add(at, rng.normal(0, 0.3, len(t_snare)) * np.exp(-25 * t_snare))
        for eighth in (0, 1):
            add(at + int(eighth * beat / 2 * rate), np.diff(rng.normal(0, 0.1, len(t_hat) + 1)) * np.exp(-80 * t_hat))
    return (out / (np.abs(out).max() + 1e-9) * 0.5).astype(np.float32)


@dataclass(frozen=True)
class Piece:
    """One element of a made-up talk: a sentence to speak, or a sound."""

    text: str = ""
    sound: np.ndarray | None = None
    gain: float = 1.0
    pause_after: float = 0.6
    voice: str = "en-us"


@dataclass(frozen=True)
class Placed:
    text: str
    start: float
    end: float
    is_speech: bool


def build_talk_audio(pieces: list[Piece], workdir: Path, lead_in: float = 0.5) -> tuple[np.ndarray, list[Placed]]:
    workdir.mkdir(parents=True, exist_ok=True)
    parts: list[np.ndarray] = [np.zeros(int(lead_in * SAMPLE_RATE), np.float32)]
    placed: list[Placed] = []
    cursor = lead_in
    for i, piece in enumerate(pieces):
        if piece.text:
            audio = read_wav(speak(piece.text, workdir / f"piece-{i}.wav", voice=piece.voice))
            audio = _trim_silence(audio)
        else:
            audio = piece.sound if piece.sound is not None else np.zeros(0, np.float32)
        audio = np.clip(audio * piece.gain, -1, 1).astype(np.float32)
        seconds = len(audio) / SAMPLE_RATE
        placed.append(Placed(piece.text, cursor, cursor + seconds, bool(piece.text)))
        parts.append(audio)
        parts.append(np.zeros(int(piece.pause_after * SAMPLE_RATE), np.float32))
        cursor += seconds + int(piece.pause_after * SAMPLE_RATE) / SAMPLE_RATE
    return np.concatenate(parts), placed


def _trim_silence(audio: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if len(loud) == 0:
        return audio
    return audio[loud[0]: loud[-1] + 1]


def make_video(path: Path, audio_wav: Path | None, duration: float, size: str = "640x360", fps: int = 25,
               source: str = "testsrc2", extra: list[str] | None = None) -> Path:
    """A lavfi picture (testsrc2 by default) with the given audio, H.264 + AAC."""
    cmd = ["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", f"{source}=size={size}:rate={fps}:duration={duration}"]
    if audio_wav is not None:
        cmd += ["-i", str(audio_wav), "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-b:a", "96k", "-shortest"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *(extra or []), str(path)]
    run(cmd)
    return path


def make_talk_video(path: Path, pieces: list[Piece], size: str = "640x360", fps: int = 25) -> tuple[Path, list[Placed]]:
    """A made-up talk: espeak-ng sentences and sounds over a lavfi picture. Returns the file and where each piece is.
    A keyframe every second, as phones record (x264's default is one every 10 s): the reframer's keyframe
    glance then settles the framing, as it does for a creator's recording, instead of a 2 fps face search."""
    audio, placed = build_talk_audio(pieces, path.parent / (path.stem + "-pieces"))
    wav = write_wav(audio, path.with_suffix(".wav"))
    make_video(path, wav, duration=len(audio) / SAMPLE_RATE, size=size, fps=fps, extra=["-g", str(fps)])
    (path.with_suffix(".json")).write_text(json.dumps([p.__dict__ for p in placed]))
    return path, placed


DEFAULT_TALK = [
    "Welcome to the show. Today we talk about building a small business from nothing.",
    "I started with three hundred dollars and a laptop.",
    "The first year was slow, and most days nobody bought anything.",
    "Then we changed one thing about our pricing.",
    "Do you know what happened next? Sales tripled in a single month!",
    "That is the lesson. Charge for the value you create, not for your time.",
    "Our second topic is hiring the first employee.",
    "Hire slowly, and look for people who finish what they start.",
    "We made mistakes here too, and they cost us a lot of money.",
    "Thank you for listening. See you next week.",
]


def default_talk_pieces() -> list[Piece]:
    return [Piece(text=t) for t in DEFAULT_TALK]


def crowd_audio(seconds: float, bursts: list[tuple[float, float, float]], bed_rms: float = 0.02,
                seed: int = 0) -> np.ndarray:
    """A game or a skate session with nobody talking: steady crowd noise at `bed_rms`, slowly
    swelling and fading by about 2 dB, with cheers mixed over it; each of `bursts` is
    (start s, length s, dB louder than the crowd)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    audio = rng.normal(0, bed_rms, n).astype(np.float32) * (1 + 0.25 * np.sin(2 * np.pi * t / 7.0)).astype(np.float32)
    for k, (start, length, rise_db) in enumerate(bursts):
        cheer = noise_burst(length, level=1.0, seed=seed + 1 + k)
        cheer *= bed_rms * 10 ** (rise_db / 20) / (np.sqrt(np.mean(cheer ** 2)) + 1e-12)
        first = int(start * SAMPLE_RATE)
        audio[first: first + len(cheer)] += cheer[: n - first]
    return audio


@dataclass(frozen=True)
class SpokenWord:
    text: str
    start: float
    end: float


def build_word_talk(sentences: list[str], workdir: Path, word_gap: float = 0.08,
                    pauses: list[float] | None = None, lead_in: float = 0.6, seed: int = 0
                    ) -> tuple[np.ndarray, list[list[SpokenWord]]]:
    """A talk spoken word by word with espeak-ng, so that each word's start and end are known to
    the sample: words `word_gap` apart (a little random), sentences `pauses[i]` apart (0.6 s by
    default). Returns the 22.05 kHz audio and the words of each sentence."""
    workdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = [np.zeros(int(lead_in * SAMPLE_RATE), np.float32)]
    cursor = int(lead_in * SAMPLE_RATE)
    spoken: list[list[SpokenWord]] = []
    for i, sentence in enumerate(sentences):
        words = []
        texts = sentence.split()
        for k, text in enumerate(texts):
            audio = _trim_silence(read_wav(speak(text, workdir / f"w{i}-{k}.wav")))
            words.append(SpokenWord(text, cursor / SAMPLE_RATE, (cursor + len(audio)) / SAMPLE_RATE))
            parts.append(audio)
            cursor += len(audio)
            if k + 1 < len(texts):
                gap = int(word_gap * rng.uniform(0.6, 1.4) * SAMPLE_RATE)
                parts.append(np.zeros(gap, np.float32))
                cursor += gap
        spoken.append(words)
        pause = int((pauses[i] if pauses and i < len(pauses) else 0.6) * SAMPLE_RATE)
        parts.append(np.zeros(pause, np.float32))
        cursor += pause
    return np.concatenate(parts), spoken


# --- two people on one screen, from real talking clips in ../shared/media ----------------------

@dataclass(frozen=True)
class Person:
    """A real recording placed in a 1920x1080 picture: `clip` (in shared media) scaled to `size`
    pixels square with its top-left corner at (x, y); `skip` seconds into the clip."""

    clip: str
    x: int
    y: int
    size: int
    skip: float = 0.0
    turn: float = 0.0           # degrees the picture is turned (a head leaning: only the costlier passes find it)
    enter: float = 0.0          # seconds into the video when the person appears
    sound_ahead: float = 0.0    # seconds their sound runs ahead of their picture (a remote link's late video)
    still_from: float | None = None     # from then on their picture holds still (a listener's mouth at rest)
    nods: float = 0.0           # degrees their head tips to and fro in their turns, as fast as their voice is loud
    rise: tuple[float, float, int] | None = None    # (start, end, pixels): they move up this far then (stand up)

    def centre_x(self, width: int = 1920) -> float:
        """Where the face is across the picture (the clips are framed on the face), 0-1."""
        return (self.x + self.size / 2) / width


LEFT = Person("talking_obama_20s.mp4", 260, 300, 440)
RIGHT = Person("talking_tedlieu_60s.mp4", 1250, 320, 400, skip=2.0)


STUDIO_SEED = 1           # make_two_people's studio backdrop and grain: the same file on every call


def window_with_blinds(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """A grey wall (with some grain) and a bright window with horizontal blinds in the middle of
    it, as a PNG of `width` x `height`: drawn at the face detector's 448x252 and scaled up. Its
    slats, the rail across them and the darker left frame are what OpenCV's frontal cascade
    takes for a face (a box about 128 pixels wide there), as on the window behind a real seated
    interview (issue 12)."""
    import cv2

    rng = np.random.default_rng(seed)
    picture = 83 + rng.normal(0, 9, (252, 448))
    x, y, w, h, pitch = 179, 29, 84, 146, 12
    window = np.full((h, w), 198.0) - 32.0 * ((np.arange(h) % pitch) < pitch // 4)[:, None]
    window -= 6.0 * np.linspace(-1, 1, h)[:, None]
    window[34:39] -= 26.0                               # the rail
    picture[y:y + h, x:x + w] = window
    picture[y:y + h, x - 4:x] = 24.0                    # the frame, darker on the left
    picture[y:y + h, x + w:x + w + 4] = 42.0
    grey = cv2.GaussianBlur(np.clip(picture, 0, 255).astype(np.uint8), (0, 0), 1.04)
    cv2.imwrite(str(path), cv2.resize(grey, (width, height), interpolation=cv2.INTER_LINEAR))
    return path


def make_two_people(path: Path, turns: list[tuple[float, float, int]], duration: float,
                    people: tuple[Person, ...] = (LEFT, RIGHT), media: Path = SHARED_MEDIA,
                    size: str = "1920x1080", fps: int = 25, studio: bool = False,
                    seed: int | None = STUDIO_SEED, keyframe_every: int = 50, backdrop: Path | None = None) -> Path:
    """Two (or more) real faces side by side, all moving all the time (the clips are people talking),
    and one soundtrack in which only the person whose turn it is can be heard: `turns` are
    (start, end, index into people). A person's sound is their own recording, so their mouth
    moves in step with it; the listener's mouth moves too, out of step with what is heard.
    `studio`: a slowly shifting coloured backdrop and camera grain over the whole picture instead
    of a flat grey one, so that an encoder spends on it what it spends on a real recording.
    `seed` fixes the backdrop's colour points and the grain, so a file made twice is the same file;
    None draws a new realisation each call (robustness runs over many backdrops).
    `keyframe_every`: frames between keyframes (a large number: the one keyframe at the start).
    `backdrop`: a picture of the video's size behind the people (in place of the grey)."""
    if seed is None:
        seed = secrets.randbelow(2**31)
    inputs: list[str] = []
    for person in people:
        inputs += ["-stream_loop", "-1", "-ss", f"{person.skip:.2f}", "-i", str(media / person.clip)]
    sounds = list(range(len(people)))             # the input each person's sound is taken from
    for i, person in enumerate(people):
        if person.sound_ahead:
            sounds[i] = max(sounds) + 1
            inputs += ["-stream_loop", "-1", "-ss", f"{person.skip + person.sound_ahead:.2f}", "-i",
                       str(media / person.clip)]
    if backdrop is not None:
        picture = f"[{inputs.count('-i')}:v]scale={size.replace('x', ':')},format=yuv420p"
        inputs += ["-loop", "1", "-framerate", str(fps), "-i", str(backdrop)]
    else:
        picture = (f"gradients=s={size}:r={fps}:d={duration}:c0=0x3a3f4a:c1=0x6b5a48:c2=0x2c3a33:nb_colors=3"
                   f":speed=0.002:seed={seed}" if studio else f"color=0x30343a:s={size}:r={fps}:d={duration}")
    graph = [f"{picture}[bg]"]
    for i, person in enumerate(people):
        turned = f",rotate={person.turn}*PI/180:c=0x30343a" if person.turn else ""
        nodding = "" if not person.nods else nod_filters(
            path.with_name(f"{path.stem}-nods{i}.cmd"), media / person.clip, person,
            [(s, e) for s, e, who in turns if who == i], duration, fps, f"rotate@nod{i}")
        still = (f",trim=end={person.still_from:.3f},tpad=stop_mode=clone:stop_duration={duration:.3f}"
                 if person.still_from is not None else "")
        graph.append(f"[{i}:v]scale={person.size}:{person.size}{turned},setpts=PTS-STARTPTS{still}{nodding}[v{i}]")
        speaking = "+".join(f"between(t,{s:.3f},{e:.3f})" for s, e, who in turns if who == i) or "0"
        graph.append(f"[{sounds[i]}:a]aresample=48000,aformat=channel_layouts=stereo,asetpts=PTS-STARTPTS,"
                     f"volume='if({speaking},1,0)':eval=frame[a{i}]")
    below = "[bg]"
    for i, person in enumerate(people):
        last = i == len(people) - 1
        enters = f":enable='gte(t,{person.enter})'" if person.enter else ""
        y = (f"'{person.y}-{person.rise[2]}*clip((t-{person.rise[0]})/{person.rise[1] - person.rise[0]},0,1)'"
             if person.rise else person.y)
        graph.append(f"{below}[v{i}]overlay={person.x}:{y}:shortest=1{enters}" + ((f",noise=alls=7:allf=t:all_seed={seed}" if studio else "") + ",format=yuv420p[v]" if last else f"[b{i}]"))
        below = f"[b{i}]"
    graph.append("".join(f"[a{i}]" for i in range(len(people))) + f"amix=inputs={len(people)}:normalize=0[a]")
    run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", ";".join(graph),
         "-map", "[v]", "-map", "[a]", "-t", f"{duration}", "-c:v", "libx264",
         # studio: the bit rate and B-frames of a real 1080p upload, so decoding it costs what that costs
         *(["-preset", "veryfast", "-maxrate", "6M", "-bufsize", "12M"] if studio else ["-preset", "ultrafast"]),
         "-g", str(keyframe_every), "-c:a", "aac", str(path)])
    return path


def nod_filters(commands: Path, clip: Path, person: Person, spans: list[tuple[float, float]], duration: float,
                fps: int, name: str) -> str:
    """The filters that nod a person's picture: it turns to and fro by up to person.nods degrees
    about a point below the chin (so the brow moves more than the mouth) inside `spans`, as fast
    as their own sound is loud, frame by frame against its loud end: a head that moves with the
    words. The angles go to the rotate filter `name` from an ffmpeg sendcmd file, `commands`."""
    rate = 8000
    raw = subprocess.run(["ffmpeg", "-v", "error", "-stream_loop", "-1", "-ss", f"{person.skip:.2f}", "-i", str(clip),
                          "-t", f"{duration:.3f}", "-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le", "pipe:1"],
                         capture_output=True, check=True).stdout
    audio = np.frombuffer(raw, np.int16).astype(float)
    hop, frames = rate // fps, int(duration * fps)
    loudness = np.array([np.sqrt(np.mean(audio[k * hop:(k + 1) * hop] ** 2)) if k * hop < len(audio) else 0.0
                         for k in range(frames)])
    times = np.arange(frames) / fps
    inside = np.zeros(frames, bool)
    for start, end in spans:
        inside |= (times >= start) & (times < end)
    speed = np.where(inside, np.clip(loudness / max(np.percentile(loudness, 95), 1e-9), 0, 1), 0.0)
    travelled = np.cumsum(speed) * person.nods / 3            # a whole swing in three loud frames
    angle = person.nods - np.abs(travelled % (2 * person.nods) - person.nods)   # to and fro between 0 and nods
    commands.write_text("\n".join(f"{t:.3f} {name} a {np.radians(a):.5f};" for t, a in zip(times, angle)) + "\n")
    # The picture on top of its own height of backdrop turns about its bottom edge, then is cut out again.
    return (f",pad=iw:2*ih:0:0:color=0x30343a,sendcmd=f='{commands}',{name}=a=0:c=0x30343a,"
            f"crop=iw:ih/2:0:0")


# --- a split screen: two camera pictures side by side with a divider ---------------------------

@dataclass(frozen=True)
class Camera:
    """One picture of a split screen: `clip` (in shared media, or a lavfi source when it has no
    dot) filling the picture's height `zoom` times over, `face_x` the share of the picture's width
    at which its (centred) face should sit."""

    clip: str
    face_x: float = 0.5
    skip: float = 0.0
    zoom: float = 1.0


def make_split_screen(path: Path, cameras: tuple[Camera, Camera], turns: list[tuple[float, float, int]],
                      duration: float, media: Path = SHARED_MEDIA, size: str = "960x540", divider: int = 8,
                      fps: int = 25) -> Path:
    """Two camera pictures side by side with a white divider between them, as news and remote
    interviews show them; each picture's sound heard only in its `turns` (start, end, index)."""
    width, height = map(int, size.split("x"))
    picture_w = (width - divider) // 2 // 2 * 2
    inputs: list[str] = []
    graph: list[str] = []
    for i, camera in enumerate(cameras):
        video_in = audio_in = inputs.count("-i")
        if "." in camera.clip:
            inputs += ["-stream_loop", "-1", "-ss", f"{camera.skip:.2f}", "-i", str(media / camera.clip)]
        else:
            inputs += ["-f", "lavfi", "-i", f"{camera.clip}=s={height}x{height}:r={fps}:d={duration}",
                       "-f", "lavfi", "-i", f"anullsrc=r=48000:cl=stereo:d={duration}"]
            audio_in = video_in + 1
        # The square clip, zoom times as high as the frame, cut to the picture with its face at face_x.
        side = int(height * camera.zoom) // 2 * 2
        left = int(np.clip(side / 2 - camera.face_x * picture_w, 0, side - picture_w))
        graph.append(f"[{video_in}:v]scale={side}:{side},crop={picture_w}:{height}:{left}:{(side - height) // 2},"
                     f"setpts=PTS-STARTPTS,fps={fps},format=yuv420p[v{i}]")
        speaking = "+".join(f"between(t,{s:.3f},{e:.3f})" for s, e, who in turns if who == i) or "0"
        graph.append(f"[{audio_in}:a]aresample=48000,aformat=channel_layouts=stereo,asetpts=PTS-STARTPTS,"
                     f"volume='if({speaking},1,0)':eval=frame[a{i}]")
    rest = width - 2 * picture_w
    graph.append(f"color=white:s={rest}x{height}:r={fps}:d={duration},format=yuv420p[line]")
    graph.append("[v0][line][v1]hstack=inputs=3,format=yuv420p[v]")
    graph.append("[a0][a1]amix=inputs=2:normalize=0[a]")
    run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", ";".join(graph), "-map", "[v]", "-map", "[a]",
         "-t", f"{duration}", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-c:a", "aac", str(path)])
    return path
