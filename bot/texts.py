"""Every sentence the bot says, in English and Chinese.

`say(lang, key, **values)` picks the language's template (English when a key has no
translation) and fills it in. `pick_language` decides the language of a reply: the script of
what the person wrote (a link's letters are not words), else their last words, else the platform's hint.
`reason(lang, key, english, **values)` says a sentence whose English comes with the code that
raised it (an engine or download error) in the person's language, from bot/translations.py.
Chinese comes out without a space between two Chinese characters. The sentences about what went
wrong (err_*) are kept in bot/error_texts.py, the tracks' words in bot/timeline_texts.py, where an
edit landed and what "undo" took back in bot/edit_texts.py, a reel's new length in bot/reel_texts.py,
those about what the person sent in bot/source_texts.py and the adapters' own sentences in
bot/adapter_texts.py, words of a request it cannot act on in bot/request_texts.py, an exact cut in
bot/exact_texts.py, all part of TEXTS.
"""
from __future__ import annotations

import re

from bot.adapter_texts import ADAPTER_TEXTS
from bot.edit_texts import EDIT_TEXTS
from bot.error_texts import ERROR_TEXTS
from bot.exact_texts import EXACT_TEXTS
from bot.export_texts import EXPORT_TEXTS
from bot.reel_texts import REEL_TEXTS
from bot.request_texts import REQUEST_TEXTS
from bot.share_texts import SHARE_TEXTS
from bot.source_texts import SOURCE_TEXTS
from bot.timeline_texts import CAPTION_STYLE_NAMES, CHANGES_SEPARATOR, DETAILS_SEPARATOR, TIMELINE_TEXTS
from bot.translations import REASONS  # the other languages of sentences whose English is in the code

LANGUAGES = ("en", "zh")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]{2,}")
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def written_language(text: str = "") -> str | None:
    """'zh' for words in Chinese characters, 'en' for words in Latin letters (not a /command, not a link), else None."""
    words = _LINK.sub(" ", text or "")
    cjk = len(_CJK.findall(words))
    latin = len(_LATIN.findall(words))
    if cjk and cjk >= latin:
        return "zh"
    if latin and not words.lstrip().startswith("/"):
        return "en"
    return None


def pick_language(text: str = "", hint: str | None = None, fallback: str | None = None) -> str:
    """The language of the text's words, else `fallback` (the language of the person's last words: a file
    or a link sent in a Chinese conversation is answered in Chinese), else the platform's `hint`
    ("zh-hans" -> zh), else English."""
    written = written_language(text)
    if written is not None:
        return written
    for candidate in (fallback, hint):
        if candidate and candidate.lower().startswith("zh"):
            return "zh"
        if candidate and candidate.lower()[:2] in LANGUAGES:
            return candidate.lower()[:2]
    return "en"


LANGUAGE_NAMES = {
    "en": ("English", "英语"), "zh": ("Chinese", "中文"), "yue": ("Cantonese", "粤语"), "es": ("Spanish", "西班牙语"),
    "fr": ("French", "法语"), "de": ("German", "德语"), "it": ("Italian", "意大利语"), "pt": ("Portuguese", "葡萄牙语"),
    "ru": ("Russian", "俄语"), "ja": ("Japanese", "日语"), "ko": ("Korean", "韩语"), "ar": ("Arabic", "阿拉伯语"),
    "he": ("Hebrew", "希伯来语"), "hi": ("Hindi", "印地语"), "tr": ("Turkish", "土耳其语"), "nl": ("Dutch", "荷兰语"),
    "vi": ("Vietnamese", "越南语"), "th": ("Thai", "泰语"), "pl": ("Polish", "波兰语"), "uk": ("Ukrainian", "乌克兰语"),
}


def language_name(lang: str, code: str) -> str:
    """'zh' in English is 'Chinese', in Chinese '中文'; a code without a name is shown as it is."""
    names = LANGUAGE_NAMES.get((code or "").lower())
    return code if names is None else names[1 if lang == "zh" else 0]


def clock(seconds: float) -> str:
    """61.4 -> '1:01'; 3725 -> '1:02:05'."""
    total = int(round(max(0.0, seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


EXAMPLES = {
    "en": ('"find the best moments and cut them into 60-second vertical shorts"',
           '"3 square clips about pricing, no captions"',
           '"compile a 2-minute highlight reel"',
           '"make clip 2 shorter by 10 seconds"'),
    "zh": ("“剪成三个60秒的竖屏短视频”", "“找出关于定价的精彩片段，方形，不要字幕”", "“合成一个2分钟的集锦”", "“把第2个片段缩短10秒”"),
}

TEXTS: dict[str, dict[str, str]] = {
    "start": {
        "en": "Hi {name}! I turn long videos into short vertical clips with captions.\n"
              "1. Send me a video (a file or a link).\n"
              "2. Tell me what you want, for example:\n{examples}\n"
              "3. I post each clip as soon as it is ready. Say /export for the final files.\n"
              "/help lists everything I understand.",
        "zh": "你好，{name}！我能把长视频剪成带字幕的竖屏短视频。\n"
              "1. 发给我一个视频（文件或链接）。\n"
              "2. 告诉我你想要什么，例如：\n{examples}\n"
              "3. 每个片段做好就会发给你。说 /export 获取最终文件。\n"
              "/help 查看所有命令。",
    },
    "start_no_name": {"en": "there", "zh": "朋友"},
    "help": {
        "en": "Send a video or a link, then say what you want, e.g.\n{examples}\n"
              "Edits: \"make clip 2 longer by 10 seconds\", \"start clip 1 earlier\", \"remove captions\", "
              "\"make it square\", \"more clips\", \"add a title 'My story'\", "
              "\"use this as background music at 30%\" (after sending a song), \"undo\", \"redo\".\n"
              "Exactly a part: \"cut 0:10 to 0:40\", \"make the whole video vertical\".\n"
              "Commands: /status (clips and tracks), /credits, /export [N], /share N, /cancel, /new (start over), /help.",
        "zh": "发送视频或链接，然后说出你的要求，例如：\n{examples}\n"
              "修改：“第2个片段加长10秒”、“第1个片段提前开始”、“去掉字幕”、“改成方形”、“再来几个”、"
              "“加标题「我的故事」”、“把这个作为背景音乐，音量30%”（先发送音乐）、“撤销”、“重做”。\n"
              "按时间剪：“把0:10到0:40剪出来”、“整个视频做成竖屏”。\n"
              "命令：/status（片段和轨道）、/credits（积分）、/export [N]（导出）、/share N（分享）、/cancel（取消）、"
              "/new（重新开始）、/help（帮助）。",
    },
    "unknown_command": {
        "en": "I don't know {command} — here is what I can do:\n{help}",
        "zh": "我不认识 {command} —— 这是我能做的：\n{help}",
    },
    "fetching": {"en": "Downloading {url} ...", "zh": "正在下载 {url} ..."},
    "fetching_remote": {"en": "Passing {url} to the video service ...", "zh": "正在把 {url} 交给视频服务 ..."},
    # An upload's reply: what arrived, then (without an instruction in the same message) what to do next.
    "uploaded_video": {"en": "Got {name}{details}.", "zh": "收到 {name}{details}。"},
    "uploaded_details": {"en": " ({details})", "zh": "（{details}）"},
    "uploaded_listening": {
        "en": "I am listening to it now, so the next step is quick.",
        "zh": "我正在听写内容，下一步会很快。",
    },
    "uploaded_next": {"en": "Tell me what you want, for example {example}", "zh": "告诉我你想要什么，例如 {example}"},
    "uploaded_audio_next": {
        "en": "To put it under the clips, say \"use this as background music at 30%\"; "
              "to cut clips from it, tell me what you want.",
        "zh": "要把它作为背景音乐，请说“把这个作为背景音乐，音量30%”；要从中剪辑，请告诉我你的要求。",
    },
    "uploaded_silent": {
        "en": "It has no sound, and I find the best moments in what is said, so I cannot choose any here. I can still "
              "make all of it vertical (say \"make the whole video vertical\") or a part you name (\"cut 0:05 to 0:20\").",
        "zh": "这个视频没有声音，而我是根据说话内容找精彩片段的，所以这里挑不出片段。但我可以把整个视频做成竖屏"
              "（说“把整个视频做成竖屏”），或剪出你指定的一段（“剪0:05到0:20”）。",
    },
    "uploaded_image": {"en": "Got the picture {name}.", "zh": "收到图片 {name}。"},
    "queued": {
        "en": "{ahead} job ahead of yours; I will start as soon as it is done.",
        "zh": "前面还有 {ahead} 个任务，轮到你时我会马上开始。",
    },
    "queued_many": {
        "en": "{ahead} jobs ahead of yours; I will start as soon as they are done.",
        "zh": "前面还有 {ahead} 个任务，轮到你时我会马上开始。",
    },
    "still_working": {"en": "⏳ Still working...", "zh": "⏳ 仍在处理中..."},
    "resumed": {
        "en": "I was restarted while working on your request; picking it up again.",
        "zh": "处理你的请求时我重启了，现在继续处理。",
    },
    "clip_maybe_again": {"en": "(Sent again after a restart: you may have this short already.)",
                         "zh": "（重启后再次发送：你可能已经收到过这个短视频。）"},
    "gave_up_restarts": {
        "en": "I was restarted {attempts} times while working on your request, so I stopped it. "
              "Your credits for it were given back; please ask again.",
        "zh": "处理你的请求时我重启了 {attempts} 次，所以已停止该任务。相应积分已退回，请重新发送请求。",
    },
    "credits": {
        "en": "Credits: {available} available, {frozen} frozen (held for running jobs), {total} total.",
        "zh": "积分：可用 {available}，冻结 {frozen}（正在运行的任务占用），共 {total}。",
    },
    "credits_cost": {
        "en": "Cutting costs 1 credit per started minute of video; exporting is free.",
        "zh": "剪辑按视频时长收费，每开始一分钟 1 积分；导出免费。",
    },
    "status_media": {"en": "Media: {media}", "zh": "素材：{media}"},
    "status_no_media": {"en": "No video yet: send me one to start.", "zh": "还没有视频：请先发送一个视频。"},
    "status_no_drafts": {
        "en": "No clips yet: tell me what to cut.",
        "zh": "还没有片段：告诉我要剪什么。",
    },
    "status_clip": {"en": "Clip {n}: {summary}", "zh": "片段 {n}：{summary}"},
    "status_jobs": {
        "en": "Working on: {jobs}.",
        "zh": "正在处理：{jobs}。",
    },
    "job_running": {"en": "{what} ({percent}% done)", "zh": "{what}（已完成 {percent}%）"},
    "job_queued": {"en": "{what} (waiting, {ahead} ahead)", "zh": "{what}（排队中，前面 {ahead} 个）"},
    "job_chat": {"en": "\"{text}\"", "zh": "“{text}”"},
    "job_export": {"en": "export", "zh": "导出"},
    "cancelled": {"en": "Stopped. Held credits were given back.", "zh": "已停止，冻结的积分已退回。"},
    "cancelled_job": {"en": "Cancelled.", "zh": "已取消。"},
    "nothing_to_cancel": {"en": "Nothing is running.", "zh": "没有正在运行的任务。"},
    "new_session": {
        "en": "Fresh start: send me a new video.",
        "zh": "已重新开始：请发送新的视频。",
    },
    "working": {"en": "Working on it...", "zh": "正在处理..."},
    "progress_analyse": {"en": "Listening to the video", "zh": "正在听写视频"},
    "progress_render": {"en": "Rendering clip {clip} of {of}", "zh": "正在渲染第 {clip} 个片段（共 {of} 个）"},
    # A job that renders one clip, or (an edit) some of the clips: the clip's own number, then the count.
    "progress_render_one": {"en": "Rendering clip {clip}", "zh": "正在渲染第 {clip} 个片段"},
    "progress_render_some": {"en": "Rendering clip {clip} ({n} of {of})",
                             "zh": "正在渲染第 {clip} 个片段（第 {n} 个，共 {of} 个）"},
    "progress_export": {"en": "Exporting", "zh": "正在导出"},
    "progress_done": {"en": "Done", "zh": "完成"},
    "progress_failed": {"en": "Failed", "zh": "失败"},
    "moments_found": {"en": "Found {count} moments:", "zh": "找到 {count} 个精彩片段："},
    "language_heard": {"en": "Language heard: {language}.", "zh": "识别到的语言：{language}。"},
    "captions_withheld": {
        "en": "Clip {rank} has no captions: I could not make out its speech reliably, and wrong captions are worse than none.",
        "zh": "片段 {rank} 没有字幕：这段语音我没能可靠地听清，错误的字幕不如没有。",
    },
    "moment_found": {"en": "Found 1 moment:", "zh": "找到 1 个精彩片段："},
    "moment_line": {
        "en": "{rank}. {start}-{end} \"{title}\" (score {score})",
        "zh": "{rank}. {start}-{end}「{title}」（评分 {score}）",
    },
    "moment_weak": {"en": " (weak)", "zh": "（较弱）"},
    # Facts about how the moments were chosen (engine.models.SelectionNote), one sentence each.
    "note_length_not_found": {
        "en": "Clip {rank} is {got} s: no stretch of whole sentences here is {asked} s long (±10%), so I took the "
              "nearest one.",
        "zh": "第 {rank} 个片段是 {got} 秒：这里没有由完整句子组成、长度在 {asked} 秒（±10%）以内的段落，所以选了最接近的。",
    },
    "note_only_strong": {
        "en": "Only {kept} stood out (scored {bar} or more); the next best scored {got}, so I left it out. "
              "Say how many clips you want to get more.",
        "zh": "只有 {kept} 个片段足够精彩（评分 {bar} 以上）；下一个只有 {got} 分，所以没有剪。想要更多请说明要几个片段。",
    },
    "note_weak": {
        "en": "Clip {ranks} scored under {bar}: weaker moments, given because you asked for that many.",
        "zh": "第 {ranks} 个片段评分低于 {bar}：内容较弱，因为你要了这么多个才给出。",
    },
    "note_too_long": {
        "en": "A short can be at most {got} minutes long, so these are the usual length instead.",
        "zh": "一个短视频最长 {got} 分钟，所以按常规长度剪了。",
    },
    "note_reel": {
        "en": "It is one highlight reel: {kept} moments, {got} s in all, in the order they happen.",
        "zh": "这是一个精彩集锦：{kept} 个片段，共 {got} 秒，按发生顺序排列。",
    },
    "note_reel_short": {
        "en": "It is one highlight reel of {kept} moments, {got} s in all: {this} has no more worth showing "
              "for a {asked} s reel.",
        "zh": "这是一个精彩集锦：{kept} 个片段，共 {got} 秒；{this}没有更多值得放进 {asked} 秒集锦的内容。",
    },
    "note_fewer_than_asked": {
        "en": "You asked for {asked} clips; only {kept} of that length fit in {this} without overlapping.",
        "zh": "你要了 {asked} 个片段；{this}里只能放下 {kept} 个这样长度、互不重叠的片段。",
    },
    "note_nothing_stands_out": {
        "en": "Nothing in {this} stands out by its sound or its words, so here are {kept} evenly spaced "
              "moments instead.",
        "zh": "{this}里没有声音或内容特别突出的地方，所以给你 {kept} 个均匀分布的片段。",
    },
    # A clip's caption: "#1 Title", then what is known of it ("0:12-0:41 in the source · score 87/100").
    "clip_span": {"en": "{start}-{end} in the source", "zh": "原视频 {start}-{end}"},
    "clip_score": {"en": "score {score}/100", "zh": "评分 {score}/100"},
    "button_export": {"en": "Export", "zh": "导出"},
    "button_share": {"en": "Share", "zh": "分享"},
    "button_more": {"en": "More like this", "zh": "更多类似"},
    # What "More like this" says for the presser when the clip has nothing else to name it by (and the chat
    # job's words): in the person's language, so the press keeps their replies in it.
    "more_like_clip": {"en": "more clips like clip {n}", "zh": "再来几个像第 {n} 个片段这样的片段"},
    "nothing_to_export": {
        "en": "There is nothing to export yet: tell me what to cut first.",
        "zh": "还没有可导出的内容：请先告诉我要剪什么。",
    },
    "export_failed": {"en": "Export of clip {n} failed: {reason}", "zh": "第 {n} 个片段导出失败：{reason}"},
    "export_link": {"en": "Clip {n}: {url}", "zh": "片段 {n}：{url}"},
    "export_too_slow": {
        "en": "the export took too long (over {duration}), so I stopped it. Nothing was charged; "
              "try /export again later",
        "zh": "导出耗时太久（超过 {duration}），已停止。没有扣除积分，请稍后再试 /export",
    },
    # A button under somebody else's clip: what the presser tried, and what to do instead.
    "not_yours": {
        "en": "Only {owner} can {action} this — send your own video to make yours.",
        "zh": "只有 {owner} 可以{action}这个片段——发送你自己的视频来制作你的片段吧。",
    },
    "owner_unknown": {"en": "its owner", "zh": "它的主人"},
    "action_export": {"en": "export", "zh": "导出"},
    "action_share": {"en": "share", "zh": "分享"},
    "action_more": {"en": "ask for more like", "zh": "要求更多类似"},
    "clip_gone": {
        "en": "That clip is gone (a newer cut or edit replaced it). Say /status to see the clips you have now.",
        "zh": "这个片段已经不在了（被新的剪辑或修改取代）。说 /status 查看你现在的片段。",
    },
    "changed": {"en": "Changed:", "zh": "已修改："},
    "nothing_changed": {"en": "Nothing changed: {reason}.", "zh": "没有任何改变：{reason}。"},
    "not_understood": {
        "en": "Nothing changed: I could not tell which change you meant. Try \"make clip 1 shorter by 5 seconds\", "
              "\"remove captions\" or \"more clips\".",
        "zh": "没有任何改变：我不确定你想怎么改。可以试试“把第1个片段缩短5秒”、“去掉字幕”或“再来几个”。",
    },
    "no_clips_yet": {
        "en": "There are no clips yet to change: tell me what to cut first, e.g. {example}",
        "zh": "还没有可以修改的片段：请先告诉我要剪什么，例如 {example}",
    },
    "no_music": {
        "en": "Send me a song or a sound file first, then say \"use this as background music at 30%\".",
        "zh": "请先发送一首歌或一个音频文件，然后说“把这个作为背景音乐，音量30%”。",
    },
    "music_noted": {
        "en": "Got it: the clips I cut next will have that music under them.",
        "zh": "好的：接下来剪出的片段会配上这段音乐。",
    },
    "music_off": {"en": "Got it: no background music.", "zh": "好的：不加背景音乐。"},
    "unplaced": {
        "en": "I could not use \"{reason}\" from your request: that needs a language model, and none is set up "
              "here. These are the best moments instead.",
        "zh": "我没能理解请求中的“{reason}”：这需要语言模型，而这里没有配置。下面是我挑出的最佳片段。",
    },
    "no_moments": {
        "en": "I could not find any speech to cut clips from in this video.",
        "zh": "这个视频里没有找到可以剪辑的语音内容。",
    },
    "range_past_end": {
        "en": "This video is only {length} long, so there is nothing from {start} on. Ask for a part within it.",
        "zh": "这个视频只有 {length} 长，{start} 之后没有内容。请选择视频范围内的部分。",
    },
    "summary_after_chat": {"en": "Here is where things stand:", "zh": "当前状态："},
    **ERROR_TEXTS,            # errors: each says what happened and what to do next (bot/error_texts.py)
    **ADAPTER_TEXTS,          # what the adapters say of their own (bot/adapter_texts.py)
    **TIMELINE_TEXTS,         # a short's tracks, and what an edit changed on them (bot/timeline_texts.py)
    **REEL_TEXTS,             # a highlight reel chosen again at a new length (bot/reel_texts.py)
    **EDIT_TEXTS,             # where an edit landed, and what "undo" took back (bot/edit_texts.py)
    **SOURCE_TEXTS,           # what the person sent: a sound file, a kept instruction (bot/source_texts.py)
    **REQUEST_TEXTS,          # words of a request it cannot act on (bot/request_texts.py)
    **EXACT_TEXTS,            # a stretch cut as the person named it (bot/exact_texts.py)
    **SHARE_TEXTS,            # sharing a clip to a channel, granting credits (bot/share_texts.py)
    **EXPORT_TEXTS,           # a clip exported again, made already (bot/export_texts.py)
}

REASON_SEPARATOR = {"en": "; ", "zh": "；"}


def reason(lang: str, key: str | None, english: str, /, **values) -> str:
    """A sentence from our own code in the person's language; the English it came with when there is
    no translation (or no key: details from an outside engine stay as they are)."""
    template = REASONS.get(key or "", {}).get(lang)
    return _spaced(lang, template.format(**values)) if template else english


# Chinese puts no space between two Chinese characters or marks; a space belongs only between Chinese
# and Latin letters or digits. Templates space their placeholders for numbers and names ("剩余 {available}"),
# so when the value is itself Chinese ("更多", a Chinese file name) that space goes.
_CHINESE = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u201c\u201d\u2018\u2019"
_SPACE_BETWEEN_CHINESE = re.compile(f"(?<=[{_CHINESE}]) +(?=[{_CHINESE}])")


def _spaced(lang: str, text: str) -> str:
    return _SPACE_BETWEEN_CHINESE.sub("", text) if lang == "zh" else text


STEP_NAMES = {
    "decode": {"en": "reading of the sound", "zh": "读取声音"},
    "transcription": {"en": "speech recognition", "zh": "语音识别"},
    "scene detection": {"en": "search for scene cuts", "zh": "镜头切换检测"},
}


def timeline(lang: str, summary) -> str:
    """A clip's summary (bot.backends.base.Summary) in the person's language: its tracks, numbered; a
    service's own line (a str) as it is."""
    if isinstance(summary, str):
        return summary
    lines = [track_line(lang, track) for track in summary.tracks]
    numbered = " ".join(f"{i}. {line}" for i, line in enumerate(lines, start=1)) or say(lang, "timeline_empty")
    return say(lang, "timeline_one" if len(lines) == 1 else "timeline", count=len(lines), tracks=numbered)


def track_line(lang: str, track) -> str:
    """"Video: talk.mp4 0:16-0:33 (0-16s)"; a cloud track's pieces one after another, or "empty"."""
    return say(lang, "track_line", kind=say(lang, f"track_{track.kind}"), body=_track_body(lang, track))


def _track_body(lang: str, track) -> str:
    if track.pieces is not None:
        return DETAILS_SEPARATOR[lang].join(_track_body(lang, p) for p in track.pieces) or say(lang, "timeline_empty")
    name = CAPTION_STYLE_NAMES.get(track.name, {}).get(lang, track.name) if track.kind == "captions" else track.name
    name = name or say(lang, "track_unnamed")
    name = say(lang, "track_title_name", name=name) if track.kind == "title" else name
    if track.ranges:
        name += " " + ", ".join(f"{clock(s)}-{clock(e)}" for s, e in track.ranges)
    details = []
    if track.start is not None and track.end is not None:
        details.append(say(lang, "track_span", start=short_seconds(track.start), end=short_seconds(track.end)))
    if track.volume is not None:
        details.append(say(lang, "track_volume", volume=round(track.volume * 100)))
    return say(lang, "track_details", name=name, details=DETAILS_SEPARATOR[lang].join(details)) if details else name


def timeline_edits(lang: str, edits) -> str:
    """What an edit changed on each clip's tracks (bot.backends.base.TimelineEdit), then its tracks now."""
    if not edits:
        return say(lang, "timeline_nothing_yet")
    lines = []
    for edit in edits:
        changes = [say(lang, "timeline_added", track=track_line(lang, c.after)) if c.before is None
                   else say(lang, "timeline_removed", track=track_line(lang, c.before)) if c.after is None
                   else say(lang, "timeline_changed", before=track_line(lang, c.before),
                            after=_track_body(lang, c.after)) for c in edit.changes]
        lines.append(say(lang, "timeline_done", changes=CHANGES_SEPARATOR[lang].join(changes)) if changes
                     else say(lang, "timeline_unchanged"))
        lines.append(timeline(lang, edit.timeline))
    return "\n".join(lines)


def short_seconds(seconds: float) -> str:
    """16.0 -> '16', 16.25 -> '16.2': whole seconds when the value is within 0.05 s of one."""
    value = round(seconds * 1000) / 1000
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def landed(lang: str, fact) -> str:
    """One bot.backends.base.Landed: "Clip 2 is now 9.2 s: the nearest sentence end to 13 s." """
    return say(lang, f"landed_{fact.edge}", n=fact.clip, got=short_seconds(fact.got),
               asked=short_seconds(fact.asked))


def step_name(lang: str, stage: str) -> str:
    return STEP_NAMES.get(stage, {}).get(lang) or stage


def say(lang: str, key: str, **values) -> str:
    templates = TEXTS[key]
    template = templates.get(lang) or templates["en"]
    if "examples" in template and "examples" not in values:
        values["examples"] = "\n".join(f"  {e}" for e in EXAMPLES.get(lang, EXAMPLES["en"]))
    if "example" in template and "example" not in values:
        values["example"] = EXAMPLES.get(lang, EXAMPLES["en"])[0]
    return _spaced(lang, template.format(**values))


def note(lang: str, fact, source_kind: str = "video") -> str:
    """The sentence for one engine.models.SelectionNote about a cut of a video or a sound file ("audio")."""
    facts = {**fact.to_dict(), "this": say(lang, "this_audio" if source_kind == "audio" else "this_video")}
    values = {k: (f"{v:g}" if isinstance(v, float) else v) for k, v in facts.items() if k != "kind"}
    values["ranks"] = ("、" if lang == "zh" else ", ").join(str(r) for r in facts.get("ranks", ()))
    key = f"note_{fact.kind}"
    if facts.get("kept") == 1 and f"{key}_one" in TEXTS:      # "1 evenly spaced moments" reads wrong
        key += "_one"
    return say(lang, key, **values)


def sentences(lang: str, *parts: str) -> str:
    """Sentences one after another: with a space between them in English, without one in Chinese."""
    return ("" if lang == "zh" else " ").join(part for part in parts if part)


def duration(lang: str, seconds: float) -> str:
    """1800 -> "30 minutes" / "30 分钟"; 45 -> "45 seconds" / "45 秒"."""
    if seconds >= 120:
        minutes = round(seconds / 60)
        return f"{minutes} 分钟" if lang == "zh" else f"{minutes} minutes"
    whole = max(1, round(seconds))
    return f"{whole} 秒" if lang == "zh" else f"{whole} second" + ("" if whole == 1 else "s")


def queued(lang: str, ahead: int) -> str:
    return say(lang, "queued" if ahead == 1 else "queued_many", ahead=ahead)
