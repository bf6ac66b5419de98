"""`shortsbot models pull NAME`: the only download, by hand; without a network it fails in one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pull_without_a_network_says_so_in_one_line_and_leaves_nothing(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HOME": str(tmp_path / "hf"),
           "DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1",
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "models", "pull", "small"], capture_output=True,
                            text=True, env=env, cwd=ROOT, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("shortsbot: could not download the model 'small'")
    assert "Traceback" not in result.stderr
    pulled = tmp_path / "data" / "cache" / "models" / "pulled"
    assert not pulled.exists() or list(pulled.iterdir()) == []         # no half-downloaded model left


def test_models_needs_a_subcommand():
    result = subprocess.run([sys.executable, "-m", "bot.cli", "models"], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 2 and "pull" in result.stderr
