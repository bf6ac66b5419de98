"""The model's judgement combined with the engine's: a re-ranking of the scored candidates.

A Judge is handed to engine.highlights.select_moments as its `rerank` hook. It asks the
model about a shortlist of the candidates (engine.judge.prompt), checks every answer, and
gives each judged candidate the score

    weight x the model's 0-100  +  (1 - weight) x the engine's total of its six sub-scores,

with reasons that say which part came from where. With a request in the person's own words
(ClipRequest.unplaced, or a topic) only the candidates the model says match are kept, when
any do. Whatever goes wrong (no answer in time, a refusal, JSON that is not what was asked,
a status code, an unreachable server, times outside the video) leaves the engine's own
ranking for the cut, and says why in one log line.
"""
from __future__ import annotations

import logging
import statistics
import time
from dataclasses import dataclass, field, replace

from engine.highlights.candidates import Candidate
from engine.highlights.scoring import Context
from engine.highlights.selection import score_candidate
from engine.judge.client import JudgeUnavailable, complete, endpoint, make_client
from engine.judge.prompt import chunks, criterion, estimate_tokens, messages, shortlist
from engine.judge.schema import MalformedAnswer, Verdict, parse_answer
from engine.models import ClipRequest, JudgeSettings, Moment

log = logging.getLogger(__name__)

EDGE_SLACK = 1.0                 # seconds a suggested edge may miss a sentence edge by
ENDS_SLACK = 0.5                 # seconds past the end of the video still taken as its end


@dataclass
class JudgeReport:
    """What one cut cost and whether the model's judgement was used."""

    calls: int = 0
    chunks: int = 0
    candidates_sent: int = 0
    prompt_tokens: int = 0            # as the server counted them (estimated where it did not say)
    estimated_prompt_tokens: int = 0  # our own count of what was sent
    completion_tokens: int = 0
    seconds: float = 0.0
    fallback: str | None = None       # why the engine's ranking was kept; None when the model's was used


@dataclass
class Judge:
    settings: JudgeSettings
    request: ClipRequest
    duration: float
    language: str = "en"
    report: JudgeReport = field(default_factory=JudgeReport)
    verdicts: dict[tuple[float, float], Verdict] = field(default_factory=dict)   # by the chosen window's edges

    @property
    def has_criterion(self) -> bool:
        return bool(self.request.unplaced or self.request.topic)

    def __call__(self, candidates: list[Candidate], ctx: Context, bounds: tuple[float, float]) -> list[Candidate]:
        """The candidates re-scored with the model's judgement, or unchanged when it failed."""
        started = time.perf_counter()
        try:
            sent = shortlist(candidates, ctx.target)
            if not sent:
                return candidates
            answers = self.ask(sent, ctx)
            ranked = self.combine(candidates, sent, answers, ctx, bounds)
            log.info("language model judged %d of %d candidates in %d calls (%d prompt tokens)",
                     self.report.candidates_sent, len(candidates), self.report.calls, self.report.prompt_tokens)
            return ranked
        except JudgeUnavailable as exc:
            self.report.fallback = str(exc)
            log.warning("language model at %s not used for this cut, the engine's ranking stands: %s",
                        endpoint(self.settings.url), exc)
            return candidates
        finally:
            self.report.seconds += time.perf_counter() - started

    # --- asking -----------------------------------------------------------------------

    def ask(self, sent: list[Candidate], ctx: Context) -> dict[int, list[Verdict]]:
        """Every chunk's verdicts, checked, by candidate position in `sent`."""
        client = make_client(self.settings)
        request_text = criterion(self.request.unplaced, self.request.topic)
        answers: dict[int, list[Verdict]] = {}
        try:
            for chunk in chunks(sent, ctx.sentences, self.settings.context_tokens):
                prompt = messages(chunk, ctx.sentences, request_text, self.language)
                estimated = sum(estimate_tokens(m["content"]) for m in prompt)
                self.report.calls += 1
                self.report.chunks += 1
                self.report.candidates_sent += len(chunk.candidates)
                self.report.estimated_prompt_tokens += estimated
                reply = complete(client, self.settings, prompt)
                self.report.prompt_tokens += reply.prompt_tokens or estimated
                self.report.completion_tokens += reply.completion_tokens or 0
                try:
                    answer = parse_answer(reply.text)
                except MalformedAnswer as exc:
                    raise JudgeUnavailable(f"the answer is not the JSON asked for: {exc}") from None
                shown = dict(chunk.candidates)
                usable = [v for v in answer.candidates if v.id in shown]
                for v in usable:
                    self.check_times(v, shown[v.id])
                if len({v.id for v in usable}) * 2 < len(shown):
                    raise JudgeUnavailable(f"it answered for {len({v.id for v in usable})} of {len(shown)} candidates")
                for v in usable:
                    answers.setdefault(v.id - 1, []).append(v)
        finally:
            client.close()
        return answers

    def check_times(self, v: Verdict, c: Candidate) -> None:
        """Times outside the video are made up: the whole answer is not trusted."""
        for value in (v.start, v.end):
            if value is not None and not (0.0 <= value <= self.duration + ENDS_SLACK):
                raise JudgeUnavailable(f"it gave times outside the video (c{v.id}: {v.start}-{v.end} s "
                                       f"of a {self.duration:.0f} s video)")

    # --- combining --------------------------------------------------------------------

    def combine(self, candidates: list[Candidate], sent: list[Candidate], answers: dict[int, list[Verdict]],
                ctx: Context, bounds: tuple[float, float]) -> list[Candidate]:
        weight = min(1.0, max(0.0, self.settings.weight))
        scores = {k: statistics.fmean(v.score for v in vs) for k, vs in answers.items()}
        typical = statistics.median(scores.values())
        judged: list[tuple[Candidate, bool]] = []
        for k, c in enumerate(sent):
            verdict = answers[k][0] if k in answers else None
            model = scores.get(k, typical)
            matches = bool(verdict and any(v.matches for v in answers[k]))
            c = self.tightened(c, verdict, ctx, bounds) if verdict else replace(c, scores=dict(c.scores),
                                                                               reasons=list(c.reasons))
            engine = c.total
            c.total = weight * model + (1 - weight) * engine
            c.scores["model"] = round(model, 1)
            said = (f"model {model:.0f}: {verdict.reason or 'no reason given'}" if verdict
                    else f"model {model:.0f}: no answer for this one, the typical score assumed")
            if self.has_criterion and verdict:
                said += "" if matches else " (does not match the request)"
            c.reasons[:0] = [f"score {c.total:.0f} = {weight:g} x model {model:.0f} + {1 - weight:g} x engine {engine:.0f}",
                             said]
            if verdict:
                self.verdicts[(round(c.start, 3), round(c.end, 3))] = verdict
            judged.append((c, matches))
        if self.has_criterion and any(matches for _, matches in judged):
            return [c for c, matches in judged if matches]
        sound = [c for c in candidates if c.kind == "sound"]
        return [c for c, _ in judged] + sound

    def tightened(self, c: Candidate, v: Verdict, ctx: Context, bounds: tuple[float, float]) -> Candidate:
        """The candidate on the model's tighter sentence edges, re-scored; itself when they do not fit."""
        copy = replace(c, scores=dict(c.scores), reasons=list(c.reasons))
        if v.start is None and v.end is None:
            return copy
        start = c.start if v.start is None else v.start
        end = c.end if v.end is None else v.end
        inside = range(c.first, c.last + 1)
        first = min(inside, key=lambda k: abs(ctx.sentences[k].start - start))
        last = min(inside, key=lambda k: abs(ctx.sentences[k].end - end))
        on_edges = (abs(ctx.sentences[first].start - start) <= EDGE_SLACK
                    and abs(ctx.sentences[last].end - end) <= EDGE_SLACK and first <= last)
        if not on_edges or ctx.sentences[last].end - ctx.sentences[first].start < bounds[0]:
            copy.reasons.append(f"the model's edges {start:.1f}-{end:.1f} s not used (not on sentence edges "
                                f"inside the window, or shorter than asked)")
            return copy
        if (first, last) == (c.first, c.last):
            return copy
        edged = Candidate(first, last, ctx.sentences[first].start, ctx.sentences[last].end)
        edged = score_candidate(edged, ctx)
        edged.reasons.append(f"edges tightened by the model from {c.start:.1f}-{c.end:.1f} s")
        return edged

    # --- titles and hashtags ------------------------------------------------------------------

    def dress(self, moments: list[Moment]) -> list[Moment]:
        """Titles and hashtags from the model where it gave them (the engine's stay otherwise)."""
        for m in moments:
            v = self.verdicts.get((round(m.start, 3), round(m.end, 3)))
            if v is None or self.report.fallback:
                continue
            notes = []
            if v.title:
                m.title = v.title
                notes.append("title")
            if v.hashtags:
                tags = list(dict.fromkeys(v.hashtags))[:4]
                m.hashtags = tags + (["#shorts"] if "#shorts" not in (t.lower() for t in tags) else [])
                notes.append("hashtags")
            kept = [what for what in ("title", "hashtags") if what not in notes]
            m.reasons.append(" and ".join(notes) + " from the model" + (f"; {kept[0]} from the engine" if kept else "")
                             if notes else "title and hashtags from the engine")
        return moments
