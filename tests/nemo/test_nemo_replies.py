"""Reading NemoVideo's answers (pure functions): the GUI talk translated for a chat, the draft's
summary and changes, both envelopes and every code, render status, SSE events of both shapes."""
from __future__ import annotations

import pytest

from bot.backends.base import (
    BackendUnavailable,
    ExportBlocked,
    FileTooLarge,
    MissingClientId,
    OutOfCredits,
    RateLimited,
    SessionMissing,
    TokenInvalid,
    UnsupportedFile,
)
from bot.backends.nemo import (
    DuplicateRenderId,
    describe_changes,
    draft_summary,
    parse_event,
    read_render_status,
    read_state,
    translate_gui,
    unwrap,
)
from bot.texts import timeline
from tests.nemo.cloud_helpers import DOC_DRAFT


# ====================================================================== pure functions


@pytest.mark.parametrize("said, shown, actions", [
    ("Click the Export button to download.", 'Say "export" to download.', ("export",)),
    ("When you are happy, click Export.", 'When you are happy, say "export".', ("export",)),
    ("Use the Export button at the top right.", 'Say "export" at the top right.', ("export",)),
    ("点击导出按钮即可下载", "发送“导出”即可下载", ("export",)),
    ("Preview it in the timeline before exporting.", 'Say "status" to see the tracks before exporting.', ("status",)),
    ("Open the Effects panel to check the look.", 'Say "status" to check the look.', ("status",)),
    ("open the timeline to see it", 'say "status" to see it', ("status",)),
    ("打开时间线查看", "发送“状态”查看", ("status",)),
    ("打开特效面板", "发送“状态”", ("status",)),
    ("Drag the title to 0:05.", "Tell me to move the title to 0:05.", ()),
    ("drag and drop the logo onto the corner", "tell me to move the logo onto the corner", ()),
    ("拖拽字幕到开头", "告诉我移动字幕到开头", ()),
    ('Click "Apply style" to confirm.', 'Say "Apply style" to confirm.', ()),
    ("Click the Apply button.", 'Say "Apply".', ()),
    ("click on Apply", 'say "Apply"', ()),
    ("点击“应用”", "发送“应用”", ()),
    ("点击应用按钮", "发送“应用”", ()),
    ("I cut your video into three shorts.", "I cut your video into three shorts.", ()),
])
def test_gui_talk_is_translated_for_a_chat(said, shown, actions):
    translated = translate_gui(said)
    assert translated.text == shown
    assert translated.actions == actions


def test_draft_summary_is_the_documented_line():
    assert draft_summary(DOC_DRAFT) == ('Timeline (3 tracks): 1. Video: city timelapse (0-10s) '
                                        '2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)')
    assert draft_summary({"t": []}) == "Timeline (0 tracks): empty"
    # other spellings of the undocumented segment keys
    assert draft_summary({"t": [{"tt": 0, "sg": [{"src": "https://cdn/x/talk.mp4", "start": 1500, "d": 2000}]}]}) \
        == "Timeline (1 track): 1. Video: talk.mp4 (1.5-3.5s)"


def test_the_summary_and_the_changes_in_chinese_from_the_same_tracks():
    assert draft_summary(DOC_DRAFT, "zh") == ("时间线（3 条轨道）：1. 视频：city timelapse（0-10 秒） "
                                              "2. 背景音乐：Lo-fi（0-10 秒，音量 35%） 3. 标题：“Urban Dreams”（0-3 秒）")
    assert draft_summary({"t": []}, "zh") == "时间线（0 条轨道）：空"
    two = {"t": [{"tt": 0, "sg": [{"src": "https://cdn/x/talk.mp4", "start": 1500, "d": 2000}, {"s": 3500}]}, {"tt": 3}]}
    assert draft_summary(two) == "Timeline (2 tracks): 1. Video: talk.mp4 (1.5-3.5s), clip 2. Track: empty"
    assert draft_summary(two, "zh") == "时间线（2 条轨道）：1. 视频：talk.mp4（1.5-3.5 秒），片段 2. 轨道：空"
    before = {"t": DOC_DRAFT["t"][:2]}
    assert describe_changes([before], [DOC_DRAFT], "zh").splitlines() == [
        "✅ 完成：添加了标题：“Urban Dreams”（0-3 秒）。", draft_summary(DOC_DRAFT, "zh")]
    louder = {"t": [DOC_DRAFT["t"][0], {"tt": 1, "sg": [{"n": "Lo-fi", "s": 0, "e": 10000, "v": 0.5}]}]}
    assert describe_changes([before], [louder], "zh").splitlines()[0] == \
        "✅ 完成：把背景音乐：Lo-fi（0-10 秒，音量 35%）改为 Lo-fi（0-10 秒，音量 50%）。"
    assert describe_changes([louder], [before], "zh").splitlines()[0] == \
        "✅ 完成：把背景音乐：Lo-fi（0-10 秒，音量 50%）改为 Lo-fi（0-10 秒，音量 35%）。"
    assert describe_changes([DOC_DRAFT], [before], "zh").splitlines()[0] == "✅ 完成：删除了标题：“Urban Dreams”（0-3 秒）。"
    assert describe_changes([before], [before], "zh").startswith("编辑完成了，时间线没有变化。\n时间线（2 条轨道）")
    assert describe_changes([before], [], "zh") == "完成。时间线目前还是空的。"


def test_changes_are_described_from_the_track_lines():
    before = {"t": DOC_DRAFT["t"][:2]}
    added = describe_changes([before], [DOC_DRAFT])
    assert added.splitlines()[0] == '✅ Done: added Title: "Urban Dreams" (0-3s).'
    assert added.splitlines()[1] == draft_summary(DOC_DRAFT)
    louder = {"t": [DOC_DRAFT["t"][0], {"tt": 1, "sg": [{"n": "Lo-fi", "s": 0, "e": 10000, "v": 0.5}]}]}
    changed = describe_changes([before], [louder])
    assert "changed BGM: Lo-fi (0-10s, 35%) → Lo-fi (0-10s, 50%)" in changed
    assert describe_changes([before], [before]).startswith("The edit finished and the timeline is unchanged.")
    assert "added Video: city timelapse (0-10s)" in describe_changes(None, [before])
    assert describe_changes([before], []) == "Done. The timeline is empty so far."


@pytest.mark.parametrize("status, payload, expected", [
    (200, {"code": 0, "data": {"a": 1}}, {"a": 1}),
    (200, {"success": True, "data": {"a": 2}}, {"a": 2}),
    (200, {"code": 0, "message": "ok"}, {"code": 0, "message": "ok"}),
    (200, {"code": 1001, "message": "expired"}, TokenInvalid),
    (401, {"code": 1001, "msg": "expired"}, TokenInvalid),
    (401, None, TokenInvalid),
    (200, {"code": 1002, "msg": "no session"}, SessionMissing),
    (200, {"code": 2001, "message": "no credits"}, OutOfCredits),
    (200, {"code": 4001, "message": "bad type"}, UnsupportedFile),
    (200, {"code": 4002, "message": "too big"}, FileTooLarge),
    (400, {"code": 400, "message": "missing X-Client-Id"}, MissingClientId),
    (402, {"success": False, "error": "free plan"}, ExportBlocked),
    (429, None, RateLimited),
    (400, {"success": False, "error": "Duplicate render id: render_1 already exists"}, DuplicateRenderId),
    (503, None, BackendUnavailable),
    (500, {"code": 5000, "message": "boom"}, BackendUnavailable),
])
def test_both_envelopes_and_every_code_unwrap(status, payload, expected):
    if isinstance(expected, type):
        with pytest.raises(expected) as caught:
            unwrap(status, payload)
        assert str(caught.value)                      # a sentence, not an empty error
    else:
        assert unwrap(status, payload) == expected


def test_render_status_reads_both_result_locations():
    nested = read_render_status("render_1", {"success": True, "data": {
        "id": "render_1", "status": "completed", "progress": 100, "outputUrl": "https://cdn/r1.mp4"}})
    top = read_render_status("render_2", {"status": "completed", "output": {"url": "https://cdn/r2.mp4"}})
    assert (nested.status, nested.url, nested.progress) == ("completed", "https://cdn/r1.mp4", 100.0)
    assert (top.status, top.url, top.progress) == ("completed", "https://cdn/r2.mp4", 100.0)
    assert read_render_status("r", {"success": True, "data": {"status": "processing", "progress": 50}}).progress == 50
    failed = read_render_status("r", {"success": True, "data": {"status": "failed", "error": "node crashed"}})
    assert (failed.status, failed.error) == ("failed", "node crashed")
    assert read_render_status("r", {"success": True, "data": {"status": "cancelled"}}).status == "failed"
    assert read_render_status("r", {"success": True, "data": {"status": "completed"}}).status == "failed"
    # our own words for a failure the cloud did not explain carry their key (bot/translations.py), its words none
    assert [(s.error, s.error_key) for s in (read_render_status("r", {"data": {"status": s}}) for s in
                                             ("cancelled", "error", "completed"))] == [
        ("cancelled", "backend_render_cancelled"), ("failed", "backend_render_failed"),
        ("The render finished without a download link.", "backend_render_no_link")]
    assert failed.error_key is None


def test_sse_events_of_both_shapes_parse():
    assert [i.kind for i in parse_event("")] == ["heartbeat"]
    assert [i.kind for i in parse_event('{"type":"heartbeat"}')] == ["heartbeat"]
    assert parse_event('{"type":"text","content":"hi"}')[0][:2] == ("text", "hi")
    assert parse_event('{"type":"tool_call","name":"cut","args":{}}')[0].kind == "tool_call"
    assert parse_event('{"type":"tool_result","name":"cut","result":{}}')[0].kind == "tool_result"
    adk = parse_event('{"content":{"parts":[{"text":"he"}]},"partial":true}')[0]
    assert (adk.kind, adk.text, adk.partial) == ("text", "he", True)
    mixed = parse_event('{"content":{"parts":[{"text":"ok"},{"functionCall":{"name":"cut"}}]}}')
    assert [(i.kind, i.partial) for i in mixed] == [("text", False), ("tool_call", False)]
    assert parse_event('{"content":{"parts":[{"text":"hmm","thought":true}]}}')[0].kind == "ignored"
    error = parse_event('{"type":"error","code":2001,"message":"no credits"}')[0]
    assert (error.kind, error.code) == ("error", 2001)
    assert parse_event("not json")[0].kind == "ignored"


def test_state_reads_the_draft_and_media():
    state = read_state("s1", {"session_id": "s1", "state": {"draft": DOC_DRAFT, "video_infos": [{"filename": "a.mp4"}],
                                                            "generated_media": [{"filename": "g.png"}]}})
    assert state.drafts == [DOC_DRAFT] and [m.filename for m in state.media] == ["a.mp4", "g.png"]
    assert [timeline("en", s) for s in state.summary] == [draft_summary(DOC_DRAFT)]
    assert read_state("s2", {"state": {"draft": {}}}).drafts == []
