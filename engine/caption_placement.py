"""Where captions go while two people are stacked one above the other (engine/reframe/panels.py):
on the seam between the two halves, or as near it as the faces and the title leave room; and
where the title goes when its usual place, the top, would cover the top person's face.

engine.framing says where the faces are (`StackedSpan`); engine.captions, which knows how many
rows each caption is drawn in and where the title's box ends, asks `seam_place` for the room its
captions may use (`SeamPlace`) and centres each caption in it as near the seam as it fits.
"""
from __future__ import annotations

from dataclasses import dataclass

LOWEST = 0.8                # captions end above the bottom fifth, where the apps put their buttons

Face = tuple[float, float, float, float]      # (head, brows, mouth, chin) rows, shares of the height


@dataclass(frozen=True)
class StackedSpan:
    """A stretch of the output (output seconds) showing two people stacked, and their faces."""
    start: float
    end: float
    faces: tuple[Face, ...]
    seam: float = 0.5           # where the two halves meet, a share of the height
    segment: int = 0            # which of a reel's segments it is framing (a crossfade shows two)


@dataclass(frozen=True)
class SeamPlace:
    """The rows (shares of the height) a stretch's captions may use, and the seam they keep near."""
    top: float
    bottom: float
    seam: float = 0.5

    @property
    def centre(self) -> float:
        return (self.top + self.bottom) / 2

    def centre_for(self, drawn: float) -> float:
        """Where a caption `drawn` tall is centred: inside the room as near the seam as it fits (a
        caption shorter than the room planned slides towards the seam); in the room's middle when
        it does not fit."""
        lo, hi = self.top + drawn / 2, self.bottom - drawn / 2
        return min(max(self.seam, lo), hi) if lo <= hi else self.centre


def _outside(lo: float, hi: float, zones: list[tuple[float, float]], pad: float) -> list[tuple[float, float]]:
    """The parts of [lo, hi] outside every zone widened by `pad` on both sides."""
    free = [(lo, hi)]
    for top, bottom in zones:
        free = [p for a, b in free for p in ((a, min(b, top - pad)), (max(a, bottom + pad), b)) if p[1] > p[0]]
    return free


def _hair_to_chin(faces) -> list[tuple[float, float]]:
    return [(f[0], f[3]) for f in faces]


def _brows_to_mouth(faces) -> list[tuple[float, float]]:
    return [(f[1], f[2]) for f in faces]


def title_spot(faces, top: float, bottom: float, ceiling: float, floor: float, gap: float,
               hair: bool = True) -> float | None:
    """Where the title's box goes when at [top, bottom] (the top margin) it would come nearer
    than `gap` to a face: the top of a box as tall, as low as it fits between `ceiling` and
    `floor` (just above the captions on the seam), over the top person's chest. None: it stays.
    As for the captions, a face counts from the top of the hair to the chin, else (when nowhere
    is clear of that) from the brows to the mouth: over a chin rather than a forehead, and never
    over eyes or a mouth when it can be helped. Without `hair`, from the brows to the mouth
    alone: over a single cropped face, framed with its eyes a third of the way down, the title
    belongs in the headroom over the hair, where it always was."""
    tall = bottom - top
    for zones in ((_hair_to_chin(faces),) if hair else ()) + (_brows_to_mouth(faces),):
        if _outside(top, bottom, zones, gap) == [(top, bottom)]:
            return None
        rooms = [(lo, hi) for lo, hi in _outside(ceiling, floor, zones, gap) if hi - lo >= tall]
        if rooms:
            return max(hi for _, hi in rooms) - tall
    return None


def seam_place(faces: list[Face] | tuple[Face, ...], band: float, ceiling: float, seam: float = 0.5,
               gap: float = 0.0) -> SeamPlace:
    """The room for a caption band `band` tall (a share of the height) between `ceiling` (the
    highest it may reach: under the title's box, or the top margin) and LOWEST: the band on the
    seam when it comes no nearer a face than `gap`; else the nearest place that keeps that gap from
    the top of the hair to the chin; else the nearest that leaves the brows to the mouth clear; else the widest
    room between the brows and mouths, which the band overflows onto the faces. The title is never
    given up for a face: text over text leaves neither readable."""
    for zones in (_hair_to_chin(faces), _brows_to_mouth(faces)):
        allowed = _outside(ceiling + band / 2, LOWEST - band / 2, zones, band / 2 + gap)
        if allowed:
            centre = min((min(max(seam, lo), hi) for lo, hi in allowed), key=lambda c: abs(c - seam))
            return SeamPlace(centre - band / 2, centre + band / 2, seam)
    below = max(seam, ceiling)
    rooms = _outside(ceiling, LOWEST, _brows_to_mouth(faces), 0.0) or [(below, below)]
    lo, hi = max(rooms, key=lambda r: r[1] - r[0])
    return SeamPlace(lo, hi, seam)
