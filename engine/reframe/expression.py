"""A window's path as an ffmpeg expression of `t`, so that full-resolution frames are only
ever touched by ffmpeg."""
from __future__ import annotations

def centre_at(pieces: tuple[tuple[float, float, float, float], ...], t: float) -> float:
    """The window's centre at time t: what the ffmpeg expression computes, in Python."""
    for t0, t1, c0, c1 in pieces:
        if t < t1:
            return c0 + (c1 - c0) * min(max((t - t0) / (t1 - t0), 0.0), 1.0)
    return pieces[-1][3] if pieces else 0.5


def crop_offset_expression(pieces: tuple[tuple[float, float, float, float], ...],
                           picture: int, window: int) -> str:
    """The crop filter's x (or y) as a function of t, in pixels: a sum of one term per piece
    (each term is zero outside its piece), so that long paths do not nest ifs. Outside the
    pieces the first and last positions hold."""
    def offset(centre: float) -> float:
        return min(max(centre * picture - window / 2, 0.0), float(picture - window))

    if not pieces:
        return f"{(picture - window) / 2:.2f}"
    if len(pieces) == 1 and pieces[0][2] == pieces[0][3]:
        return f"{offset(pieces[0][2]):.2f}"
    terms = []
    last = len(pieces) - 1
    for i, (t0, t1, c0, c1) in enumerate(pieces):
        o0, o1 = offset(c0), offset(c1)
        value = f"{o0:.2f}" if abs(o1 - o0) < 0.005 else f"({o0:.2f}+{o1 - o0:.3f}*clip((t-{t0:.4f})/{t1 - t0:.4f},0,1))"
        if i == 0 and i == last:
            condition = ""
        elif i == 0:
            condition = f"lt(t,{t1:.4f})"
        elif i == last:
            condition = f"gte(t,{t0:.4f})"
        else:
            condition = f"gte(t,{t0:.4f})*lt(t,{t1:.4f})"
        terms.append(f"{condition}*{value}" if condition else value)
    return _grouped_sum(terms)


def _grouped_sum(terms: list[str], group: int = 32) -> str:
    """a+b+c+... in parenthesised groups: ffmpeg's evaluator rejects a flat chain of about a
    hundred terms, but not a shallow tree of short ones."""
    while len(terms) > group:
        terms = ["(" + "+".join(terms[i:i + group]) + ")" for i in range(0, len(terms), group)]
    return "+".join(terms)
