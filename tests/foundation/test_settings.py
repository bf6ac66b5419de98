from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings


def test_defaults_need_no_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = load_settings()
    assert settings.backend == "local"
    assert settings.data_dir == Path("./data")
    assert settings.max_upload_mb == 500
    assert settings.render_concurrency == 1
    assert settings.starting_credits == 100
    assert settings.telegram_bot_token is None and settings.discord_bot_token is None
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.telegram_file_url == "https://api.telegram.org/file/bot"
    assert settings.whisper_model == "tiny.en"
    assert settings.public_base_url is None
    assert settings.admin_ids == []


def test_dotenv_is_read_and_environment_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "BACKEND=nemo\nMAX_UPLOAD_MB=42\nADMIN_IDS=7, 8;9\nTELEGRAM_BOT_TOKEN=123:abc\nLOG_LEVEL=debug\n"
        "PUBLIC_BASE_URL=\n")
    monkeypatch.setenv("MAX_UPLOAD_MB", "64")
    settings = load_settings()
    assert settings.backend == "nemo"
    assert settings.max_upload_mb == 64
    assert settings.admin_ids == ["7", "8", "9"]
    assert settings.telegram_bot_token.get_secret_value() == "123:abc"
    assert settings.log_level == "DEBUG"
    assert settings.public_base_url is None


@pytest.mark.parametrize("name, value, named", [
    ("BACKEND", "cloud", "BACKEND"),
    ("MAX_UPLOAD_MB", "lots", "MAX_UPLOAD_MB"),
    ("RENDER_CONCURRENCY", "0", "RENDER_CONCURRENCY"),
    ("HTTP_PORT", "70000", "HTTP_PORT"),
    ("X264_PRESET", "warp", "X264_PRESET"),
])
def test_a_bad_value_fails_with_one_line_naming_the_setting(tmp_path, monkeypatch, name, value, named):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert named in message and "\n" not in message


def test_secrets_are_never_in_repr_or_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:supersecret")
    monkeypatch.setenv("NEMO_TOKEN", "nmv_usr_topsecret")
    monkeypatch.setenv("LINK_SECRET", "hmac-topsecret")
    settings = load_settings()
    shown = repr(settings) + str(settings) + str(settings.model_dump())
    for secret in ("supersecret", "topsecret"):
        assert secret not in shown
    assert settings.nemo_token.get_secret_value() == "nmv_usr_topsecret"


def test_the_cli_reports_a_bad_setting_in_one_line(tmp_path, monkeypatch, capsys):
    from shortsbot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BACKEND", "cloud")
    assert main(["chat"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("shortsbot: Setting BACKEND is invalid") and "\n" not in err


def test_paths_live_under_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert settings.database_path.parent == tmp_path
    assert settings.media_dir.parent == tmp_path
    assert settings.engine_config().cache_dir == tmp_path / "cache"


def test_link_key_is_random_without_a_secret_and_stable_with_one():
    assert Settings().link_key != Settings().link_key
    assert Settings(link_secret="k").link_key == Settings(link_secret="k").link_key == b"k"


def test_every_setting_is_in_env_example():
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"{name.upper()}=" in example, f"{name.upper()} missing from .env.example"


def test_env_example_copied_as_it_is_loads(monkeypatch):
    """The README's quick start copies .env.example to .env: every setting left empty there, or
    set empty in the environment (compose's env_file), means "not set", never a start-up error."""
    example = Path(__file__).resolve().parents[2] / ".env.example"
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    settings = Settings(_env_file=example)
    assert settings.analysis_concurrency is None and settings.broker_url is None and settings.media_store is None
    for name in ("S3_ENDPOINT_URL", "S3_ACCESS_KEY", "S3_SECRET_KEY", "BROKER_URL", "MEDIA_STORE", "ANALYSIS_CONCURRENCY"):
        monkeypatch.setenv(name, "")
    settings = Settings(_env_file=None)
    assert (settings.s3_endpoint_url, settings.s3_access_key, settings.s3_secret_key) == (None, None, None)
