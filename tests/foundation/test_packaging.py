"""The deployment files: docker-compose.yml (no Docker engine here, so parsed), the console script, the Makefile."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_bot_and_a_local_bot_api_server(compose):
    assert {"bot", "telegram-bot-api"} <= set(compose["services"])
    bot, api = compose["services"]["bot"], compose["services"]["telegram-bot-api"]
    assert bot["build"] == "."
    assert api["image"].startswith("aiogram/telegram-bot-api")
    assert api["environment"]["TELEGRAM_LOCAL"] in ("1", 1, True, "true")
    for service in (bot, api):
        assert service["env_file"] == ".env"
        assert service["restart"] in ("unless-stopped", "always")
        assert service["healthcheck"]["test"]


def test_the_bot_api_data_volume_is_shared_at_the_same_path(compose):
    def mounts(service):
        return dict(v.split(":", 1) for v in compose["services"][service]["volumes"])

    bot, api = mounts("bot"), mounts("telegram-bot-api")
    shared = set(bot) & set(api)
    assert shared, "the two services share no volume"
    for volume in shared:
        assert bot[volume] == api[volume], "local-mode file paths differ between the containers"
        assert volume in compose["volumes"]
    assert any(path == "/data" for path in bot.values()), "DATA_DIR has no volume"


def test_workers_share_the_bots_broker_and_media_and_can_be_scaled(compose):
    services = compose["services"]
    assert set(services) == {"bot", "telegram-bot-api", "redis", "worker"}
    bot, worker = services["bot"], services["worker"]
    assert worker["command"] == ["shortsbot", "worker"] and worker["build"] == "."
    assert worker["environment"]["BROKER_URL"] == bot["environment"]["BROKER_URL"]
    assert worker["environment"]["BROKER_URL"].startswith("redis://redis:")
    assert services["redis"]["image"].startswith("redis:")
    data = [v for v in bot["volumes"] if v.endswith(":/data")]
    assert data and data[0] in worker["volumes"]                   # DATA_DIR/media is one volume for both
    assert "ports" not in worker and "container_name" not in worker  # --scale worker=N needs neither
    assert "workers" in (ROOT / "Dockerfile").read_text()


def test_the_bot_healthcheck_hits_the_link_servers_health_route(compose):
    assert "/healthz" in " ".join(compose["services"]["bot"]["healthcheck"]["test"])
    assert compose["services"]["bot"]["environment"]["TELEGRAM_LOCAL_MODE"] == "true"


def test_dockerfile_installs_ffmpeg_on_python_311():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("FROM python:3.11-slim")
    assert "ffmpeg" in dockerfile and "shortsbot" in dockerfile


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_docker_compose_config_validates(tmp_path):
    (tmp_path / ".env").write_text("")
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "--project-directory",
                             str(tmp_path), "config", "-q"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_console_script_lists_the_subcommands():
    script = Path(sys.executable).parent / "shortsbot"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("run", "chat", "clip", "worker"):
        assert command in result.stdout


def test_the_image_copies_every_package_the_distribution_installs():
    """The Dockerfile copies package folders one by one; a package missing there installs nothing,
    and `shortsbot run` fails to import in the image (it happened when shortsbot/ was added)."""
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in patterns}
    copied = {line.split()[1].rstrip("/") for line in (ROOT / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ") and len(line.split()) == 3}
    assert packages and packages <= copied, f"not copied into the image: {sorted(packages - copied)}"
    for package in packages:
        assert (ROOT / package / "__init__.py").is_file() or (ROOT / package).is_dir()
