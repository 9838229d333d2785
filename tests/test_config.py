import json

import pytest

from musictracker import config


@pytest.fixture
def cfg_dir(tmp_path):
    (tmp_path / "app.json").write_text(
        json.dumps({"lastfm": {"base_url": "https://x/", "poll_interval_seconds": 120}})
    )
    return tmp_path


def test_missing_secrets_file_is_normal(cfg_dir):
    tree = config.load(cfg_dir, environ={})
    assert tree["lastfm"]["api_key"] == ""
    assert tree["lastfm"]["base_url"] == "https://x/"


def test_partial_secrets_file_merges_over_defaults(cfg_dir):
    (cfg_dir / "secrets.json").write_text(json.dumps({"lastfm": {"api_key": "k1"}}))
    tree = config.load(cfg_dir, environ={})
    assert tree["lastfm"]["api_key"] == "k1"
    assert tree["lastfm"]["api_secret"] == ""
    assert tree["lastfm"]["base_url"] == "https://x/"


def test_environment_overrides_both(cfg_dir):
    (cfg_dir / "secrets.json").write_text(json.dumps({"lastfm": {"api_key": "k1"}}))
    tree = config.load(
        cfg_dir,
        environ={
            "MUSICTRACKER_LASTFM_API_KEY": "k2",
            "MUSICTRACKER_LASTFM_POLL_INTERVAL_SECONDS": "60",
        },
    )
    assert tree["lastfm"]["api_key"] == "k2"
    assert tree["lastfm"]["poll_interval_seconds"] == 60


def test_invalid_json_names_file_line_and_column(cfg_dir):
    (cfg_dir / "secrets.json").write_text('{\n  "lastfm": {"api_key": "x",}\n}')
    with pytest.raises(config.ConfigError) as err:
        config.load(cfg_dir, environ={})
    message = str(err.value)
    assert "secrets.json" in message and "line 2" in message and "column" in message


def test_invalid_json_stops_the_start_with_that_message(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "app.json").write_text("{oops")
    env = {
        **os.environ,
        "MUSICTRACKER_CONFIG_DIR": str(tmp_path),
        "MUSICTRACKER_DATA_DIR": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "app.json is not valid JSON" in proc.stderr and "line 1, column 2" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_names_the_key_and_how_to_set_it(settings):
    settings.MUSICTRACKER = {
        **settings.MUSICTRACKER,
        "spotify": {"client_id": "", "client_secret": "s"},
    }
    missing = config.missing("spotify.client_id", "spotify.client_secret")
    assert [m["key"] for m in missing] == ["spotify.client_id"]
    assert missing[0]["env"] == "MUSICTRACKER_SPOTIFY_CLIENT_ID"
    assert missing[0]["file"] == "config/secrets.json"


def test_mask_and_redacted_never_show_secrets():
    assert config.mask("abcdefghijklmnop") == "••••••••mnop"
    assert config.mask("short") == "••••••••"
    tree = config.redacted({"lastfm": {"api_key": "abcdefghijklmnop", "base_url": "https://x"}})
    assert (
        tree["lastfm"]["api_key"].endswith("mnop") and "abcdefgh" not in tree["lastfm"]["api_key"]
    )
    assert tree["lastfm"]["base_url"] == "https://x"
