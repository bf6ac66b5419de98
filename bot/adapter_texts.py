"""What the adapters say of their own, in English and Chinese: Telegram's refusals of a file before any
download, the command menus (Telegram's setMyCommands, Discord's slash commands), apologies for a reply
the platform refused, Discord's hint and thread names. Part of bot/texts.py's TEXTS (kept here so each
module stays short); `texts.say` words them in the person's language.
"""
from __future__ import annotations

ADAPTER_TEXTS: dict[str, dict[str, str]] = {
    "telegram_too_big_to_download": {
        "en": "“{name}” is {size}, but Telegram lets bots download files only up to {limit} MB. Two ways around it: "
              "send a link to the video instead (a direct link, or a page on a video site), or ask whoever runs this "
              "bot to start the local Bot API server from docker-compose (then files up to {local_limit} MB work).",
        "zh": "“{name}”有 {size}，但 Telegram 只允许机器人下载不超过 {limit} MB 的文件。有两个办法：改为发送视频的链接"
              "（直链或视频网站上的页面），或者请机器人的管理员启动 docker-compose 里的本地 Bot API 服务器"
              "（之后不超过 {local_limit} MB 的文件都可以）。",
    },
    "telegram_too_big_for_local_server": {
        "en": "“{name}” is {size}, and even the local Bot API server hands over files only up to {limit} MB. "
              "Please send a link to the video instead (a direct link, or a page on a video site).",
        "zh": "“{name}”有 {size}，即使是本地 Bot API 服务器也只交出不超过 {limit} MB 的文件。"
              "请改为发送视频的链接（直链或视频网站上的页面）。",
    },
    "telegram_too_big_for_this_bot": {
        "en": "“{name}” is {size}; this bot takes files up to {limit} MB. Please send a shorter or smaller video, "
              "or a link to it.",
        "zh": "“{name}”有 {size}；这个机器人只接收不超过 {limit} MB 的文件。请发送更短或更小的视频，或者它的链接。",
    },
    "console_greeting": {
        "en": "Send a video (type its path or a link), then say what you want. /help lists more; Ctrl-D quits.",
        "zh": "发送视频（输入它的路径或链接），然后说你想要什么。/help 查看更多；Ctrl-D 退出。",
    },
    # A download link's page, read in a browser: the reader's language is unknown, so both are shown.
    "link_invalid": {"en": "This link is invalid or has expired.", "zh": "这个链接无效或已过期。"},
    "link_gone": {"en": "This file is no longer available.", "zh": "这个文件已经不在了。"},
    "menu_start": {"en": "What this bot does", "zh": "这个机器人能做什么"},
    "menu_help": {"en": "How to get shorts from a long video", "zh": "怎样把长视频剪成短视频"},
    "menu_status": {"en": "What is uploaded and which shorts are ready", "zh": "已上传的视频和做好的短视频"},
    "menu_export": {"en": "Render and send the shorts", "zh": "渲染并发送短视频"},
    "menu_credits": {"en": "How many credits are left", "zh": "还剩多少积分"},
    "menu_share": {"en": "Post short N to the shared channel: /share 2", "zh": "把第 N 个短视频发到分享频道：/share 2"},
    "menu_cancel": {"en": "Stop the current job", "zh": "停止当前任务"},
    "menu_new": {"en": "Start over with a new video", "zh": "用新视频重新开始"},
    "slash_clip": {"en": "Cut a long video into short vertical clips", "zh": "把长视频剪成竖屏短视频"},
    "slash_clip_video": {"en": "The long video", "zh": "长视频"},
    "slash_clip_instruction": {"en": "What you want, e.g. 3 vertical shorts of 60 seconds",
                               "zh": "你的要求，例如：三个60秒的竖屏短视频"},
    "slash_export": {"en": "Render the clips of your current video", "zh": "渲染当前视频的片段"},
    "slash_credits": {"en": "How many credits you have", "zh": "你有多少积分"},
    "slash_status": {"en": "What your current session holds", "zh": "当前会话里有什么"},
    "slash_cancel": {"en": "Stop the job that is running", "zh": "停止正在运行的任务"},
    "slash_new": {"en": "Start over with a new video", "zh": "用新视频重新开始"},
    "slash_share": {"en": "Post one of your clips to the share channel", "zh": "把你的一个片段发到分享频道"},
    "slash_share_clip": {"en": "The clip's number", "zh": "片段的编号"},
    "slash_help": {"en": "What this bot does and how to use it", "zh": "这个机器人能做什么、怎么用"},
    "telegram_apology": {
        "en": "Sorry, something went wrong with that message. Please try again in a moment.",
        "zh": "抱歉，处理这条消息时出了问题。请稍后再试。",
    },
    "discord_sorry": {
        "en": "Sorry, something went wrong on my side. Please try again in a moment.",
        "zh": "抱歉，我这边出了点问题。请稍后再试。",
    },
    "discord_not_allowed": {
        "en": "Discord did not let me post that here. A server admin can give me Send Messages, "
              "Send Messages in Threads and Attach Files in this channel.",
        "zh": "Discord 不让我在这里发这条消息。服务器管理员可以在这个频道给我“发送消息”、“在子区中发送消息”和“附加文件”的权限。",
    },
    "discord_cannot_read": {
        "en": "I can't read that message: Discord only shows me messages that mention me. "
              "Mention me (@{name}) in it, or use /clip.",
        "zh": "我读不到那条消息：Discord 只给我看提到我的消息。请在消息里提到我（@{name}），或者使用 /clip。",
    },
    "discord_help": {
        "en": "On Discord: `/clip video:<file> instruction:<what you want>` anywhere, or in a DM just send the video. "
              "In a server I answer messages that mention me, and each job gets its own thread.",
        "zh": "在 Discord 上：随处可用 `/clip video:<文件> instruction:<你的要求>`，私信里直接发视频即可。"
              "在服务器里我只回复提到我的消息，每个任务都有自己的子区。",
    },
    "discord_thread": {"en": "Shorts: {subject}", "zh": "短视频：{subject}"},
    "discord_thread_untitled": {"en": "Shorts", "zh": "短视频"},
}
