"""Every knob of the bot, read from the environment and `.env` (pydantic-settings).

A bad value stops the bot at start with one line that names the setting.
Secrets are SecretStr: their repr and str show `**********`.
"""
from __future__ import annotations

import os

import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as _SourceError


REMOTE_JOB_CONCURRENCY = 8       # jobs at once with BROKER_URL set


class SettingsError(Exception):
    """One line a person can act on: which setting is wrong and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # Which processing backend runs the clips.
    backend: Literal["local", "nemo"] = "local"
    data_dir: Path = Path("./data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str = "https://api.telegram.org/file/bot"
    telegram_local_mode: bool = False
    telegram_share_chat_id: str | None = None
    # Waits before each retry of a Telegram call after a network error (comma-separated seconds).
    telegram_retry_delays_s: Annotated[list[float], NoDecode] = Field(default_factory=lambda: [0.5, 1.0, 2.0, 4.0])
    # How fast the bot may send into one chat (Telegram's FAQ: about 1 a second in a private chat, 20 a minute in a group).
    telegram_private_chat_per_s: float = Field(1.0, gt=0)
    telegram_group_per_minute: float = Field(20.0, gt=0)

    # Discord
    discord_bot_token: SecretStr | None = None
    discord_share_channel_id: int | None = None
    discord_api_url: str | None = None       # tests point discord.py's REST client at a fake server
    discord_message_content: bool = False    # the privileged Message Content intent (enable it in the portal first)

    # NemoVideo cloud backend
    nemo_api_url: str = "https://mega-api-prod.nemovideo.ai"
    nemo_token: SecretStr | None = None
    nemo_skill_source: str = "best-shorts"
    nemo_skill_version: str = "1.0.0"
    nemo_skill_platform: Literal["clawhub", "cursor", "unknown"] = "unknown"
    nemo_poll_interval_s: float = Field(30.0, gt=0)
    nemo_retry_after_s: float = Field(30.0, ge=0)
    nemo_still_working_s: float = Field(120.0, gt=0)   # "⏳ Still working..." at most this often during a chat
    nemo_sse_timeout_s: float = Field(900.0, gt=0)     # the longest one chat stream may run
    nemo_backoff_s: float = Field(1.0, ge=0)           # first wait before retrying a GET after a network error
    nemo_export_timeout_s: float = Field(1800.0, gt=0) # the longest a cloud export is polled before it is stopped
    # Jobs running at once with BACKEND=nemo: the cloud does the work, a job mostly waits on the network.
    nemo_concurrency: int = Field(8, ge=1, le=64)

    # Local engine
    whisper_model: str = "tiny.en"            # English speech (fast, English only)
    whisper_multilingual_model: str = "base"  # language detection and every other language
    detect_language: bool = True
    whisper_device: Literal["cpu", "cuda", "auto"] = "cpu"
    whisper_compute_type: str = "int8"
    x264_preset: Literal[
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
    ] = "veryfast"
    x264_crf: int = Field(23, ge=0, le=51)
    render_timeout_s: float = Field(900.0, gt=0)

    # Optional language model that reads requests and judges moments (local engine; both URL and model needed)
    llm_url: str | None = None                # any OpenAI-compatible API base, e.g. http://localhost:11434/v1
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(60.0, gt=0)  # per call; past it a cut keeps the engine's own ranking
    llm_weight: float = Field(0.6, ge=0, le=1)             # the model's share of a moment's score
    llm_context_tokens: int = Field(8192, ge=1024)         # the model's context window

    # Limits and jobs
    max_upload_mb: int = Field(500, gt=0)
    render_concurrency: int = Field(1, ge=1, le=16)
    # Analyses (decode + transcription + signals) running at once; unset: one per core.
    analysis_concurrency: int | None = Field(None, ge=1, le=32)
    # Longer videos are refused, before their download when the platform tells the length.
    max_duration_minutes: float = Field(240, gt=0)
    job_max_attempts: int = Field(3, ge=1)
    # A job's progress message is edited at most this often (on every platform; the one throttle).
    progress_edit_interval_s: float = Field(3.0, gt=0)
    starting_credits: int = Field(100, ge=0)
    admin_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)  # comma-separated
    allow_private_urls: bool = False          # let links to loopback/private hosts through (tests only)

    # Workers on other machines (docs/SCALING.md); no broker: everything in this process
    broker_url: str | None = None              # redis://host:6379/0: analysis and renders run on `shortsbot worker`
    broker_visibility_timeout_s: float = Field(3600.0, gt=0)  # an unacked task goes to another worker after this
    worker_concurrency: int = Field(1, ge=1, le=64)           # tasks one `shortsbot worker` runs at once
    worker_preload_model: bool = True          # load the speech model as a worker starts; off for render-only workers
    media_store: str | None = None             # a directory (default DATA_DIR/media) or s3://bucket/prefix
    s3_endpoint_url: str | None = None         # any S3-compatible server; empty: AWS
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"

    # Signed download links
    public_base_url: str | None = None
    http_port: int = Field(8080, ge=1, le=65535)
    link_secret: SecretStr | None = None
    link_ttl_hours: float = Field(24.0, gt=0)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [str(value)]
        return value

    @field_validator("telegram_retry_delays_s", mode="before")
    @classmethod
    def _split_delays(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("telegram_retry_delays_s")
    @classmethod
    def _non_negative_delays(cls, value):
        if any(delay < 0 for delay in value):
            raise ValueError("delays must be 0 or more seconds")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value):
        return value.upper() if isinstance(value, str) else value

    @field_validator("public_base_url", "telegram_share_chat_id", "discord_api_url", "llm_url", "llm_model",
                     "analysis_concurrency", "broker_url", "media_store", "s3_endpoint_url", "s3_access_key",
                     mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return None if value == "" else value

    @field_validator("telegram_bot_token", "discord_bot_token", "nemo_token", "link_secret", "llm_api_key",
                     "s3_secret_key", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value):
        return None if value == "" else value

    @field_validator("discord_share_channel_id", mode="before")
    @classmethod
    def _empty_int_is_none(cls, value):
        return None if value == "" else value

    @property
    def job_concurrency(self) -> int:
        """Jobs that run at once: with the cloud they wait on the network (NEMO_CONCURRENCY); with the
        local engine each one uses the machine's cores (RENDER_CONCURRENCY)."""
        if self.backend == "nemo":
            return self.nemo_concurrency
        # With workers a job mostly waits on them; the workers' own concurrency bounds the load.
        return max(self.render_concurrency, REMOTE_JOB_CONCURRENCY) if self.broker_url else self.render_concurrency

    @property
    def analyses_at_once(self) -> int:
        return self.analysis_concurrency or max(1, os.cpu_count() or 1)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "shortsbot.sqlite3"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def output_dir(self) -> Path:
        return self.data_dir / "out"

    @cached_property
    def link_key(self) -> bytes:
        """The HMAC key for signed links; a random one per process when none is set."""
        if self.link_secret is not None:
            return self.link_secret.get_secret_value().encode()
        return secrets.token_bytes(32)

    def engine_config(self):
        from engine.models import EngineConfig, JudgeSettings

        judge = None
        if self.llm_url and self.llm_model:
            judge = JudgeSettings(url=self.llm_url, model=self.llm_model,
                                  api_key=self.llm_api_key.get_secret_value() if self.llm_api_key else None,
                                  timeout_s=self.llm_timeout_s, weight=self.llm_weight,
                                  context_tokens=self.llm_context_tokens)
        return EngineConfig(
            cache_dir=self.cache_dir,
            whisper_model=self.whisper_model,
            multilingual_model=self.whisper_multilingual_model,
            detect_language=self.detect_language,
            whisper_device=self.whisper_device,
            whisper_compute_type=self.whisper_compute_type,
            max_upload_mb=self.max_upload_mb,
            x264_preset=self.x264_preset,
            x264_crf=self.x264_crf,
            render_timeout_s=self.render_timeout_s,
            judge=judge,
        )


def load_settings(**overrides) -> Settings:
    """Settings from the environment and .env; a bad value raises SettingsError with one line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else ""
        shown = "" if field in _SECRET_FIELDS else f" (got {first.get('input')!r})"
        raise SettingsError(f"Setting {field.upper() or 'unknown'} is invalid: {first['msg']}{shown}.") from None
    except _SourceError as exc:
        raise SettingsError(f"A setting could not be read: {exc}.") from None


_SECRET_FIELDS = {"telegram_bot_token", "discord_bot_token", "nemo_token", "link_secret", "llm_api_key", "s3_secret_key"}
