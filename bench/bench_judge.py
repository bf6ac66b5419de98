"""What the optional language model costs for one cut of the 10-minute benchmark talk.

    .venv/bin/python bench/bench_judge.py [--video talk.mp4] [--json]

The talk is bench/bench_engine.py's (made once under bench/out/). The model is the test
suite's fake OpenAI-compatible server on loopback (tests/fake_llm.py), answering at
once, so the numbers are what the judge itself adds: calls, prompt and answer tokens
(the fake counts 4 bytes a token, as the judge's own estimate does), candidates sent,
and wall time against the same cut without a model, measured in the same run.
The fake prefers the talk's planted passage (its price rise), so the picks show
whether the model's choice reaches the result.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_engine import BENCH_VIDEO, OUT, TALK_SECONDS, talk_pieces  # noqa: E402
from tests.fake_llm import FakeLLM, prefer  # noqa: E402
from tests.media import SAMPLE_RATE, build_talk_audio, write_wav  # noqa: E402

BENCH_SOUND = OUT / "talk-10min.wav"

REQUESTS = ("find the best moments and cut them into 60-second vertical shorts",
            "the funniest bits, 30 seconds each")
PLANTED = ("prices", "forty percent", "value you create")     # the hook passage, in words Whisper hears well
REPEATS = 5


class FakeInThread:
    """The fake server on its own event loop, as a real model server is its own process."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.fake: FakeLLM | None = None

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.fake = FakeLLM(reply=prefer(PLANTED, title="The change that doubled revenue"))
        self.loop.run_until_complete(self.fake.__aenter__())
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        self.ready.wait()
        return self.fake

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.fake.__aexit__(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


def bench_judge(video: Path, cache_dir: Path, context_tokens: int = 8192) -> dict:
    from engine.highlights import length_bounds, scored_candidates
    from engine.instructions import parse_instruction
    from engine.judge import Judge
    from engine.models import EngineConfig, JudgeSettings
    from engine.pipeline import analyse, choose

    analysis = analyse(video, EngineConfig(cache_dir=cache_dir))
    results = {"video_seconds": analysis.media.duration, "sentences": len(analysis.sentences), "cuts": []}
    with FakeInThread() as fake:
        settings = JudgeSettings(url=fake.base_url, model="fake", timeout_s=30.0, context_tokens=context_tokens)
        for text in REQUESTS:
            request = parse_instruction(text)
            low, high, target = length_bounds(request)
            candidates, _ = scored_candidates(analysis.sentences, analysis.signals, request,
                                              analysis.media.duration, low, high, target)
            alone_s, judged_s = [], []
            for _ in range(REPEATS):                 # interleaved, so both see the same machine
                t = time.perf_counter()
                alone = choose(analysis, request)
                alone_s.append(time.perf_counter() - t)
                judge = Judge(settings, request, analysis.media.duration, language=analysis.transcript.language)
                fake.requests.clear()
                t = time.perf_counter()
                judged = choose(analysis, request, judge=judge)
                judged_s.append(time.perf_counter() - t)
            report = judge.report
            server_prompt = sum(sum(len(m["content"].encode()) // 4 for m in r.body["messages"]) for r in fake.requests)
            results["cuts"].append({
                "request": text,
                "candidates": len(candidates),
                "candidates_sent": report.candidates_sent,
                "calls": report.calls,
                "prompt_tokens": report.prompt_tokens,
                "prompt_tokens_estimated": report.estimated_prompt_tokens,
                "prompt_tokens_fake_counted": server_prompt,
                "completion_tokens": report.completion_tokens,
                "fallback": report.fallback,
                "select_alone_s": min(alone_s),
                "select_judged_s": min(judged_s),
                "added_s": min(judged_s) - min(alone_s),
                "alone": [(round(m.start, 1), round(m.end, 1), m.title) for m in alone],
                "judged": [(round(m.start, 1), round(m.end, 1), m.title, any(p in m.text.lower() for p in PLANTED))
                           for m in judged],
            })
    return results


def print_judge(results: dict, context_tokens: int) -> None:
    print(f"language-model judge on {results['video_seconds']:.0f} s ({results['sentences']} sentences), "
          f"LLM_CONTEXT_TOKENS={context_tokens}, fake answering at once; best of {REPEATS}")
    for cut in results["cuts"]:
        print(f"  \"{cut['request']}\"")
        print(f"    {cut['calls']} calls, {cut['candidates_sent']} of {cut['candidates']} candidates sent, "
              f"{cut['prompt_tokens']} prompt tokens (estimate {cut['prompt_tokens_estimated']}), "
              f"{cut['completion_tokens']} answer tokens")
        print(f"    select: {cut['select_alone_s'] * 1000:.0f} ms alone, {cut['select_judged_s'] * 1000:.0f} ms judged "
              f"(+{cut['added_s'] * 1000:.0f} ms)" + (f"  FALLBACK: {cut['fallback']}" if cut["fallback"] else ""))
        for start, end, title in cut["alone"]:
            print(f"    alone   {start:7.1f}-{end:7.1f}  {title}")
        for start, end, title, planted in cut["judged"]:
            print(f"    judged  {start:7.1f}-{end:7.1f}  {title}{'   <- planted passage' if planted else ''}")


def make_bench_sound(path: Path = BENCH_SOUND, seconds: float = TALK_SECONDS) -> Path:
    """The benchmark talk's soundtrack alone (the judge reads only the transcript, so the 1080p
    picture would cost minutes to make and change nothing); made once, then kept."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        audio, _ = build_talk_audio(talk_pieces(seconds), Path(tmp) / "pieces")
        partial = write_wav(audio[: int(seconds * SAMPLE_RATE)], Path(tmp) / "talk.wav")
        partial.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="a video instead of the 10-minute benchmark talk (its sound, "
                                                   "or bench_engine's video when made)")
    parser.add_argument("--context-tokens", type=int, default=8192)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    video = args.video or (BENCH_VIDEO if BENCH_VIDEO.exists() else make_bench_sound())
    with tempfile.TemporaryDirectory() as cache:
        results = bench_judge(video, Path(cache), args.context_tokens)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_judge(results, args.context_tokens)
    return 0


if __name__ == "__main__":
    sys.exit(main())
