"""Where captions go over one window cropped around a speaker (engine.framing.crop_shots): at
their usual place above the bottom fifth unless it covers a face there, then lower (inside the
safe zone, caption_placement.LOWEST), else above the face, held for a stretch as an editor
holds a caption position, not moved with every face box.

A face is (head, brows, mouth, chin) rows, shares of the output's height, as for the stacked
layout (engine.caption_placement): the band keeps a gap from the top of the hair to the chin
where it can, and never covers the brows to the bottom of the lower lip when it can be helped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.caption_placement import LOWEST, Face

SETTLE_S = 3.0      # a shot's first place is chosen for the faces of its first seconds
MOVE_AFTER_S = 2.0  # the captions move only when another place has been better this long
NEAR = 10           # percentile: a stretch's face is where the face comes nearest the band most of the time


@dataclass(frozen=True)
class CropShot:
    """A shot (output seconds) of one cropped window, and the faces in it sample by sample: the
    rows from the highest head to the lowest chin of the faces inside the window (None: none)."""
    start: float
    end: float
    times: tuple[float, ...]
    faces: tuple[Face | None, ...]
    segment: int = 0            # which of a reel's segments it is framing
    # shots with one number are one picture going on across a reel's straight cuts: their
    # captions keep one place through all of them (held_place); None: a picture of its own
    picture: int | None = None


@dataclass(frozen=True)
class CropPlace:
    """Where a stretch's captions go: `centre` of a band `band` tall (shares of the height);
    `usual`: at the usual place (the Caption style, not positioned)."""
    start: float
    end: float
    centre: float
    band: float
    usual: bool
    face: Face | None = None    # the stretch's face, nearest the band (see envelope)

    @property
    def top(self) -> float:
        return self.centre - self.band / 2

    @property
    def bottom(self) -> float:
        return self.centre + self.band / 2


def _clear(centre: float, band: float, top: float, bottom: float, gap: float) -> bool:
    return centre + band / 2 + gap <= top or centre - band / 2 - gap >= bottom


def quality(centre: float, band: float, face: Face | None, gap: float) -> int:
    """0: the band at `centre` is clear of the face from the hair to the chin; 1: of the brows to
    the mouth; 2: it covers eyes or mouth."""
    if face is None or _clear(centre, band, face[0], face[3], gap):
        return 0
    return 1 if _clear(centre, band, face[1], face[2], gap) else 2


def crop_place(face: Face | None, band: float, usual: float, ceiling: float, gap: float) -> float:
    """The centre of a band `band` tall whose usual centre is `usual`, between `ceiling` and
    LOWEST: the usual place when it is clear of the face from the hair to the chin; else lower,
    just clear of the chin; else as low as the safe zone goes, when that leaves the brows to the
    mouth clear (over the chin, furthest from the mouth); else above the face (above the hair,
    else over the forehead); else wherever covers least of the brows to the mouth."""
    if face is None:
        return usual
    head, brows, mouth, chin = face
    lowest, highest = LOWEST - band / 2, ceiling + band / 2
    if _clear(usual, band, head, chin, gap):
        return usual
    below_chin = max(usual, chin + gap + band / 2)
    if below_chin <= lowest:
        return below_chin
    if lowest >= usual and _clear(lowest, band, brows, mouth, gap):
        return lowest
    for top in (head, brows):
        above = min(usual, top - gap - band / 2)
        if above >= highest:
            return above

    def covered(centre: float) -> float:
        return max(0.0, min(centre + band / 2, mouth) - max(centre - band / 2, brows))
    return min((max(usual, lowest), highest), key=covered)


def envelope(faces: list[Face]) -> Face | None:
    """One face for a stretch of samples: each row where it comes nearest the middle of the face
    most of the time (the hair and brows high, the mouth and chin low: one stray box moves nothing)."""
    if not faces:
        return None
    rows = np.array(faces, dtype=float)
    return (float(np.percentile(rows[:, 0], NEAR)), float(np.percentile(rows[:, 1], NEAR)),
            float(np.percentile(rows[:, 2], 100 - NEAR)), float(np.percentile(rows[:, 3], 100 - NEAR)))


def held_place(shots: list[CropShot], band: float, usual: float, ceiling: float, gap: float
               ) -> tuple[float, Face | None]:
    """One place for the captions of shots that are one picture across a reel's straight cuts,
    as an editor keeps a caption where it is through a jump cut (moved at every join, it jumps
    while the face stays). Tried: the place each shot alone would take, and the place for all
    their faces together; kept: the one over eyes or a mouth for the least time, then over a
    face (hair to chin) for the least, then the nearest the usual place. With the faces of all
    the shots, the envelope they make together."""
    own = [envelope([f for f in shot.faces if f is not None]) for shot in shots]
    together = envelope([f for shot in shots for f in shot.faces if f is not None])

    def covering(centre: float) -> tuple[float, float, float]:
        over = {1: 0.0, 2: 0.0, 0: 0.0}
        for shot, face in zip(shots, own):
            over[quality(centre, band, face, gap)] += shot.end - shot.start
        return round(over[2], 2), round(over[1], 2), abs(centre - usual)
    tried = {crop_place(face, band, usual, ceiling, gap) for face in [*own, together]}
    return min(sorted(tried), key=covering), together


def steady_places(shot: CropShot, band: float, usual: float, ceiling: float, gap: float) -> list[CropPlace]:
    """The shot's captions' places, stretch by stretch. The first is chosen for the faces of the
    shot's first SETTLE_S; the captions move only when another place has been better for the
    face (clear of more of it, or the usual place clear again) for MOVE_AFTER_S on end, to the
    place chosen for the faces of those seconds, from where they began."""
    times, faces = shot.times, shot.faces

    def chosen(a: float, b: float) -> tuple[float, Face | None]:
        face = envelope([f for t, f in zip(times, faces) if a <= t <= b and f is not None])
        return crop_place(face, band, usual, ceiling, gap), face

    current, face = chosen(shot.start, shot.start + SETTLE_S)
    places = [[shot.start, current, face]]
    since = None
    for t, f in zip(times, faces):
        if t < shot.start + SETTLE_S and len(places) == 1:
            continue
        wanted = crop_place(f, band, usual, ceiling, gap)
        better = f is not None and (quality(wanted, band, f, gap) < quality(current, band, f, gap)
                                    or (wanted == usual != current))
        if not better:
            since = None
            continue
        since = t if since is None else since
        if t - since >= MOVE_AFTER_S:
            moved, face = chosen(since, t)
            if moved != current:
                places.append([since, moved, face])
                current = moved
            since = None
    ends = [p[0] for p in places[1:]] + [shot.end]
    return [CropPlace(start, end, centre, band, centre == usual, face)
            for (start, centre, face), end in zip(places, ends) if end > start]
