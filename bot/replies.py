"""Replies made from what the clip service says: clips as videos with their buttons, the service's
events as sentences, what an upload was. Every sentence comes from bot/texts.py.
"""
from __future__ import annotations

import dataclasses
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

from bot import edit_words, exact_words, texts
from bot.backends.base import ChatEvent, Clip, Media, Sentence
from bot.messages import Button, VideoReply
from bot.reel_texts import reel_remade
from bot.texts import clock, say
from engine.highlights.titles import placeholder_in
from engine.models import SHORTEST_CLIP_SECONDS, shown_score

LinkMaker = Callable[[VideoReply], "str | None"]


def clip_reply(clip: Clip, lang: str, link_for: LinkMaker,
                buttons: tuple[str, ...] = ("button_export", "button_share", "button_more")) -> VideoReply:
    """A clip as a video reply whose buttons name this clip (its row, else its session row and number), so
    a press after a newer cut finds it gone; typed, they are the clip's number, as its caption says it."""
    number = clip.number or 1
    typed = {"button_export": f"/export {number}", "button_share": f"/share {number}",
             "button_more": say(lang, "more_like_clip", n=number)}
    target = clip_target(clip.clip_id, clip.session, number)
    if target is not None:
        by_key = {"button_export": f"/export {target}", "button_share": f"/share {target}",
                  "button_more": f"/more {target}"}
    else:                                   # nothing to name it by: the presser's own clip N
        by_key = typed
    actions = tuple(Button(say(lang, key), by_key[key], typed[key]) for key in
                    ("button_export", "button_share", "button_more") if key in buttons)
    reply = VideoReply(path=clip.path, width=clip.width, height=clip.height, duration=clip.duration,
                       caption=clip_caption(clip, lang), thumbnail=clip.thumbnail, title=placeholder_in(clip.title, lang),
                       clip_id=clip.clip_id, number=number, buttons=actions, language=lang)
    link = link_for(reply) if reply.clip_id is not None else None
    return reply if link is None else dataclasses.replace(reply, link=link)


def clip_target(clip_id: int | None, session_row: int | None, number: int) -> str | None:
    """What a button under a clip names: "clip-57" (a clip row), else "draft-12-2" (draft 2 of session row 12)."""
    if clip_id is not None:
        return f"clip-{int(clip_id)}"
    if session_row is not None:
        return f"draft-{int(session_row)}-{number}"
    return None


def event_text(event: ChatEvent, lang: str) -> str:
    if event.clips:
        count = len(event.clips)
        lines = [say(lang, "moment_found") if count == 1 else say(lang, "moments_found", count=count)]
        lines += [say(lang, "moment_line", rank=c.number, start=clock(c.start or 0), end=clock(c.end or 0),
                      title=placeholder_in(c.title, lang), score=shown_score(c.score or 0)) + (say(lang, "moment_weak") if c.weak else "")
                  for c in event.clips]
        kind = event.clips[0].source_kind
        lines += [texts.note(lang, fact, kind) for fact in event.notes]
        if heard := languages_heard(lang, event.clips):
            lines.append(heard)
        lines += [say(lang, "captions_withheld", rank=c.number) for c in event.clips if c.captions_withheld]
        return "\n".join(lines)
    said = event.sentence
    if said is None:
        return event.text
    if said.key == "timeline_edited":
        return texts.timeline_edits(lang, said.edited)
    if said.key == "changed":
        return "\n".join([say(lang, "changed")] + [say(lang, "status_clip", n=n, summary=texts.timeline(lang, s))
                                                for n, s in said.changes]
                         + [texts.landed(lang, fact) for fact in said.landed]
                         + [edit_words.reshaped(lang, fact) for fact in said.reshaped]
                         + [edit_words.moved(lang, fact) for fact in said.moved]
                         + ([reel_remade(lang, said.reel)] if said.reel is not None else []))
    if said.key == "export_again":
        key = "export_again_one" if len(said.numbers) == 1 else "export_again_some"
        return say(lang, key, ranks=("、" if lang == "zh" else ", ").join(str(n) for n in said.numbers))
    if said.key in ("undone", "redone"):
        return edit_words.undone(lang, said)
    if said.key.startswith(("undo_", "redo_")):
        return say(lang, said.key, steps=said.steps)
    if said.key == "nothing_changed" and said.reasons:
        separator = texts.REASON_SEPARATOR.get(lang, "; ")
        reason = separator.join(texts.reason(lang, r.key, r.english, **r.facts) for r in said.reasons)
        return say(lang, said.key, reason=reason)
    if said.key == "exact_cut" and said.exact is not None:
        return exact_words.exact_cut(lang, said.exact)
    if said.key == "source_too_short":
        return short_source(lang, said)
    if said.key == "range_past_end":
        return say(lang, said.key, length=clock(said.seconds), start=clock(said.start))
    if said.key in texts.TEXTS:
        return say(lang, said.key, reason=said.reason)
    return event.text


def short_source(lang: str, said: Sentence) -> str:
    """"one_second.mp4 is only 1 s long, and a short needs at least 3 s of it ..." """
    return say(lang, "source_too_short", name=said.source, length=f"{round(said.seconds, 1):g}",
               least=f"{SHORTEST_CLIP_SECONDS:g}")


def no_such_clip(lang: str, number: int, count: int) -> str:
    """"There is no clip 4: you have 1 clip." """
    clips = say(lang, "clip_count_one" if count == 1 else "clip_count", count=count)
    return say(lang, "no_such_clip", n=number, count=count, clips=clips)


def progress_text(event: ChatEvent, lang: str) -> str:
    if event.stage in ("analyse", "analyse_sound"):
        return say(lang, f"progress_{event.stage}")
    if event.stage == "render":
        clip, n, of = event.rendering
        if of == 1:
            return say(lang, "progress_render_one", clip=clip)
        if clip == n:                       # the clips in order: "clip 2 of 3" is true both ways
            return say(lang, "progress_render", clip=clip, of=of)
        return say(lang, "progress_render_some", clip=clip, n=n, of=of)
    if event.stage == "export":
        return say(lang, "progress_export")
    return event.text or say(lang, "working")


def uploaded_text(media, lang: str, *, listening: bool, instruction: bool) -> str:
    """What arrived (only what is known of it); then, unless the same message said what to make, the next
    step. `listening`: the local engine starts transcribing at once, so the next step is quick."""
    if media.kind == "image":
        return say(lang, "uploaded_image", name=media.filename)
    known = [clock(media.duration)] if media.duration else []
    if media.kind == "video" and media.width and media.height:
        known.append(f"{media.width}x{media.height}")
    details = say(lang, "uploaded_details", details=("，" if lang == "zh" else ", ").join(known)) if known else ""
    got = say(lang, "uploaded_video", name=media.filename, details=details)
    if media.silent:
        return texts.sentences(lang, got, say(lang, "uploaded_silent"))
    if instruction:
        return got
    if media.kind == "audio":
        return texts.sentences(lang, got, say(lang, "uploaded_audio_next"))
    first = texts.sentences(lang, got, say(lang, "uploaded_listening") if listening else "")
    return f"{first}\n{say(lang, 'uploaded_next')}"


def clip_caption(clip: Clip, lang: str) -> str:
    """"#1 Title", then what is known of the clip: where it is in the source, its score; its hashtags."""
    facts = []
    if clip.start is not None and clip.end is not None:
        span = "clip_span_sound" if clip.source_kind == "audio" else "clip_span"
        facts.append(say(lang, span, start=clock(clip.start), end=clock(clip.end)))
    if clip.score is not None:
        facts.append(say(lang, "clip_score", score=shown_score(clip.score)))
    title = placeholder_in(clip.title, lang)
    lines = [f"#{clip.number or 1} {title}".strip(), " · ".join(facts), " ".join(clip.hashtags)]
    return "\n".join(line for line in lines if line)


def media_line(media: Media, lang: str = "en") -> str:
    """"talk.mp4 (0:40)" / "talk.mp4（0:40）"; a photo by its name alone (a still has no length)."""
    name = media.filename or media.media_id or "file"
    timed = media.duration and media.kind != "image"
    return name + say(lang, "uploaded_details", details=clock(media.duration)) if timed else name


@asynccontextmanager
async def closing(stream) -> AsyncIterator:
    """An event stream closed when the reader stops early (a refused clip, a cancel), so the backend's
    own clean-up runs now rather than whenever the garbage collector gets to it."""
    try:
        yield stream
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()



def languages_heard(lang: str, clips) -> str:
    """"Language heard: English." when every clip is in the same language(s); else each clip's
    ("Languages heard: English in clip 1; German in clip 2."); "" when no speech was heard."""
    heard = [(c.number, c.languages or (c.language,)) for c in clips if c.languages or c.language]
    if not heard:
        return ""

    def names(codes: tuple[str, ...]) -> str:
        return ("、" if lang == "zh" else ", ").join(texts.language_name(lang, code) for code in codes)

    if len({tuple(sorted(codes)) for _, codes in heard}) == 1:
        codes = heard[0][1]
        if len(codes) == 1:
            return say(lang, "language_heard", language=names(codes))
        return say(lang, "languages_heard", languages=names(codes))
    each = ("；" if lang == "zh" else "; ").join(say(lang, "languages_in_clip", n=n, languages=names(codes))
                                                 for n, codes in heard)
    return say(lang, "languages_heard", languages=each)
