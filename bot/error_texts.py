"""The bot's sentences about what went wrong, in English and Chinese: each says what happened and what to
do next. Part of bot/texts.py's TEXTS (kept here so each module stays short); `texts.say` words them."""
from __future__ import annotations

ERROR_TEXTS: dict[str, dict[str, str]] = {
    "err_unsupported": {
        "en": "{reason}I accept {accepted}.",
        "zh": "{reason}我支持这些格式：{accepted}。",
    },
    "err_too_long": {
        "en": "That video is {minutes} minutes long, over the {limit}-minute limit. Please send a shorter part of it "
              "(for example the hour you want clipped).",
        "zh": "这个视频有 {minutes} 分钟，超过了 {limit} 分钟的上限。请发送其中较短的一段（例如需要剪辑的那一小时）。",
    },
    "err_too_slow": {
        "en": "The {step} took longer than its {limit} limit, so I stopped it and charged nothing. "
              "Please try again later, or send a shorter video.",
        "zh": "{step}超过了{limit}的时间上限，我已停止，没有扣除积分。请稍后再试，或发送更短的视频。",
    },
    "err_too_large": {
        "en": "That file is {size}, over the {limit} MB limit. Please trim or compress it (e.g. send only the part "
              "you want clipped, or a 720p version) and send it again.",
        "zh": "这个文件有 {size}，超过了 {limit} MB 的上限。请先剪短或压缩（例如只发送需要剪辑的部分，或 720p 版本）后再发送。",
    },
    "err_too_large_unknown": {
        "en": "That file is too big, over the {limit} MB limit. Please trim or compress it (e.g. send only the "
              "part you want clipped, or a 720p version) and send it again.",
        "zh": "这个文件太大，超过了 {limit} MB 的上限。请先剪短或压缩（例如只发送需要剪辑的部分，或 720p 版本）后再发送。",
    },
    "err_out_of_credits": {
        "en": "You are out of credits: {available} left, and this needs {needed}. {how}",
        "zh": "积分不足：剩余 {available}，本次需要 {needed}。{how}",
    },
    "how_register": {
        "en": "Register to get more: {url}",
        "zh": "注册即可获得更多积分：{url}",
    },
    "how_top_up": {"en": "Top up your credits in your NemoVideo account.", "zh": "请在 NemoVideo 账户中充值积分。"},
    "how_admin": {"en": "Ask an admin of this bot for more (/grant).", "zh": "请联系本机器人的管理员发放积分（/grant）。"},
    "err_nothing_uploaded": {
        "en": "Send me a video first (a file or a link), then tell me what to cut.",
        "zh": "请先发送一个视频（文件或链接），然后告诉我要剪什么。",
    },
    "err_export_blocked": {
        "en": "Exporting is not included in your current plan: register or upgrade your plan to export.",
        "zh": "当前套餐不支持导出：请注册或升级套餐后再导出。",
    },
    "err_rate_limited": {
        "en": "The video service is busy right now. Please try again in a minute.",
        "zh": "视频服务现在很忙，请一分钟后再试。",
    },
    "err_token": {
        "en": "I could not sign in to the video service. Please try again in a minute.",
        "zh": "无法登录视频服务，请一分钟后再试。",
    },
    "err_session": {
        "en": "Your editing session was lost. Send the video again to start over.",
        "zh": "编辑会话已丢失，请重新发送视频。",
    },
    "err_unavailable": {
        "en": "The video service is not answering right now. Please try again later.",
        "zh": "视频服务暂时无法访问，请稍后再试。",
    },
    "err_fetch": {"en": "{reason}", "zh": "无法下载这个链接：{reason}"},
    "unknown_error": {"en": "unknown error", "zh": "未知错误"},
    "reason_unsupported_type": {"en": "That file type is not supported. ", "zh": "不支持这种文件格式。"},
    "reason_broken_file": {"en": "That file cannot be read (it may be damaged or incomplete). ",
                           "zh": "这个文件无法读取（可能已损坏或不完整）。"},
    "needed_more": {"en": "more", "zh": "更多"},
    "err_no_bytes": {
        "en": "I could not download {name} from the chat (it may be too large for this platform). "
              "Send a link to it instead.",
        "zh": "无法从聊天中下载 {name}（可能超过了平台的大小限制），请改为发送链接。",
    },
    "err_render": {
        "en": "Rendering failed: {reason}. Nothing was charged; please try again.",
        "zh": "渲染失败：{reason}。未扣除积分，请重试。",
    },
    "err_undelivered": {
        "en": "I could not send {what} to this chat ({reason}), so nothing was charged for it. "
              "Say /export to get your clips once the chat works again.",
        "zh": "无法把{what}发到这个聊天（{reason}），所以没有扣除积分。聊天恢复后说 /export 获取你的片段。",
    },
    "undelivered_clip": {"en": "clip {n}", "zh": "第 {n} 个片段"},
    "undelivered_result": {"en": "the result", "zh": "结果"},
    "err_internal": {
        "en": "Something went wrong on my side. Any held credits were given back; please try again.",
        "zh": "我这边出了点问题。冻结的积分已退回，请重试。",
    },
    "err_backend": {"en": "{reason}", "zh": "{reason}"},
}
