"""Text -> Intent: what a message asks the bot to do.

The product documents route by a keyword table (../shared/nemo-api.md):

    "export" / "导出" / "download" / "send me the video"  -> export
    "credits" / "积分" / "balance" / "余额"                -> credits
    "status" / "状态" / "show tracks"                      -> status
    "upload" / "上传" / a file                             -> upload
    anything else                                          -> chat

A keyword alone is not enough to act on: "balance the music under the voice" is an
edit and "export the best moments as shorts" asks for a cut. So a message takes one
of the direct actions only when it is a short request made of that action's keyword
and words that merely qualify it ("export it in 1080p please", "how many credits do
I have left?", "帮我把视频导出"). Any other word makes it chat, which goes to the
backend with the whole text.

Commands (/start, /help, /cancel, /new, /share N, /export, /credits, /status,
/grant <user> <n>, /upload) are read first, also in the `/export@MyBot` form.
A file, or an http(s) link in the text, makes the message an upload; the text
around it, when it is an instruction, is kept so that "video + caption" is an
upload and a chat in one message.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

from bot.fetch import find_urls


class IntentKind(str, Enum):
    UPLOAD = "upload"
    CREDITS = "credits"
    STATUS = "status"
    EXPORT = "export"
    CHAT = "chat"
    HELP = "help"
    START = "start"
    CANCEL = "cancel"
    NEW = "new"
    SHARE = "share"
    GRANT = "grant"


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    text: str = ""                 # CHAT: the message; UPLOAD: the instruction that came with the file or link
    args: str = ""                 # a command's arguments ("2" for /share 2); for a worded export, its
                                   # qualifiers such as "2 1080p mp4"
    urls: tuple[str, ...] = ()     # UPLOAD by link


# ---------------------------------------------------------------------------
# Commands

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?=\s|$)\s*(.*)$", re.DOTALL)

COMMANDS: dict[str, IntentKind] = {
    "start": IntentKind.START,
    "help": IntentKind.HELP,
    "cancel": IntentKind.CANCEL,
    "stop": IntentKind.CANCEL,
    "new": IntentKind.NEW,
    "share": IntentKind.SHARE,
    "export": IntentKind.EXPORT,
    "download": IntentKind.EXPORT,
    "credits": IntentKind.CREDITS,
    "balance": IntentKind.CREDITS,
    "status": IntentKind.STATUS,
    "grant": IntentKind.GRANT,
    "upload": IntentKind.UPLOAD,
}


def parse_command(text: str) -> tuple[str | None, str]:
    """"/export@MyBot now" -> ("export", "now"); anything that is not a command -> (None, text).

    A path such as "/tmp/talk.mp4" is not a command: a command name ends at a space,
    at "@bot" or at the end of the message.
    """
    match = _COMMAND.match(text.strip())
    if match is None:
        return None, text
    return match.group(1).lower(), match.group(2).strip()


# ---------------------------------------------------------------------------
# Words

# Words that change nothing about what a short request asks for.
_FILLER = frozenset(
    """
    please pls plz kindly now ok okay hey hi hello so then and also just thanks thank you u
    can could would will may i i'd i'm id like want wanna need to let let's lets go ahead
    me the a an my it them this that these those all everything of for in as at on with
    what what's whats is are do does did how yet again yes yeah sure quick quickly asap here right
    请 帮 帮我 帮忙 麻烦 一下 吧 吗 呢 啊 呀 了 我 我要 我想 想 要 现在 可以 能 能不能 能否 把 给我 的 谢谢 好 好的 嗯
    """.split()
)

_MEDIA = frozenset(
    """
    video videos clip clips short shorts file files result results final
    output outputs project mp4 link links
    视频 短视频 片段 文件 结果 成品 链接 剪辑
    """.split()
)

# Qualifiers of an export that the conversation may use: clip numbers, resolution, container.
_EXPORT_DETAIL = re.compile(r"\d{1,2}|\d{3,4}p|[248]k|mp4|mov|webm|mkv|hd|fhd|uhd|高清|超清")


@dataclass(frozen=True)
class _Rule:
    kind: IntentKind
    keys: tuple[frozenset[str], ...]   # the message holds every word of at least one of these
    words: frozenset[str]              # and besides filler nothing but these
    details: re.Pattern[str] | None = None   # or qualifiers, which are kept as the intent's args

    def allows(self, word: str) -> bool:
        return (
            word in _FILLER
            or word in self.words
            or any(word in key for key in self.keys)
            or (self.details is not None and self.details.fullmatch(word) is not None)
        )

    def matches(self, words: list[str]) -> bool:
        present = set(words)
        return any(key <= present for key in self.keys) and all(self.allows(w) for w in present)

    def args(self, words: list[str]) -> str:
        return " ".join(w for w in words if self.details is not None and self.details.fullmatch(w))


def _keys(*groups: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(group.split("+")) for group in groups)


def _sends(verbs: str, objects: str) -> tuple[str, ...]:
    return tuple(f"{verb}+{obj}" for verb in verbs.split() for obj in objects.split())


# Checked in this order: "export status" asks for status, not for an export.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        IntentKind.STATUS,
        _keys("status", "progress", "tracks", "track", "timeline", "状态", "进度", "轨道", "时间线", "estado"),
        _MEDIA
        | frozenset(
            """
            show check current where are we how going job jobs render rendering export exports upload
            session summary done ready finished
            查看 显示 看看 看 当前 任务 项目 怎么样 如何 完成 第 个
            """.split()
        ),
        re.compile(r"\d{1,2}"),                # "status of clip 3"
    ),
    _Rule(
        IntentKind.CREDITS,
        _keys("credits", "credit", "balance", "积分", "余额", "créditos", "creditos", "saldo"),
        frozenset(
            """
            how many much left remaining have got check show current account still there
            buy get more top up topup cuántos cuantos me quedan queda tengo mis mi
            查询 查看 查 看看 看 还有 多少 剩余 剩下 还剩 账户 有 剩 充值 获取 更多 当前
            """.split()
        ),
    ),
    _Rule(
        IntentKind.EXPORT,
        _keys(
            "export", "download", "render", "导出", "下载", "发给我",
            *_sends("send give", "video videos clip clips short shorts file files mp4 result results it them"),
            *_sends("发 发送 给", "视频 短视频 片段 文件 成品"),
        ),
        _MEDIA
        | frozenset(
            """
            send give get over via to format quality high full best resolution vertical
            发 发送 发给 给 出来 格式 画质 竖屏 第 个 和 全部 所有 成 为
            """.split()
        ),
        _EXPORT_DETAIL,
    ),
    # Not in the documents' table, but nobody who types just "help" or "cancel" means an edit.
    _Rule(IntentKind.HELP, _keys("help", "commands", "帮助"), frozenset("show list 显示 列表 命令".split())),
    _Rule(
        IntentKind.CANCEL,
        _keys("cancel", "取消"),
        _MEDIA | frozenset("job jobs render rendering export exporting upload 任务 导出 上传".split()),
    ),
    _Rule(
        IntentKind.UPLOAD,
        _keys("upload", "上传"),
        _MEDIA | frozenset("new another some where send 新 一个 另一个".split()),
    ),
)


# ---------------------------------------------------------------------------
# Tokens: latin words as they are, Chinese split by longest match against the words above.

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+(?:'[^\W_{_CJK}]+)?")
_CJK_RUN = re.compile(rf"[{_CJK}]+")
_LEXICON = frozenset(
    word
    for word in _FILLER | _MEDIA | {w for rule in _RULES for w in rule.words | frozenset().union(*rule.keys)}
    if _CJK_RUN.fullmatch(word)
)
_LONGEST = max(len(word) for word in _LEXICON)


def _segment(run: str) -> list[str]:
    """Greedy longest match; a character the lexicon does not know stands alone (and so makes the message chat)."""
    pieces, start = [], 0
    while start < len(run):
        for size in range(min(_LONGEST, len(run) - start), 0, -1):
            piece = run[start : start + size]
            if size == 1 or piece in _LEXICON:
                pieces.append(piece)
                start += size
                break
    return pieces


def _words(text: str) -> list[str]:
    normal = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    found: list[str] = []
    for match in _TOKEN.finditer(normal):
        word = match.group()
        found.extend(_segment(word) if _CJK_RUN.fullmatch(word) else [word])
    return found


def _table_intent(text: str) -> Intent | None:
    """The direct action a short request asks for, or None when the message is chat."""
    words = _words(text)
    for rule in _RULES:
        if words and rule.matches(words):
            return Intent(rule.kind, text=text.strip(), args=rule.args(words))
    return None


# ---------------------------------------------------------------------------
# Routing


def _instruction(text: str) -> str:
    """The text that came with a file or link, when it says what to do with it ("upload this" says nothing more)."""
    text = " ".join(text.split())
    return "" if not text or _table_intent(text) is not None else text


def _without_urls(text: str, urls: list[str]) -> str:
    for url in urls:
        text = text.replace(url, " ")
    return " ".join(text.split())


def _command_intent(command: str, args: str) -> Intent:
    kind = COMMANDS.get(command)
    if kind is None:
        return Intent(IntentKind.HELP, text=f"/{command}", args=args)
    if kind is IntentKind.UPLOAD:
        urls = find_urls(args)
        return Intent(kind, text=_instruction(_without_urls(args, urls)) if urls else "", args=args, urls=tuple(urls))
    return Intent(kind, text=f"/{command}" + (f" {args}" if args else ""), args=args)


def route(text: str, has_attachments: bool = False, command: str | None = None, command_args: str = "") -> Intent:
    """What the message asks for. Adapters that already parsed a command pass it in."""
    text = text or ""
    if command is None:
        command, parsed_args = parse_command(text)
        if command is not None:
            command_args = parsed_args
    if has_attachments:
        return Intent(IntentKind.UPLOAD, text="" if command else _instruction(text))
    if command is not None:
        return _command_intent(command.lower(), command_args.strip())
    urls = find_urls(text)
    if urls:
        return Intent(IntentKind.UPLOAD, text=_instruction(_without_urls(text, urls)), urls=tuple(urls))
    if not text.strip():
        return Intent(IntentKind.HELP)
    return _table_intent(text) or Intent(IntentKind.CHAT, text=text.strip())
