"""What replies look like on Telegram: escaping, Telegram's length limits (in UTF-16 units), keyboards, sentences."""
from __future__ import annotations

from pathlib import Path

from adapters import telegram_format as fmt
from bot.messages import Button, ProgressReply, VideoReply


def test_user_text_is_escaped_for_html():
    assert fmt.escape('<script> & "quotes"') == '&lt;script&gt; &amp; "quotes"'


def test_long_text_splits_at_line_ends_within_4096_utf16_units():
    lines = [("😀" * 30 + " line %d" % i) for i in range(200)]       # emoji count twice in UTF-16
    pieces = fmt.split_text("\n".join(lines))
    assert len(pieces) > 1
    assert all(fmt.utf16_len(p) <= fmt.MESSAGE_LIMIT for p in pieces)
    assert "\n".join(pieces) == "\n".join(lines)
    assert all(p.endswith(tuple(f"line {i}" for i in range(200))) for p in pieces)


def test_a_single_line_longer_than_a_message_is_cut_hard():
    pieces = fmt.split_text("a" * 9000)
    assert [len(p) for p in pieces] == [4096, 4096, 808]


def test_caption_bolds_the_title_where_it_stands_and_fits_1024():
    reply = VideoReply(Path("clip.mp4"), 1080, 1920, 30.0, title="Pricing <secrets>",
                       caption="#1 Pricing <secrets>\n1:04-1:33 in the source\n#pricing #shorts" + " #tag" * 400)
    caption = fmt.video_caption_html(reply)
    assert caption.startswith("#1 <b>Pricing &lt;secrets&gt;</b>\n1:04-1:33")
    shown = caption.replace("<b>", "").replace("</b>", "").replace("&lt;", "<").replace("&gt;", ">")
    assert fmt.utf16_len(shown) <= fmt.CAPTION_LIMIT and shown.endswith("…")


def test_caption_without_the_title_gets_it_on_top():
    reply = VideoReply(Path("clip.mp4"), 1080, 1920, 30.0, title="Q&A", caption="#qa #shorts")
    assert fmt.video_caption_html(reply) == "<b>Q&amp;A</b>\n\n#qa #shorts"


def test_keyboard_buttons_carry_their_action_and_drop_what_telegram_cannot_hold():
    markup = fmt.keyboard((Button("Export", "/export"), Button("Share", "/share 2"),
                           Button("More like this", "more clips like clip 2"), Button("Too long", "/x " + "y" * 70)))
    rows = markup.inline_keyboard
    assert [[b.callback_data for b in row] for row in rows] == [["/export", "/share 2"], ["more clips like clip 2"]]
    assert fmt.keyboard(()) is None


def test_progress_shows_a_bar_until_done():
    assert fmt.progress_html(ProgressReply("job-1", "Rendering clip 1 of 2", 0.5)) == \
        "Rendering clip 1 of 2\n▓▓▓▓▓░░░░░ 50%"
    assert fmt.progress_html(ProgressReply("job-1", "Done", 1.0, done=True)) == "Done"


def test_too_big_to_download_names_the_limit_and_both_ways_around_it():
    text = fmt.too_big_to_download("en", "conference.mp4", 734_003_200, 20, local_mode=False)
    assert "700 MB" in text and "20 MB" in text
    assert "send a link" in text and "local Bot API server from docker-compose" in text
    local = fmt.too_big_to_download("en", "all-day.mp4", 2500 * fmt.MB, 2000, local_mode=True)
    assert "2000 MB" in local and "docker-compose" not in local
    chinese = fmt.too_big_to_download("zh", "会议.mp4", 734_003_200, 20, local_mode=False)
    assert chinese.startswith("“会议.mp4”有 700 MB，但 Telegram 只允许机器人下载不超过 20 MB 的文件。")
    assert "发送视频的链接" in chinese and "docker-compose 里的本地 Bot API 服务器" in chinese and "2000 MB" in chinese
    local = fmt.too_big_to_download("zh", "全天.mp4", 2500 * fmt.MB, 2000, local_mode=True)
    assert "即使是本地 Bot API 服务器也只交出不超过 2000 MB 的文件" in local and "docker-compose" not in local
    assert fmt.too_big_for_this_bot("zh", "会议.mp4", 734_003_200, 500) == \
        "“会议.mp4”有 700 MB；这个机器人只接收不超过 500 MB 的文件。请发送更短或更小的视频，或者它的链接。"
    assert fmt.too_big_for_this_bot("en", "talk.mp4", 734_003_200, 500) == \
        "“talk.mp4” is 700 MB; this bot takes files up to 500 MB. Please send a shorter or smaller video, or a link to it."


