"""How long the ``aichat`` command takes to start, next to ``llm --version``, in one run.

    pip install -e '.[cli]' llm && python benchmarks/startup.py [--runs 20]

Each command is started ``--runs`` times, the commands interleaved round by round so that the
machine's load falls on all of them alike; the table gives the median and the fastest run of
each, and the median as a ratio of ``python -c pass`` (the interpreter's own start) and of
``llm --version``. ``ask`` goes to the stand-in service in another process, with a cookies file.
Results go to benchmarks/results/startup.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BIN = Path(sys.executable).parent


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, env=env, timeout=60)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{command} failed: {result.stderr.decode(errors='replace')}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="starts per command (default: 20)")
    args = parser.parse_args()

    from aichat_provider.testing import StandInService

    aichat = str(BIN / "aichat")
    with tempfile.TemporaryDirectory() as folder, StandInService() as service:
        home = Path(folder)
        cookies = home / "cookies.json"
        cookies.write_text(json.dumps([{"name": "session", "value": "x", "domain": "127.0.0.1"}]))
        env = {**os.environ, "HOME": str(home), "NO_COLOR": "1"}
        env = {k: v for k, v in env.items() if not k.startswith(("AICHAT_", "XDG_"))}
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "aichat --version": [aichat, "--version"],
            "aichat --help": [aichat, "--help"],
            "aichat ask (stand-in)": [
                aichat,
                "hi",
                "--no-log",
                "--base-url",
                service.base_url,
                "--cookies-file",
                str(cookies),
            ],
        }
        llm = shutil.which("llm", path=str(BIN)) or shutil.which("llm")
        if llm:
            commands["llm --version"] = [llm, "--version"]
        for command in commands.values():  # warm the file cache and the bytecode
            timed(command, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(timed(command, env))

    base = statistics.median(times["python -c pass"])
    llm_median = statistics.median(times["llm --version"]) if llm else None
    lines = [
        "# aichat start-up",
        "",
        f"{args.runs} interleaved runs each; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}.",
        "",
        "| command | median s | fastest s | median / python -c pass | median / llm --version |",
        "|---|---|---|---|---|",
    ]
    for name, values in times.items():
        median = statistics.median(values)
        versus_llm = f"{median / llm_median:.2f}" if llm_median else "(llm not installed)"
        lines.append(
            f"| `{name}` | {median:.3f} | {min(values):.3f} | {median / base:.2f} | {versus_llm} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.md").write_text(report)


if __name__ == "__main__":
    main()
