"""A virtual screen (Xvfb) for the tests that need a visible browser window."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .browsers import require_executable


@contextmanager
def virtual_display() -> Iterator[str]:
    """Start Xvfb on a free display number; yield the ``DISPLAY`` value."""
    xvfb = require_executable("Xvfb")
    for number in range(90, 140):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        process = subprocess.Popen(
            [xvfb, f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        socket_path = Path(f"/tmp/.X11-unix/X{number}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            if socket_path.exists():
                break
            time.sleep(0.05)
        if process.poll() is not None:
            continue  # that number was taken after all
        try:
            yield f":{number}"
        finally:
            process.terminate()
            process.wait(timeout=10)
        return
    raise RuntimeError("no free X display number for Xvfb")


def environment_with_display(display: str) -> dict[str, str]:
    return {**os.environ, "DISPLAY": display}
