"""The bot's sentences about sharing a clip to a channel and granting credits (/share, /grant), in
English and Chinese. Part of bot/texts.py's TEXTS (kept here so each module stays short); `texts.say`
words them."""
from __future__ import annotations

SHARE_TEXTS: dict[str, dict[str, str]] = {
    "share_usage": {"en": "Say /share N to share clip N, e.g. /share 1.", "zh": "用 /share N 分享第 N 个片段，例如 /share 1。"},
    "share_no_target": {
        "en": "No share channel is set up for this chat platform.",
        "zh": "此平台还没有配置分享频道。",
    },
    "share_no_target_setting": {
        "en": "No share channel is set up for {platform}: the bot's operator can set {setting} to a channel "
              "the bot may post in.",
        "zh": "{platform} 还没有配置分享频道：机器人的管理员可以把 {setting} 设为机器人能发消息的频道。",
    },
    "share_failed": {
        "en": "I could not post clip {n} to the share channel ({reason}). Ask the bot's operator to add the bot "
              "to that channel as an admin who may post there, and to check {setting}.",
        "zh": "无法把第 {n} 个片段发到分享频道（{reason}）。请让机器人的管理员把机器人加为该频道可以发消息的管理员，"
              "并检查 {setting}。",
    },
    "share_no_clip": {
        "en": "There is no finished clip {n}; you have {count}.",
        "zh": "没有完成的第 {n} 个片段；你现在有 {count} 个。",
    },
    "share_done": {"en": "Shared clip {n}.", "zh": "已分享第 {n} 个片段。"},
    "shared_by": {"en": "Shared by {name}", "zh": "{name} 分享"},
    "grant_usage": {
        "en": "Usage: /grant <user id or @name> <credits>, e.g. /grant 123456789 50 or /grant @ann 50.",
        "zh": "用法：/grant <用户 id 或 @名字> <积分>，例如 /grant 123456789 50 或 /grant @ann 50。",
    },
    "grant_not_admin": {"en": "Only admins can grant credits.", "zh": "只有管理员可以发放积分。"},
    "grant_no_user": {
        "en": "I do not know {user} on {platform}: give their user id or @name exactly as I know them "
              "(they must have talked to me once).",
        "zh": "在 {platform} 上找不到 {user}：请准确给出对方的用户 id 或 @名字（对方需要先和我说过话）。",
    },
    "grant_ambiguous": {
        "en": "More than one person on {platform} is called {user} ({choices}); nothing was granted. "
              "Use the id of the one you mean, e.g. /grant {example} {amount}.",
        "zh": "{platform} 上有不止一个人叫 {user}（{choices}）；没有发放积分。请使用你指的那个人的 id，"
              "例如 /grant {example} {amount}。",
    },
    "grant_done": {
        "en": "Granted {amount} credits to {user}; they now have {available} available.",
        "zh": "已给 {user} 发放 {amount} 积分；现在可用 {available}。",
    },
}
