"""Looking for a second person the keyframes missed, at a fixed small cost per range.

The keyframe glance runs the costly passes (tilted, profile) on the first keyframes, but a
range may hold only two or three keyframes, and a listener turned in profile on all of them
(the 2016 debate's split screen: the left man behind his microphone at 0 s and 10 s) stays
unseen: the samples then ask for one face, the frontal one on the other side satisfies it,
and the short never shows him. `LookingElsewhere` takes the place of the detector for the
2-a-second samples when the glance saw one person:

- every sample gets the usual first pass that finds anyone;
- `SPREAD_LOOKS` samples spread evenly over the range also search, with every pass, the strips
  of the picture where a second face would be too far from the first for one crop window
  (`elsewhere`): only there would one change the framing. A one-person clip pays for a few
  searches of part of the picture, not for one on every other sample;
- once two samples have shown such a pair, every `every`-th sample looks for both on the whole
  picture, as `LookingFor` does when the glance saw them, and `people` says how many were seen,
  for the looks that follow (the dense look).
"""
from __future__ import annotations

import numpy as np

from engine.reframe.detection import FaceDetector, Face
from engine.reframe.path import Window, prominent, too_far_apart

SPREAD_LOOKS = 6            # samples per range searched for a second person apart from the first
FACE_SIZES = 1.2            # a second face up to this many times the first one's width is searched for
SMALLEST_FACE = 0.6         # a strip narrower than this share of the face's width cannot hold a person
PAIRS_SEEN = 2              # samples showing two people apart before the rest look for both


def spread(samples: int, looks: int = SPREAD_LOOKS) -> set[int]:
    """`looks` sample indices spread evenly over `samples` (each in the middle of its share)."""
    looks = min(looks, samples)
    return {int((k + 0.5) * samples / looks) for k in range(looks)}


def elsewhere(faces: list[Face], window: Window) -> list[tuple[float, float]]:
    """The strips (x0, x1 as fractions of the width) beside the prominent faces where another
    face would be too far from them for one crop window: left of the people, a face must start
    before their right edge minus 0.9 window (the span `too_far_apart` uses); right of them,
    end after their left edge plus 0.9 window. Strips too narrow for a face are left out."""
    people = prominent(faces)
    if not people or window.axis != "x":
        return []
    low, high = min(f.x for f in people), max(f.x + f.w for f in people)
    width = max(f.w for f in people)
    reach = 0.9 * window.length
    strips = [(0.0, min(low, high - reach + FACE_SIZES * width)),
              (max(high, low + reach - FACE_SIZES * width), 1.0)]
    return [(a, b) for a, b in strips if b - a >= SMALLEST_FACE * width]


class LookingElsewhere:
    """A detector for the samples of a range where the glance saw one person (see the module)."""

    def __init__(self, detector: FaceDetector, window: Window, samples: int, every: int = 2) -> None:
        self.detector, self.window, self.every = detector, window, every
        self.at = spread(samples)
        self.people = 1
        self._count = 0
        self._pairs = 0
        self._seen_at = 0

    def detect(self, gray: np.ndarray, thorough: bool = True) -> list[Face]:
        index = self._count
        self._count += 1
        if self.people > 1:
            further = (index - self._seen_at) % self.every == 0
            return self.detector.detect(gray, thorough, wanted=self.people if further else 1)
        found = self.detector.detect(gray, thorough, wanted=1)
        if thorough and found and index in self.at and not too_far_apart(found, self.window):
            found += self._beside(gray, found)
        if too_far_apart(found, self.window):
            # twice, so that one false detection does not make a one-person clip pay for two
            self._pairs += 1
            if self._pairs >= PAIRS_SEEN:
                self.people, self._seen_at = len(prominent(found)), index
        return found

    def _beside(self, gray: np.ndarray, found: list[Face]) -> list[Face]:
        """Faces in the strips `elsewhere` leaves, every pass run on each, as fractions of the picture."""
        h, w = gray.shape
        # Only a face the size of a person beside the first one counts (prominent's share of area).
        smallest = int(SMALLEST_FACE * max(f.w for f in prominent(found)) * w)
        faces = []
        for x0, x1 in elsewhere(found, self.window):
            left, right = int(x0 * w), int(np.ceil(x1 * w))
            strip = np.ascontiguousarray(gray[:, left:right])
            faces += [Face((left + f.x * strip.shape[1]) / w, f.y, f.w * strip.shape[1] / w, f.h)
                      for f in self.detector.detect(strip, thorough=True, wanted=1, smallest=smallest)]
        return faces
