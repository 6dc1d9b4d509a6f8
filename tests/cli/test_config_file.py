"""The config file: ``aichat config path|get|set|unset``, and a value's precedence: flag >
environment > config file > built-in default."""

from __future__ import annotations

import stat
from pathlib import Path

from aichat_provider.testing import StandInService
from support.cli import AICHAT, cookies_file, run
from support.secrets import subprocess_env


def aichat(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = run(AICHAT, *args, home=home, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_path_set_get_and_unset_keep_the_rest_of_the_file(home: Path) -> None:
    path = Path(aichat(home, "config", "path").strip())
    assert path == home / ".config" / "aichat-provider" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("# my settings\ntemperature = 0.9\n")
    aichat(home, "config", "set", "temperature", "0.2")
    aichat(home, "config", "set", "system", 'Say "hi"\tand go')
    aichat(home, "config", "set", "browser", "firefox, chrome")
    assert path.read_text() == (
        '# my settings\ntemperature = 0.2\nsystem = "Say \\"hi\\"\\tand go"\n'
        'browser = ["firefox", "chrome"]\n'
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert aichat(home, "config", "get", "system") == 'Say "hi"\tand go\n'
    aichat(home, "config", "unset", "system")
    assert "system" not in path.read_text()
    assert run(AICHAT, "config", "get", "system", home=home).returncode == 1


def test_unsetting_a_key_that_is_not_set_writes_nothing(home: Path) -> None:
    # it used to make an empty config file (and folder), and rewrite one that did not hold it
    path = home / ".config" / "aichat-provider" / "config.toml"
    aichat(home, "config", "unset", "model")
    assert not path.parent.exists()
    path.parent.mkdir(parents=True)
    path.write_text("temperature = 0.5\n")
    path.chmod(0o644)  # a mode a rewrite would not keep
    before = path.stat()
    aichat(home, "config", "unset", "model")
    after = path.stat()
    assert (after.st_ino, after.st_mode, after.st_mtime_ns) == (
        before.st_ino,
        before.st_mode,
        before.st_mtime_ns,
    )


def test_bad_keys_and_values_are_refused_and_the_file_left_alone(home: Path) -> None:
    aichat(home, "config", "set", "temperature", "1")
    wrong = run(AICHAT, "config", "set", "temperature", "7", home=home)
    assert wrong.returncode == 2
    # in the config's own words: its keys, not the flags
    assert wrong.stderr == "aichat: error: temperature must be between 0 and 2; got 7.0.\n"
    with_password = run(AICHAT, "config", "set", "base_url", "http://u:pw-4217@host/", home=home)
    assert with_password.returncode == 2
    assert with_password.stderr == (
        "aichat: error: base_url must not contain a user name or password.\n"
    )
    unknown = run(AICHAT, "config", "set", "temprature", "1", home=home)
    assert unknown.returncode == 2
    assert "there is no config key 'temprature'" in unknown.stderr
    assert aichat(home, "config", "get", "temperature") == "1.0\n"


def test_precedence_flag_over_environment_over_config_over_default(
    tmp_path: Path, home: Path, service: StandInService
) -> None:
    env = subprocess_env(home)
    aichat(home, "config", "set", "user_agent", "FromConfig/1")
    aichat(home, "config", "set", "base_url", "http://127.0.0.1:9")  # nothing listens there
    aichat(home, "config", "set", "temperature", "0.3")
    aichat(home, "config", "set", "cookies_file", str(cookies_file(tmp_path)))
    sources = aichat(home, "config", "get", "--source", env={**env, "AICHAT_BASE_URL": "x"})
    assert "temperature = 0.3  [config file]" in sources
    assert 'base_url = "x"  [environment AICHAT_BASE_URL]' in sources
    assert "top_p = (not set; built-in default: 1)  [default]" in sources

    # the environment's base URL wins over the config's; the config's user agent is used
    env["AICHAT_BASE_URL"] = service.base_url
    aichat(home, "hi", env=env)
    request = service.requests[-1]
    assert request.header("user-agent") == "FromConfig/1"
    assert request.json["temperature"] == 0.3
    # the environment wins over the config, a flag over both
    aichat(home, "hi", env={**env, "AICHAT_USER_AGENT": "FromEnv/1"})
    assert service.requests[-1].header("user-agent") == "FromEnv/1"
    aichat(
        home,
        "hi",
        "--user-agent",
        "FromFlag/1",
        "--temperature",
        "0",
        env={**env, "AICHAT_USER_AGENT": "FromEnv/1"},
    )
    assert service.requests[-1].header("user-agent") == "FromFlag/1"
    assert service.requests[-1].json["temperature"] == 0


def test_a_broken_config_file_is_a_usage_error_that_names_the_fix(
    tmp_path: Path, home: Path
) -> None:
    path = home / ".config" / "aichat-provider" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("temperature = = 1\n")
    result = run(AICHAT, "hi", home=home)
    assert result.returncode == 2
    assert "is not valid TOML" in result.stderr
    assert "aichat config edit" in result.stderr
    path.write_text('temperature = "hot"\n')
    result = run(AICHAT, "hi", home=home)
    assert result.returncode == 2
    assert "temperature must be a number" in result.stderr
    # every fault in the file names the command that fixes it, as docs/cli-conversations.md says
    for text, fault in [
        ("foo = 1\n", "has an unknown key 'foo'"),
        ("temperature = 9\n", "temperature must be between 0 and 2; got 9.0"),
    ]:
        path.write_text(text)
        result = run(AICHAT, "hi", home=home)
        assert result.returncode == 2
        assert fault in result.stderr
        assert result.stderr.endswith("; fix it with 'aichat config edit'.\n"), result.stderr


def test_the_config_file_can_be_named_by_the_environment(tmp_path: Path, home: Path) -> None:
    env = {**subprocess_env(home), "AICHAT_CONFIG_FILE": str(tmp_path / "other.toml")}
    assert aichat(home, "config", "path", env=env).strip() == str(tmp_path / "other.toml")
    aichat(home, "config", "set", "model", "gpt-3.5-turbo", env=env)
    assert (tmp_path / "other.toml").read_text() == 'model = "gpt-3.5-turbo"\n'


def test_edit_opens_the_editor_and_checks_the_result(tmp_path: Path, home: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "top_p = 5\\n" >> "$1"\n')
    editor.chmod(0o700)
    env = {**subprocess_env(home), "EDITOR": str(editor)}
    env.pop("VISUAL", None)
    result = run(AICHAT, "config", "edit", home=home, env=env)
    assert result.returncode == 2
    assert ": top_p must be between 0 and 1; got 5.0" in result.stderr  # the file's key
