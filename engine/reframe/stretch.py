"""A stretch of a range shown with one layout: what the editor decides, the framing renders and
the preview draws."""
from __future__ import annotations

from dataclasses import dataclass

from engine.reframe.expression import centre_at


@dataclass(frozen=True)
class Stretch:
    """One stretch of a range shown with one layout."""

    start: float
    end: float
    layout: str                  # "crop" (one person) | "stacked" (two, top and bottom) | "fit" (everyone)
    tracks: tuple[int, ...] = ()  # the track ids shown: one for crop, top then bottom for stacked
    reason: str = ""
    # stacked: the two windows shown, top then bottom, as (x, y, w, h) fractions of the source
    panels: tuple[tuple[float, float, float, float], ...] = ()
    # stacked: each panel's centre across and down over time, (t0, t1, c0, c1) pieces (panels.panel_path,
    # panel_path_down), and the face box each panel was framed on (the captions keep off its rows)
    panel_paths: tuple[tuple[tuple[float, float, float, float], ...], ...] = ()
    panel_paths_down: tuple[tuple[tuple[float, float, float, float], ...], ...] = ()
    faces: tuple[tuple[float, float, float, float], ...] = ()
    # stretches merged into one: where each one's reason starts, in order (empty: one reason throughout)
    parts: tuple[tuple[float, str], ...] = ()

    def panels_at(self, t: float) -> tuple[tuple[float, float, float, float], ...]:
        """The stacked windows where they are at `t`: each slid across and down to its paths' centres."""
        return tuple((centre_at(a, t) - w / 2 if a else x, centre_at(d, t) - h / 2 if d else y, w, h)
                     for (x, y, w, h), a, d in zip(self.panels, self.panel_paths + ((),) * 2, self.panel_paths_down + ((),) * 2))

    def reasons(self) -> tuple[tuple[float, str], ...]:
        """(start, reason) of each decision this stretch is made of."""
        return self.parts or ((self.start, self.reason),)

    def part_at(self, t: float) -> int:
        """Which of reasons() holds at `t` (the first one before it starts)."""
        return max((k for k, (start, _) in enumerate(self.reasons()) if start <= t), default=0)

    def reason_at(self, t: float) -> str:
        """The reason that holds at `t`."""
        return self.reasons()[self.part_at(t)][1]
