"""How a short's tracks read, in English and Chinese: bot.texts.timeline words a ClipTimeline (both
services' tracks) with these, and bot.texts.timeline_edits what an edit changed on the cloud's timeline.
Part of bot/texts.py's TEXTS (kept here so each module stays short). The English is the line nemo-api.md
documents: `Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)`.
"""
from __future__ import annotations

TIMELINE_TEXTS: dict[str, dict[str, str]] = {
    "timeline": {"en": "Timeline ({count} tracks): {tracks}", "zh": "时间线（{count} 条轨道）：{tracks}"},
    "timeline_one": {"en": "Timeline (1 track): {tracks}", "zh": "时间线（1 条轨道）：{tracks}"},
    "timeline_empty": {"en": "empty", "zh": "空"},
    "track_line": {"en": "{kind}: {body}", "zh": "{kind}：{body}"},
    "track_video": {"en": "Video", "zh": "视频"},
    "track_audio": {"en": "Sound", "zh": "音频"},
    "track_captions": {"en": "Captions", "zh": "字幕"},
    "track_title": {"en": "Title", "zh": "标题"},
    "track_music": {"en": "BGM", "zh": "背景音乐"},
    "track_other": {"en": "Track", "zh": "轨道"},
    "track_title_name": {"en": "\"{name}\"", "zh": "“{name}”"},
    "track_unnamed": {"en": "clip", "zh": "片段"},
    "track_details": {"en": "{name} ({details})", "zh": "{name}（{details}）"},
    "track_span": {"en": "{start}-{end}s", "zh": "{start}-{end} 秒"},
    "track_volume": {"en": "{volume}%", "zh": "音量 {volume}%"},
    # What an edit that said nothing changed on the cloud's timeline (bot.backends.base.TimelineEdit).
    "timeline_done": {"en": "✅ Done: {changes}.", "zh": "✅ 完成：{changes}。"},
    "timeline_added": {"en": "added {track}", "zh": "添加了{track}"},
    "timeline_removed": {"en": "removed {track}", "zh": "删除了{track}"},
    "timeline_changed": {"en": "changed {before} → {after}", "zh": "把{before}改为 {after}"},
    "timeline_unchanged": {
        "en": "The edit finished and the timeline is unchanged.",
        "zh": "编辑完成了，时间线没有变化。",
    },
    "timeline_nothing_yet": {"en": "Done. The timeline is empty so far.", "zh": "完成。时间线目前还是空的。"},
}

CAPTION_STYLE_NAMES = {"bold": {"zh": "粗体"}, "boxed": {"zh": "底框"}, "karaoke": {"zh": "逐字高亮"}}

# Between the parts of a track's details, its pieces, and an edit's changes.
DETAILS_SEPARATOR = {"en": ", ", "zh": "，"}
CHANGES_SEPARATOR = {"en": "; ", "zh": "；"}
