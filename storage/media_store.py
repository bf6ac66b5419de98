"""Where media lives when more than one process touches it: uploads, analyses and renders.

`MEDIA_STORE` picks one of two stores behind one small interface:
- a directory (default DATA_DIR/media): a volume the bot and the workers share;
- `s3://bucket/prefix` on any S3-compatible server (AWS S3, SeaweedFS, Ceph, R2), through boto3,
  the SDK every one of them documents, with S3_ENDPOINT_URL and keys.

Keys are relative, `/`-separated and chosen by the caller from what a thing is (a source's
content hash, a job id and attempt, a clip name), so writing the same thing twice writes the
same key: a task delivered twice leaves one file. A put is atomic in both stores (a hidden
part-file renamed into place; an S3 PUT is all or nothing), so a reader never sees half a file.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol
from urllib.parse import urlparse

_KEY = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
CHUNK = 1 << 20


class MissingMedia(Exception):
    """The store has nothing under that key."""


def check_key(key: str) -> str:
    if not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"not a media key: {key!r}")
    return key


class MediaStore(Protocol):
    def put_file(self, key: str, source: Path) -> None: ...
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def open(self, key: str) -> BinaryIO: ...
    def local_path(self, key: str) -> Path: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def url(self, key: str, expires_s: int = 3600) -> str | None: ...
    def place_of(self, key: str) -> Path: ...
    def key_of(self, path: Path) -> str | None: ...
    def size(self, key: str) -> int | None: ...


@dataclass
class DirectoryStore:
    """Files under `root`; `local_path` is the file itself, so ffmpeg reads it in place."""

    root: Path

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, part = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
        try:
            shutil.copyfile(source, part)
            os.replace(part, target)
        finally:
            Path(part).unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes) -> None:
        with tempfile.NamedTemporaryFile(delete=False) as tmp:
            tmp.write(data)
        try:
            self.put_file(key, Path(tmp.name))
        finally:
            Path(tmp.name).unlink(missing_ok=True)

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as f:
            return f.read()

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise MissingMedia(key) from None

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise MissingMedia(key)
        return path

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str, expires_s: int = 3600) -> str | None:
        return None             # the bot's own link server streams the file

    def place_of(self, key: str) -> Path:
        return self._path(key)

    def key_of(self, path: Path) -> str | None:
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return None

    def size(self, key: str) -> int | None:
        path = self._path(key)
        return path.stat().st_size if path.is_file() else None


class S3Store:
    """Objects under s3://bucket/prefix. `local_path` downloads once into `cache_dir` (keys never
    change meaning, so the copy stays good) because ffmpeg seeks in its inputs."""

    def __init__(self, bucket: str, prefix: str, cache_dir: Path, endpoint_url: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None, region: str = "us-east-1"):
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix, self.cache_dir = bucket, prefix.strip("/"), cache_dir
        self.client = boto3.client("s3", endpoint_url=endpoint_url, aws_access_key_id=access_key,
                                   aws_secret_access_key=secret_key, region_name=region,
                                   config=Config(retries={"max_attempts": 5, "mode": "standard"},
                                                 s3={"addressing_style": "path"}))
        self._sizes: dict[str, int] = {}    # keys never change meaning: a size once seen stays true

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, key: str, source: Path) -> None:
        self.client.upload_file(str(source), self.bucket, self._name(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as body:
            return body.read()

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise MissingMedia(key) from None
            raise

    def local_path(self, key: str) -> Path:
        target = self.cache_dir / "s3" / check_key(key)
        if target.is_file():
            return target
        if not self.exists(key):
            raise MissingMedia(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, part = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
        try:
            self.client.download_file(self.bucket, self._name(key), part)
            os.replace(part, target)
        finally:
            Path(part).unlink(missing_ok=True)
        return target

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        self._sizes.pop(key, None)
        (self.cache_dir / "s3" / key).unlink(missing_ok=True)

    def place_of(self, key: str) -> Path:
        """Where `local_path` keeps its copy: the name the bot gives an object it may never download."""
        return self.cache_dir / "s3" / check_key(key)

    def key_of(self, path: Path) -> str | None:
        try:
            key = Path(path).relative_to(self.cache_dir / "s3").as_posix()
        except ValueError:
            return None
        return key if _KEY.match(key) else None

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        if key not in self._sizes:
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                    return None
                raise
            self._sizes[key] = int(head["ContentLength"])
        return self._sizes[key]

    def url(self, key: str, expires_s: int = 3600) -> str | None:
        return self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": self._name(key)},
                                                  ExpiresIn=int(expires_s))


# --- renders as the readers see them (the link server, the Telegram and Discord uploads) ----------

@dataclass(frozen=True)
class StoredFile:
    """A render wherever it is: a file on this machine (`store` None: the in-process engine's
    output, or a directory store, which is a file too), or an object in an S3 store."""

    path: Path
    size: int
    store: S3Store | None = None
    key: str | None = None

    def url(self, expires_s: int = 3600) -> str | None:
        """A presigned URL for an object in S3; None for a file here (the bot's link server serves it)."""
        return self.store.url(self.key, expires_s) if self.store is not None else None

    def chunks(self, size: int = CHUNK):
        """The bytes, a piece at a time, straight from where they are."""
        with (self.path.open("rb") if self.store is None else self.store.open(self.key)) as f:
            while block := f.read(size):
                yield block

    @contextmanager
    def local_file(self) -> Iterator[Path]:
        """A file to hand to a library that wants one: the file itself, or (S3) a streamed download
        into a temporary file that is gone when the block ends."""
        if self.store is None:
            yield self.path
            return
        with tempfile.TemporaryDirectory(prefix="shortsbot-send-") as folder:
            target = Path(folder) / self.path.name
            self.store.client.download_file(self.store.bucket, self.store._name(self.key), str(target))
            yield target


_render_stores: list[S3Store] = []


def serve_renders_from(store: MediaStore) -> None:
    """Renders at `store.place_of(key)` are read from `store` by `find_render`: the bot calls this
    once it sends its renders to workers. A directory store needs nothing: its renders are files."""
    if isinstance(store, S3Store) and all(s is not store for s in _render_stores):
        _render_stores.append(store)


def find_render(path: Path | str | None) -> StoredFile | None:
    """The render at `path` (a clip's output), or None when it is in none of the places it could be."""
    if not path:
        return None
    path = Path(path)
    if path.is_file():
        return StoredFile(path, path.stat().st_size)
    for store in _render_stores:
        key = store.key_of(path)
        size = store.size(key) if key is not None else None
        if size is not None:
            return StoredFile(path, size, store, key)
    return None


def open_store(setting: str | None, data_dir: Path, cache_dir: Path, endpoint_url: str | None = None,
               access_key: str | None = None, secret_key: str | None = None,
               region: str = "us-east-1") -> MediaStore:
    """MEDIA_STORE -> a store: empty means DATA_DIR/media, `s3://bucket/prefix` an S3 store,
    anything else a directory."""
    if not setting:
        return DirectoryStore(Path(data_dir) / "media")
    if setting.startswith("s3://"):
        parsed = urlparse(setting)
        if not parsed.netloc:
            raise ValueError(f"MEDIA_STORE {setting!r} names no bucket; write s3://bucket/prefix")
        return S3Store(parsed.netloc, parsed.path, Path(cache_dir), endpoint_url, access_key, secret_key, region)
    return DirectoryStore(Path(setting))


def store_from_settings(settings) -> MediaStore:
    secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
    return open_store(settings.media_store, settings.data_dir, settings.cache_dir, settings.s3_endpoint_url,
                      settings.s3_access_key, secret, settings.s3_region)
