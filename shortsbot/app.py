"""The App: storage, the backend, the job workers, the link server and the Conversation, started
and stopped together. Adapters (Telegram, Discord, the console) register a sink per platform and
hand every message to `app.conversation.handle`.

    app = App(settings)
    await app.start()
    app.register_platform("telegram", sink, upload_limit=50 * 2**20)   # sink(ref, reply) posts one reply
    await app.conversation.handle(incoming)
    await app.stop()

Replies are routed by `ref.platform` (bot.platforms). A reply for a platform whose adapter has not
registered yet (a job resumed right after a restart) waits for it a while, then counts as not
delivered: the job fails and charges nothing.

A download link names one rendered file, not just a clip: `/f/{clip id}-{file stem}/{file name}`,
signed over both. The link server serves it only while the clip's current output is that very
file, so a clip that was re-cut or edited since (or an id that came back) is "no longer available".
"""
from __future__ import annotations

import logging
from pathlib import Path

from bot.backends.base import ClipService
from bot.conversation import Conversation
from bot.jobs import JobQueue
from bot.links import SAFE_ID, LinkServer, LinkSigner, is_safe_filename
from bot.messages import ChatRef, Reply, VideoReply
from bot.platforms import AppError, Platform, Platforms
from bot.settings import Settings
from storage.db import Database
from storage.repos import Repos

log = logging.getLogger(__name__)

__all__ = ["App", "AppError", "make_backend"]

def link_file_id(clip_id: int, filename: str) -> str | None:
    """"57-clip-01-3f9ab2c4d5e6" for clip 57's file clip-01-3f9ab2c4d5e6.mp4: the clip and its exact output."""
    file_id = f"{clip_id}-{Path(filename).stem}"
    return file_id if SAFE_ID.fullmatch(file_id) and is_safe_filename(filename) else None


def make_backend(settings: Settings, repos: Repos) -> ClipService:
    if settings.backend == "nemo":
        try:
            from bot.backends.nemo import NemoBackend
        except ImportError as exc:
            raise AppError(f"BACKEND=nemo needs the NemoVideo service (bot/backends/nemo/), which cannot be "
                           f"loaded: {exc}. Set BACKEND=local to use the built-in engine.") from None
        return NemoBackend(settings, repos)
    from bot.backends.local import LocalBackend

    return LocalBackend(settings, repos)


class App:
    def __init__(self, settings: Settings, *, still_working_after: float | None = None, progress_interval: float | None = None,
                 platform_wait_s: float = 30.0):
        self.settings = settings
        # "⏳ Still working..." after this long without anything new on screen (bot.jobs says it, for both
        # backends; with the cloud, NEMO_STILL_WORKING_S).
        if still_working_after is None:
            still_working_after = settings.nemo_still_working_s if settings.backend == "nemo" else 120.0
        self.still_working_after = still_working_after
        self.progress_interval = settings.progress_edit_interval_s if progress_interval is None else progress_interval
        self.db: Database | None = None
        self.repos: Repos | None = None
        self.backend: ClipService | None = None
        self.jobs: JobQueue | None = None
        self.conversation: Conversation | None = None
        self.signer: LinkSigner | None = None
        self.links: LinkServer | None = None
        # How long a reply waits for its platform's adapter to register before it counts as not delivered.
        self.platforms = Platforms(wait_s=platform_wait_s)

    async def start(self) -> None:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = await Database.open(settings.database_path)
        self.repos = Repos(self.db)
        try:
            self.backend = make_backend(settings, self.repos)
            self.jobs = JobQueue(self.repos, self.post, concurrency=settings.job_concurrency,
                                 max_attempts=settings.job_max_attempts, progress_interval=self.progress_interval,
                                 still_working_after=self.still_working_after)
            if settings.public_base_url:
                if settings.link_secret is None:
                    log.warning("PUBLIC_BASE_URL is set without LINK_SECRET: download links are signed with a key "
                                "made at start, so every link stops working when the bot restarts. Set LINK_SECRET "
                                "to a long random string to keep them valid for LINK_TTL_HOURS.")
                self.signer = LinkSigner.from_settings(settings)
                self.links = LinkServer(self.signer, self._resolve_link, port=settings.http_port)
                await self.links.start()
            self.conversation = Conversation(settings, self.repos, self.backend, self.jobs, self.platforms,
                                             self.link_for)
            await self.jobs.start()
        except BaseException:
            await self.stop()
            raise
        log.info("shortsbot started: backend %s, data in %s", self.backend.name, settings.data_dir)

    async def stop(self) -> None:
        """Workers stop (running jobs are ended and queued again), then the backend, links and database."""
        if self.jobs is not None:
            await self.jobs.stop()
        if self.backend is not None:
            await self.backend.close()
        if self.links is not None:
            await self.links.stop()
        if self.db is not None:
            await self.db.close()
        self.jobs = self.backend = self.links = self.db = None

    # ------------------------------------------------------------ platforms

    def register_platform(self, name: str, sink, upload_limit: int | None = None, *, share_target: str | None = None,
                          share_setting: str | None = None, label: str = "") -> None:
        """`upload_limit`: the largest file, in bytes, the platform takes from the bot (None: no limit).
        A cloud render is downloaded and sent as a file only when it fits; otherwise its URL is posted.
        `share_target`: the chat /share posts to; `share_setting`: the setting that names it."""
        self.platforms.register(Platform(name, sink, upload_limit, share_target, share_setting, label))

    def upload_limit(self, platform: str) -> int | None:
        return self.platforms.upload_limit(platform)

    async def post(self, ref: ChatRef, reply: Reply) -> None:
        """Hands the reply to its platform's sink; raises when nobody took it."""
        await self.platforms.post(ref, reply)

    # ------------------------------------------------------------ links

    def link_for(self, reply: VideoReply) -> str | None:
        """A signed, expiring URL for exactly the file of a video reply (its clip's output as it is now);
        None when PUBLIC_BASE_URL is not set or the reply is not a stored clip's file."""
        if self.signer is None or reply.clip_id is None:
            return None
        name = Path(reply.path).name
        file_id = link_file_id(reply.clip_id, name)
        if file_id is None:
            log.warning("no download link for %s: not a name the bot makes", name)
            return None
        return self.signer.sign(file_id, name)

    async def _resolve_link(self, file_id: str) -> Path | None:
        """The file a signed link names, only while its clip's current output is that same file."""
        clip_id, _, signed_stem = file_id.partition("-")
        if not clip_id.isdigit() or not signed_stem:
            return None
        clip = await self.repos.clips.get(int(clip_id))
        if clip is None or not clip.output_path:
            return None
        output = Path(clip.output_path)
        if output.stem != signed_stem:       # re-cut, edited, or another clip that got the id
            return None
        return output
