"""Mutation testing of the security-relevant modules with cosmic-ray.

    pip install -e '.[test]' cosmic-ray && python benchmarks/mutation.py            # every module
    python benchmarks/mutation.py aichat_provider/_redact.py                        # one of them

Each module is mutated in place, one mutation at a time, and the tests that exercise it are run
against each mutant; a mutant the tests do not notice "survives". Run it in a checkout you are
not editing (it restores every file, but an interrupted run can leave one mutated: ``git diff``
shows it). Results go to ``benchmarks/results/mutation.md`` (``--output``), rewritten after each
module so an interrupted run keeps what it measured: the score per module and every
survivor with its place, for a person to judge (``benchmarks/results/mutation-survivors.md``
explains the ones that remain).

Mutations of ``|`` are left out: in this code base ``|`` builds type annotations, which Python
never evaluates here (``from __future__ import annotations``), so those mutants cannot differ.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "mutation.md"
PYTEST = "python -m pytest -x -q -p no:cacheprovider -p no:randomly"


@dataclass(frozen=True)
class Target:
    module: str
    tests: tuple[str, ...]


TARGETS = (
    Target(
        "aichat_provider/_redact.py",
        (
            "tests/provider/test_redact.py",
            "tests/provider/test_hostile_input.py",
            "tests/provider/test_errors.py",
        ),
    ),
    Target(
        "aichat_provider/cookies/_values.py",
        (
            "tests/cookies/test_values.py",
            "tests/provider/test_hostile_input.py",
            "tests/provider/test_validation.py",
            "tests/cookies/test_sources.py",
        ),
    ),
    Target(
        "aichat_provider/cookies/_jar.py",
        (
            "tests/cookies/test_jar.py",
            "tests/cookies/test_sources.py",
            "tests/cookies/test_files.py",
            "tests/cookies/test_store.py",
        ),
    ),
    Target(
        "aichat_provider/cookies/_files.py",
        (
            "tests/cookies/test_files.py",
            "tests/cookies/test_file_kinds.py",
            "tests/cookies/test_sources.py",
            "tests/provider/test_hostile_input.py",
        ),
    ),
    Target("aichat_provider/cookies/_store.py", ("tests/cookies/test_store.py",)),
    Target(
        "aichat_provider/_responses.py",
        (
            "tests/provider/test_errors.py",
            "tests/provider/test_fault_matrix.py",
            "tests/provider/test_retries.py",
        ),
    ),
    Target(
        "aichat_provider/_session.py",
        (
            "tests/provider/test_errors.py",
            "tests/provider/test_fault_matrix.py",
            "tests/provider/test_wire.py",
        ),
    ),
    Target(
        "aichat_provider/_pool.py",
        ("tests/provider/test_pool.py", "tests/provider/test_concurrency.py"),
    ),
    Target(
        "aichat_provider/server/_guard.py",
        (
            "tests/server/test_guard.py",
            "tests/server/test_app.py",
            "tests/server/test_security.py",
        ),
    ),
    Target(
        "aichat_provider/server/_errors.py",
        (
            "tests/server/test_error_mapping.py",
            "tests/server/test_app.py",
            "tests/server/test_server.py",
            "tests/server/test_retries.py",
        ),
    ),
    Target(
        "aichat_provider/server/_config.py",
        ("tests/server/test_app.py", "tests/server/test_security.py"),
    ),
    Target(
        "aichat_provider/cli/_common.py",
        (
            "tests/package/test_options.py",
            "tests/cli/test_streams.py",
            "tests/cli/test_commands.py",
        ),
    ),
)


def run_target(target: Target, workdir: Path) -> dict[str, object]:
    name = target.module.removeprefix("aichat_provider/").replace("/", "-").removesuffix(".py")
    config = workdir / f"{name}.toml"
    session = workdir / f"{name}.sqlite"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{target.module}"\n'
        "timeout = 180.0\n"
        "excluded-modules = []\n"
        f'test-command = "{PYTEST} {" ".join(target.tests)}"\n\n'
        '[cosmic-ray.distributor]\nname = "local"\n\n'
        "[cosmic-ray.filters.operators-filter]\n"
        'exclude-operators = ["core/ReplaceBinaryOperator_BitOr_.*"]\n'
    )
    started = time.monotonic()
    for command in (
        ["cosmic-ray", "init", str(config), str(session)],
        ["cr-filter-operators", str(session), str(config)],
        ["cr-filter-pragma", str(session)],
        ["cosmic-ray", "exec", str(config), str(session)],
    ):
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    dump = subprocess.run(
        ["cosmic-ray", "dump", str(session)], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    total = killed = timed_out = 0
    survivors: list[str] = []
    source = (ROOT / target.module).read_text().splitlines()
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None or result.get("worker_outcome") == "skipped":
            continue
        total += 1
        if result.get("test_outcome") == "survived":
            for mutation in item["mutations"]:
                row = mutation["start_pos"][0]
                code = source[row - 1].strip() if row <= len(source) else ""
                survivors.append(f"line {row}: `{mutation['operator_name']}` in `{code[:90]}`")
        else:
            killed += 1
            # cosmic-ray counts a test run that outlives the timeout as a kill; on a loaded
            # machine that may be slowness rather than a test noticing, so it is shown apart.
            timed_out += result.get("output") == "timeout"
    return {
        "module": target.module,
        "mutants": total,
        "killed": killed,
        "timed_out": timed_out,
        "survivors": survivors,
        "minutes": (time.monotonic() - started) / 60,
    }


def report(results: list[dict[str, object]], targets: list[Target], command: str) -> str:
    """The markdown report of the modules mutated so far (written after each module)."""
    lines = [
        "# Mutation testing (cosmic-ray)\n",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `{command}`: "
        f"{len(results)} of {len(targets)} modules mutated.\n",
        "| module | mutants | killed | of which by timeout | score | minutes |",
        "|---|---|---|---|---|---|",
    ]
    mutants = killed = timeouts = 0
    for result in results:
        total, dead = int(result["mutants"]), int(result["killed"])  # type: ignore[call-overload]
        slow = int(result["timed_out"])  # type: ignore[call-overload]
        mutants += total
        killed += dead
        timeouts += slow
        score = 100 * dead / total if total else 100.0
        lines.append(
            f"| `{result['module']}` | {total} | {dead} | {slow} | {score:.1f} % "
            f"| {result['minutes']:.0f} |"
        )
    lines.append(
        f"| **all** | {mutants} | {killed} | {timeouts} "
        f"| **{100 * killed / max(mutants, 1):.1f} %** | |\n"
    )
    for result in results:
        survivors = result["survivors"]
        assert isinstance(survivors, list)
        if survivors:
            lines.append(f"## Survivors in `{result['module']}`\n")
            lines += [f"- {survivor}" for survivor in survivors]
            lines.append("")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="only these modules, in this order")
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help=f"the report (default: {RESULTS})"
    )
    args = parser.parse_args()
    known = {target.module: target for target in TARGETS}
    unknown = [module for module in args.modules if module not in known]
    if unknown:
        parser.error(f"not a target: {', '.join(unknown)} (targets: {', '.join(known)})")
    targets = [known[module] for module in args.modules] if args.modules else list(TARGETS)
    command = " ".join(["python benchmarks/mutation.py", *sys.argv[1:]])
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="aichat-mutation-") as folder:
        for target in targets:
            print(f"mutating {target.module} ...", flush=True)
            result = run_target(target, Path(folder))
            print(f"  {result['killed']}/{result['mutants']} killed", flush=True)
            results.append(result)
            args.output.write_text(report(results, targets, command))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
