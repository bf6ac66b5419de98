"""The filters that frame one segment of a short: the window sliding along its path (crop),
two people one above the other (stacked), the whole picture over a blurred copy (fit), or a
different one of these per stretch of the segment (the reframer's editor decides which).

Each function returns a filter-graph fragment that takes the segment's picture and gives
width x height; labels inside a fragment carry a prefix so several fragments share one graph.
`stacked_spans` says where the captions must move off the faces (engine.caption_placement),
`crop_shots` where the faces are in a cropped window (engine.caption_crop).
"""
from __future__ import annotations

import numpy as np

from engine import reframe
from engine.caption_crop import CropShot
from engine.caption_placement import StackedSpan


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def framing_filters(framing: reframe.Framing, src_w: int, src_h: int, width: int, height: int,
                    label: str = "f") -> str:
    """The video filters after the segment's input that turn its picture into width x height.
    `label` prefixes the graph's inner pad names, so several segments can share one graph."""
    if framing.mode == "crop" or (framing.mode == "speakers" and all(s.layout == "crop" for s in framing.stretches)):
        return crop_filters(framing, src_w, src_h, width, height)
    if framing.mode == "speakers":
        return stretch_filters(framing, src_w, src_h, width, height, label)
    if framing.mode == "fit":
        return fit_filters(src_w, src_h, width, height, label)
    return f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height}"


def crop_filters(framing: reframe.Framing, src_w: int, src_h: int, width: int, height: int) -> str:
    """The window of the output's shape sliding along the path (jumps at cuts), scaled. Across
    the axis it covers the whole picture, or the part `window.span` says (a split screen's)."""
    window = framing.window
    if window.axis == "x":
        crop_h = src_h if window.span >= 1.0 else min(src_h, _even(src_h * window.span))
        crop_w = min(src_w, _even(crop_h * width / height))
        x = reframe.crop_offset_expression(framing.pieces, src_w, crop_w)
        crop = f"crop=w={crop_w}:h={crop_h}:x='{x}':y={min(int(window.top * src_h), src_h - crop_h)}"
    else:
        crop_w, crop_h = src_w, min(src_h, _even(src_w * height / width))
        y = reframe.crop_offset_expression(framing.pieces, src_h, crop_h)
        crop = f"crop=w={crop_w}:h={crop_h}:x=0:y='{y}'"
    return f"{crop},scale={width}:{height}"


def stacked_filters(panels, src_w: int, src_h: int, width: int, height: int, label: str, paths=(),
                    paths_down=()) -> str:
    """Two people, each in a window around their face, one above the other; a window with a
    path (panels.panel_path, panel_path_down; segment time) slides across or up and down with its face."""
    top_h = _even(height / 2)
    chains = [f"split=2[{label}t][{label}b]"]
    for k, (name, (x, y, w, h), out_h) in enumerate(zip("tb", panels, (top_h, height - top_h))):
        cw, ch = min(src_w, _even(w * src_w)), min(src_h, _even(h * src_h))
        cx, cy = min(max(0, int(x * src_w)), src_w - cw), min(max(0, int(y * src_h)), src_h - ch)
        if k < len(paths) and paths[k]:
            cx = f"'{reframe.crop_offset_expression(paths[k], src_w, cw)}'"
        if k < len(paths_down) and paths_down[k]:
            cy = f"'{reframe.crop_offset_expression(paths_down[k], src_h, ch)}'"
        chains.append(f"[{label}{name}]crop={cw}:{ch}:{cx}:{cy},scale={width}:{out_h}[{label}{name}s]")
    return ";".join(chains) + f";[{label}ts][{label}bs]vstack=inputs=2"


def stretch_filters(framing: reframe.Framing, src_w: int, src_h: int, width: int, height: int, label: str) -> str:
    """A layout per stretch of the segment: the picture is split, each copy keeps its stretch's
    frames (trim), is laid out, and the stretches are joined again in order (concat)."""
    n = len(framing.stretches)
    chains = [f"split={n}" + "".join(f"[{label}s{i}]" for i in range(n))]
    for i, stretch in enumerate(framing.stretches):
        start = "" if i == 0 else f"start={stretch.start:.4f}"
        end = "" if i == n - 1 else f"end={stretch.end:.4f}"
        trim = f"trim={':'.join(p for p in (start, end) if p)}," if (start or end) else ""
        inner = f"{label}{i}"
        if stretch.layout == "stacked" and len(stretch.panels) == 2:
            body = stacked_filters(stretch.panels, src_w, src_h, width, height, inner, stretch.panel_paths,
                                   stretch.panel_paths_down)
        elif stretch.layout == "crop":
            body = crop_filters(framing, src_w, src_h, width, height)
        else:
            body = fit_filters(src_w, src_h, width, height, inner)
        # The layout runs on the stretch's own times (the crop path is in segment time), then
        # each stretch is restarted at zero for concat.
        chains.append(f"[{label}s{i}]{trim}{body},setsar=1,setpts=PTS-STARTPTS[{label}o{i}]")
    joined = "".join(f"[{label}o{i}]" for i in range(n))
    return ";".join(chains) + f";{joined}concat=n={n}:v=1:a=0"


def fit_filters(src_w: int, src_h: int, width: int, height: int, label: str = "f") -> str:
    """The whole picture, scaled to fit, between two bands cut from a blurred, zoomed copy of
    its middle (above and below it, or left and right for a tall source).

    The copy is shrunk to a sixteenth, blurred there and enlarged only into the bands, and the
    three pieces are stacked. Measured on 1080p: this costs about what a plain crop and scale
    costs, where blurring a quarter-size copy and overlaying the picture on it full size added
    about a tenth to the CPU time of the whole encode."""
    wide = src_w * height > src_h * width
    if wide:
        fg_w, fg_h = width, min(height, _even(width * src_h / src_w))
        cover = f"crop={min(src_w, _even(src_h * width / height))}:{src_h}"
    else:
        fg_w, fg_h = min(width, _even(height * src_w / src_h)), height
        cover = f"crop={src_w}:{min(src_h, _even(src_w * height / width))}"
    band = (height - fg_h if wide else width - fg_w) // 4 * 2        # the first band, even
    rest = (height - fg_h if wide else width - fg_w) - band
    if band < 2 or rest < 2:
        return f"scale={fg_w}:{fg_h},pad={width}:{height}:(ow-iw)/2:(oh-ih)/2"
    tw, th = max(16, _even(width / 16)), max(16, _even(height / 16))
    if wide:
        first, second = _even(band / height * th), _even(rest / height * th)
        pieces = (f"[{label}b1]crop={tw}:{first}:0:0,scale={width}:{band}:flags=bilinear[{label}first];"
                  f"[{label}b2]crop={tw}:{second}:0:{th - second},scale={width}:{rest}:flags=bilinear[{label}second];")
        stack = "vstack=inputs=3"
    else:
        first, second = _even(band / width * tw), _even(rest / width * tw)
        pieces = (f"[{label}b1]crop={first}:{th}:0:0,scale={band}:{height}:flags=bilinear[{label}first];"
                  f"[{label}b2]crop={second}:{th}:{tw - second}:0,scale={rest}:{height}:flags=bilinear[{label}second];")
        stack = "hstack=inputs=3"
    return (f"split=2[{label}bg][{label}fg];"
            f"[{label}bg]{cover},scale={tw}:{th}:flags=fast_bilinear,boxblur=luma_radius=3:luma_power=2,split=2[{label}b1][{label}b2];"
            f"{pieces}"
            f"[{label}fg]scale={fg_w}:{fg_h}[{label}fgs];"
            f"[{label}first][{label}fgs][{label}second]{stack}")


def stacked_spans(placed: list[tuple[float, float, float]], framings: list[reframe.Framing],
                  height: int = 1920) -> list[StackedSpan]:
    """Where the output shows two people stacked, in output time, and where their faces are, for
    the captions to find room between them (engine.caption_placement)."""
    return [StackedSpan(at + s.start, at + s.end, tuple(panel_faces(s, height)), _even(height / 2) / height, i)
            for i, ((_, _, at), framing) in enumerate(zip(placed, framings))
            if framing.mode == "speakers" for s in framing.stretches if s.layout == "stacked"]


def panel_faces(stretch: reframe.Stretch, height: int) -> list[tuple[float, float, float, float]]:
    """(head, brows, mouth, chin) of each stacked face, as shares of the output's height (each
    kept inside its own half)."""
    top_h = _even(height / 2) / height
    out = []
    for k, (box, panel) in enumerate(zip(stretch.faces, stretch.panels)):
        start, span = (0.0, top_h) if k == 0 else (top_h, 1.0 - top_h)
        rows = reframe.face_rows(box, panel)
        out.append(tuple(start + span * min(max(r, 0.0), 1.0) for r in (rows.head, rows.brows, rows.mouth, rows.chin)))
    return out


def crop_shots(placed: list[tuple[float, float, float]], framings: list[reframe.Framing],
               cuts: list[list[float]], straight_cuts: tuple[bool, ...] = ()) -> list[CropShot]:
    """Each shot (output time) of one cropped window, or of a picture shown whole, and the rows
    of the faces the framing found inside it, for the captions to keep off (engine.caption_crop).
    `cuts`: each segment's scene cuts, in segment time. Stacked and fitted stretches have none.
    A shot that goes on across a straight cut of the reel (`straight_cuts`, per join: one shot
    on both sides, engine.join_choice) is one picture with the shot it goes on from."""
    shots: list[CropShot] = []
    for i, ((start, end, at), framing) in enumerate(zip(placed, framings)):
        times, boxes = _seen(framing)
        if framing.mode == "speakers":
            spans = [(s.start, s.end) for s in framing.stretches if s.layout == "crop"]
        else:
            spans = [(0.0, end - start)] if framing.mode in ("crop", "scale") else []
        for a, b in spans:
            edges = sorted({a, b, *(c for c in cuts[i] if a < c < b)})
            for t0, t1 in zip(edges, edges[1:]):
                inside = [k for k, t in enumerate(times) if t0 <= t < t1]
                faces = tuple(_rows_in_window(boxes[k], framing, times[k]) for k in inside)
                before = placed[i - 1] if i else None
                goes_on = (t0 == 0.0 and before is not None and i - 1 < len(straight_cuts) and straight_cuts[i - 1]
                           and shots and shots[-1].segment == i - 1
                           and shots[-1].end >= before[2] + before[1] - before[0] - 1e-6)
                picture = shots[-1].picture if goes_on else len(shots)
                shots.append(CropShot(at + t0, at + t1, tuple(at + times[k] for k in inside), faces, i, picture))
    return shots


def _seen(framing: reframe.Framing) -> tuple[list[float], list[list[np.ndarray]]]:
    """The times (segment time) the framing saw faces at, and the boxes (x, y, w, h) seen at each."""
    if framing.faces is not None:
        return ([float(t) for t in framing.faces.times],
                [[np.array([f.x, f.y, f.w, f.h]) for f in sample] for sample in framing.faces.faces])
    trace = framing.trace
    if trace is None or not len(trace.boxes):
        return [], []
    return ([float(t) for t in trace.times],
            [[box for box in trace.boxes[:, k] if not np.isnan(box[0])] for k in range(len(trace.times))])


def _rows_in_window(boxes: list[np.ndarray], framing: reframe.Framing, t: float) -> tuple[float, ...] | None:
    """(head, brows, mouth, chin) from the highest head to the lowest chin of the faces whose
    middle is inside the window at `t`, as shares of the output's height; None: no face there."""
    window = framing.window
    top, span, left, right = 0.0, 1.0, 0.0, 1.0
    if framing.mode != "scale" and window.slides:
        half = window.length / 2
        centre = min(max(reframe.centre_at(framing.pieces, t), half), 1 - half)
        if window.axis == "x":
            top, span, left, right = window.top, window.span, centre - half, centre + half
        else:
            top, span = centre - half, window.length
    rows = [reframe.face_rows(box, (0.0, top, 1.0, span)) for box in boxes if left <= box[0] + box[2] / 2 <= right]
    if not rows:
        return None
    envelope = (min(r.head for r in rows), min(r.brows for r in rows),
                max(r.mouth for r in rows), max(r.chin for r in rows))
    return tuple(min(max(r, 0.0), 1.0) for r in envelope)
