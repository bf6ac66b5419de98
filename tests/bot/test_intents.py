"""The intent table of the product documents, in English and Chinese, with the phrasings people use."""
from __future__ import annotations

import pytest

from bot.intents import Intent, IntentKind, parse_command, route

K = IntentKind

WORDED = [
    # export / 导出 / download / "send me the video"
    ("export", K.EXPORT),
    ("Export", K.EXPORT),
    ("export it", K.EXPORT),
    ("export it please!", K.EXPORT),
    ("ok now export", K.EXPORT),
    ("export 1080p MP4", K.EXPORT),
    ("export all the clips in 1080p", K.EXPORT),
    ("download", K.EXPORT),
    ("download please", K.EXPORT),
    ("can I download the video?", K.EXPORT),
    ("download link", K.EXPORT),
    ("send me the video", K.EXPORT),
    ("Send me the videos.", K.EXPORT),
    ("send it to me", K.EXPORT),
    ("give me the clips", K.EXPORT),
    ("render it", K.EXPORT),
    ("导出", K.EXPORT),
    ("导出吧", K.EXPORT),
    ("请导出视频", K.EXPORT),
    ("帮我把视频导出", K.EXPORT),
    ("导出 1080p", K.EXPORT),
    ("导出1080p mp4", K.EXPORT),
    ("下载", K.EXPORT),
    ("把视频发给我", K.EXPORT),
    ("导出。", K.EXPORT),
    # credits / 积分 / balance / 余额
    ("credits", K.CREDITS),
    ("credits?", K.CREDITS),
    ("Credits", K.CREDITS),
    ("balance", K.CREDITS),
    ("what's my balance?", K.CREDITS),
    ("how many credits do I have left?", K.CREDITS),
    ("check my credit balance", K.CREDITS),
    ("how do I get more credits", K.CREDITS),
    ("积分", K.CREDITS),
    ("余额", K.CREDITS),
    ("我的积分", K.CREDITS),
    ("还有多少积分？", K.CREDITS),
    ("查询余额", K.CREDITS),
    # status / 状态 / "show tracks"
    ("status", K.STATUS),
    ("status?", K.STATUS),
    ("status of my clips?", K.STATUS),
    ("what's the status", K.STATUS),
    ("show tracks", K.STATUS),
    ("show me the tracks", K.STATUS),
    ("show the timeline", K.STATUS),
    ("export status", K.STATUS),
    ("status of clip 3", K.STATUS),
    ("progress?", K.STATUS),
    ("状态", K.STATUS),
    ("查看状态", K.STATUS),
    ("进度怎么样", K.STATUS),
    ("显示轨道", K.STATUS),
    # upload / 上传
    ("upload", K.UPLOAD),
    ("upload a video", K.UPLOAD),
    ("how do I upload?", K.UPLOAD),
    ("上传", K.UPLOAD),
    ("我要上传视频", K.UPLOAD),
    # everything else is chat: the keywords inside instructions do not count
    ("find the best moments and cut them into 60-second vertical shorts", K.CHAT),
    ("find the best moments and cut", K.CHAT),
    ("generate my long-form video", K.CHAT),
    ("export the best moments as shorts", K.CHAT),
    ("cut and export", K.CHAT),
    ("don't export yet", K.CHAT),
    ("export with captions", K.CHAT),
    ("balance the music under the voice", K.CHAT),
    ("make the audio balance better", K.CHAT),
    ("add a status bar at the top", K.CHAT),
    ("upload it to youtube for me", K.CHAT),
    ("send the video to my channel", K.CHAT),
    ("make clip 2 longer by 10 seconds", K.CHAT),
    ("remove captions", K.CHAT),
    ("make it square", K.CHAT),
    ("add a title 'Download Day'", K.CHAT),
    ("use this as background music at 30%", K.CHAT),
    ("compile them into a 2-minute highlight reel", K.CHAT),
    ("找出最精彩的片段，剪成60秒竖屏短视频", K.CHAT),
    ("导出的视频太暗了", K.CHAT),
    ("加上字幕然后导出", K.CHAT),
    ("hello", K.CHAT),
    # worded help and cancel, which no one means as an edit
    ("help", K.HELP),
    ("help?", K.HELP),
    ("帮助", K.HELP),
    ("cancel", K.CANCEL),
    ("cancel the export", K.CANCEL),
    ("取消", K.CANCEL),
    ("help me cut the video", K.CHAT),
    ("cancel the captions on clip 2", K.CHAT),
]


@pytest.mark.parametrize("text,kind", WORDED, ids=[t for t, _ in WORDED])
def test_worded_requests_follow_the_documents_table(text, kind):
    intent = route(text)
    assert intent.kind is kind
    assert intent.text == text.strip()


@pytest.mark.parametrize(
    "text,args",
    [("export 1080p MP4", "1080p mp4"), ("export clip 2 in 4k", "2 4k"), ("export", ""), ("导出 1080p", "1080p")],
)
def test_worded_export_keeps_its_qualifiers_as_args(text, args):
    assert route(text).args == args


COMMANDS = [
    ("/start", K.START, ""),
    ("/help", K.HELP, ""),
    ("/cancel", K.CANCEL, ""),
    ("/new", K.NEW, ""),
    ("/share 2", K.SHARE, "2"),
    ("/share@ShortsBot 3", K.SHARE, "3"),
    ("/export", K.EXPORT, ""),
    ("/export@MyBot now", K.EXPORT, "now"),
    ("/EXPORT", K.EXPORT, ""),
    ("/credits", K.CREDITS, ""),
    ("/status", K.STATUS, ""),
    ("/grant 42 100", K.GRANT, "42 100"),
    ("/grant@MyBot alice   5", K.GRANT, "alice   5"),
    ("/frobnicate", K.HELP, ""),
]


@pytest.mark.parametrize("text,kind,args", COMMANDS, ids=[t for t, _, _ in COMMANDS])
def test_commands(text, kind, args):
    intent = route(text)
    assert (intent.kind, intent.args) == (kind, args)


def test_a_command_the_adapter_parsed_is_used_as_given():
    assert route("whatever the caption was", command="share", command_args="4") == Intent(K.SHARE, "/share 4", "4")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("/export@MyBot now", ("export", "now")),
        ("/start", ("start", "")),
        ("  /help  ", ("help", "")),
        ("/share 2\nplease", ("share", "2\nplease")),
        ("/tmp/talk.mp4", (None, "/tmp/talk.mp4")),
        ("export", (None, "export")),
        ("a /export in the middle", (None, "a /export in the middle")),
    ],
)
def test_parse_command(text, expected):
    assert parse_command(text) == expected


def test_an_attachment_is_an_upload_and_its_caption_the_instruction():
    caption = "find the best moments and cut them into 60-second vertical shorts"
    assert route(caption, has_attachments=True) == Intent(K.UPLOAD, text=caption)
    assert route("", has_attachments=True) == Intent(K.UPLOAD)
    assert route("upload this", has_attachments=True) == Intent(K.UPLOAD)
    assert route("上传", has_attachments=True) == Intent(K.UPLOAD)
    assert route("/upload", has_attachments=True) == Intent(K.UPLOAD)


def test_a_link_is_an_upload_and_the_rest_of_the_text_the_instruction():
    intent = route("https://example.com/talk.mp4 make three 30-second clips")
    assert intent == Intent(K.UPLOAD, text="make three 30-second clips", urls=("https://example.com/talk.mp4",))
    assert route("upload https://youtu.be/abc").urls == ("https://youtu.be/abc",)
    assert route("upload https://youtu.be/abc").text == ""
    assert route("看看这个 https://b23.tv/xyz，剪成竖屏").urls == ("https://b23.tv/xyz",)


def test_upload_command_with_a_link_or_a_path():
    assert route("/upload https://example.com/a.mp4").urls == ("https://example.com/a.mp4",)
    intent = route("/upload /tmp/talk.mp4")
    assert (intent.kind, intent.args, intent.urls) == (K.UPLOAD, "/tmp/talk.mp4", ())


def test_empty_message_gets_help():
    assert route("").kind is K.HELP
    assert route("   ").kind is K.HELP


def test_links_that_are_not_http_are_chat():
    assert route("ftp://example.com/a.mp4").kind is K.CHAT
    assert route("file:///etc/passwd").kind is K.CHAT
