"""How to install what an extra adds, in words that work wherever the package came from: its
requirements by name, for the Python running now (the distribution itself need not be on an
index: it is usually installed from a checkout, ``pip install .``)."""

from __future__ import annotations

import os
import sys


def install_hint(extra: str) -> str:
    """The command that adds ``extra``'s packages to the Python this process runs on."""
    import shlex  # imported when a hint is needed: not on every command's start
    from importlib import metadata

    requirements: list[str] = []
    try:
        for requirement in metadata.requires("aichat-provider") or []:
            name, _, marker = requirement.partition(";")
            marker = marker.replace("'", '"').strip()
            # only what every Python needs (tomli, for one, is for 3.10 alone)
            if marker == f'extra == "{extra}"':
                requirements.append(name.strip())
    except metadata.PackageNotFoundError:
        pass
    packages = " ".join(shlex.quote(r) for r in requirements) or f"'aichat-provider[{extra}]'"
    return pip_command(packages)


def pip_command(packages: str) -> str:
    """``packages`` installed for this Python (``pipx inject`` where pipx made its venv)."""
    import shlex

    if "pipx" in sys.prefix.split(os.sep):  # pipx keeps each application in a venv of its own
        return f"pipx inject aichat-provider {packages}"
    return f"{shlex.quote(sys.executable)} -m pip install {packages}"
