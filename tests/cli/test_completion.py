"""``aichat completion SHELL``: the script bash runs on a real command line completes commands,
flags and choices; zsh's and fish's scripts come from the same parser."""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from support.cli import AICHAT, run
from support.secrets import subprocess_env


@pytest.fixture
def bash_script(home: Path, tmp_path: Path) -> Path:
    result = run(AICHAT, "completion", "bash", home=home)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "aichat.bash"
    path.write_text(result.stdout)
    return path


def complete(script: Path, line: str) -> list[str]:
    """What bash offers for ``line`` (the cursor at its end), by the script's own function."""
    bash = shutil.which("bash")
    assert bash is not None
    program = (
        f'source "{script}"\n'
        f"COMP_LINE='{line}'\n"
        "COMP_POINT=${#COMP_LINE}\n"
        'read -ra COMP_WORDS <<< "$COMP_LINE"\n'
        '[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")\n'
        "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        "complete -p aichat >/dev/null\n"  # the script registered itself for the command
        '_shtab_aichat aichat "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ["PATH"], "HOME": str(script.parent)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_bash_completes_commands_flags_and_choices(bash_script: Path) -> None:
    assert complete(bash_script, "aichat con") == ["config"]
    assert complete(bash_script, "aichat lo") == ["logs", "login", "logout"]
    assert complete(bash_script, "aichat ask --mo") == ["--model"]
    assert "--cookies-file" in complete(bash_script, "aichat ask --coo")
    assert complete(bash_script, "aichat config ") == ["path", "get", "set", "unset", "edit"]
    assert complete(bash_script, "aichat completion ") == ["bash", "zsh", "fish"]
    assert complete(bash_script, "aichat logs --j") == ["--json"]


@pytest.mark.parametrize(("shell", "head"), [("zsh", "#compdef aichat"), ("fish", "# ")])
def test_zsh_and_fish_scripts(home: Path, shell: str, head: str) -> None:
    result = run(AICHAT, "completion", shell, home=home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(head)
    assert "--cookies-file" in result.stdout
    assert "completion" in result.stdout


def test_without_shtab_the_hint_names_the_extra(tmp_path: Path, home: Path) -> None:
    shadow = tmp_path / "shadow" / "shtab"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named shtab')\n")
    env = {**subprocess_env(home), "PYTHONPATH": str(shadow.parent)}
    result = run(AICHAT, "completion", "bash", home=home, env=env)
    assert result.returncode == 6
    assert "completion scripts need the cli extra" in result.stderr
    assert "-m pip install" in result.stderr
    # the floors the cli extra declares now (a copied number went stale when a floor moved)
    for requirement in _cli_extra():
        assert f"'{requirement}'" in result.stderr


def _cli_extra() -> list[str]:
    """The cli extra's requirements for every Python, as the installed metadata lists them."""
    found = []
    for requirement in metadata.requires("aichat-provider") or []:
        name, _, marker = requirement.partition(";")
        if marker.replace("'", '"').strip() == 'extra == "cli"':
            found.append(name.strip())
    assert any(name.startswith("shtab>=") for name in found), found
    return found
