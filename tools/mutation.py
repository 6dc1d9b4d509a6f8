"""Mutation testing of the security-relevant modules with cosmic-ray.

    pip install -e '.[test]' cosmic-ray && python tools/mutation.py            # every module
    python tools/mutation.py aichat_provider/_redact.py                        # one of them

Each module is mutated in place, one mutation at a time, and the tests that exercise it are run
against each mutant; a mutant the tests do not notice "survives". The survivors are then tried
against a wider, slower set of tests (``Target.wider``), so a mutant counts as a survivor only
when none of those notice it either. Run it in a checkout you are not editing (it restores every
file, but an interrupted run can leave one mutated: ``git diff`` shows it). ``--workdir`` keeps
cosmic-ray's sessions, and a module whose session is already there is resumed, not restarted.
Results go to ``tools/results/mutation.md`` (``--output``), rewritten after each
module so an interrupted run keeps what it measured: the score per module and every
survivor with its place, for a person to judge (``tools/results/mutation-survivors.md``
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

from cosmic_ray.testing import run_tests  # type: ignore[import-untyped]
from cosmic_ray.work_item import TestOutcome  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "tools" / "results" / "mutation.md"
PYTEST = "python -m pytest -x -q -p no:cacheprovider -p no:randomly"
#: Seconds one test run may take before its mutant counts as killed (cosmic-ray's rule).
TIMEOUT = 180.0


@dataclass(frozen=True)
class Target:
    module: str
    #: Run against every mutant: the fast tests that exercise the module.
    tests: tuple[str, ...]
    #: Run only against the mutants ``tests`` let through.
    wider: tuple[str, ...] = ()


TARGETS = (
    Target(
        "aichat_provider/_redact.py",
        (
            "tests/provider/test_redact.py",
            "tests/provider/test_hostile_input.py",
            "tests/provider/test_errors.py",
        ),
        ("tests/provider/test_fault_matrix.py", "tests/provider/test_wire.py"),
    ),
    Target(
        "aichat_provider/cookies/_values.py",
        (
            "tests/cookies/test_values.py",
            "tests/provider/test_hostile_input.py",
            "tests/provider/test_validation.py",
            "tests/cookies/test_sources.py",
        ),
        (
            "tests/cookies/test_jar.py",
            "tests/cookies/test_files.py",
            "tests/cookies/test_store.py",
            "tests/cookies/test_reasons.py",
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
        (
            "tests/cookies/test_reasons.py",
            "tests/cookies/test_file_kinds.py",
            "tests/provider/test_hostile_input.py",
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
        ("tests/cookies/test_store.py", "tests/cookies/test_reasons.py"),
    ),
    Target(
        "aichat_provider/cookies/_store.py",
        ("tests/cookies/test_store.py",),
        ("tests/cookies/test_sources.py", "tests/cookies/test_files.py"),
    ),
    Target(
        "aichat_provider/_responses.py",
        (
            "tests/provider/test_errors.py",
            "tests/provider/test_fault_matrix.py",
            "tests/provider/test_retries.py",
        ),
        (
            "tests/provider/test_wire.py",
            "tests/provider/test_hostile_input.py",
            "tests/server/test_error_mapping.py",
        ),
    ),
    Target(
        "aichat_provider/_session.py",
        (
            "tests/provider/test_errors.py",
            "tests/provider/test_fault_matrix.py",
            "tests/provider/test_wire.py",
        ),
        (
            "tests/provider/test_concurrency.py",
            "tests/provider/test_pool.py",
            "tests/provider/test_hostile_input.py",
            "tests/provider/test_validation.py",
        ),
    ),
    Target(
        "aichat_provider/_pool.py",
        ("tests/provider/test_pool.py", "tests/provider/test_concurrency.py"),
        ("tests/provider/test_errors.py", "tests/provider/test_wire.py"),
    ),
    Target(
        "aichat_provider/server/_guard.py",
        (
            "tests/server/test_guard.py",
            "tests/server/test_app.py",
            "tests/server/test_security.py",
        ),
        ("tests/server/test_server.py", "tests/server/test_page.py"),
    ),
    Target(
        "aichat_provider/server/_errors.py",
        (
            "tests/server/test_error_mapping.py",
            "tests/server/test_app.py",
            "tests/server/test_server.py",
            "tests/server/test_retries.py",
        ),
        ("tests/server/test_openai_fields.py", "tests/server/test_security.py"),
    ),
    Target(
        "aichat_provider/server/_settings.py",
        ("tests/server/test_app.py", "tests/server/test_security.py"),
        ("tests/server/test_server.py", "tests/server/test_lifecycle.py"),
    ),
    Target(
        "aichat_provider/cli/_common.py",
        (
            "tests/package/test_options.py",
            "tests/cli/test_streams.py",
            "tests/cli/test_commands.py",
        ),
        ("tests/cli/test_basics.py", "tests/cli/test_logout_and_chat.py"),
    ),
)


def run_target(target: Target, workdir: Path) -> dict[str, object]:
    name = target.module.removeprefix("aichat_provider/").replace("/", "-").removesuffix(".py")
    config = workdir / f"{name}.toml"
    session = workdir / f"{name}.sqlite"
    started = time.monotonic()
    commands = [["cosmic-ray", "exec", str(config), str(session)]]
    if not session.exists():
        config.write_text(
            "[cosmic-ray]\n"
            f'module-path = "{target.module}"\n'
            f"timeout = {TIMEOUT}\n"
            "excluded-modules = []\n"
            f'test-command = "{PYTEST} {" ".join(target.tests)}"\n\n'
            '[cosmic-ray.distributor]\nname = "local"\n\n'
            "[cosmic-ray.filters.operators-filter]\n"
            'exclude-operators = ["core/ReplaceBinaryOperator_BitOr_.*"]\n'
        )
        commands[:0] = [
            ["cosmic-ray", "init", str(config), str(session)],
            ["cr-filter-operators", str(session), str(config)],
            ["cr-filter-pragma", str(session)],
        ]
    for command in commands:
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    dump = subprocess.run(
        ["cosmic-ray", "dump", str(session)], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    total = killed = killed_wider = timed_out = 0
    survivors: list[str] = []
    source = (ROOT / target.module).read_text().splitlines()
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None or result.get("worker_outcome") == "skipped":
            continue
        total += 1
        if result.get("test_outcome") != "survived":
            killed += 1
            # cosmic-ray counts a test run that outlives the timeout as a kill; on a loaded
            # machine that may be slowness rather than a test noticing, so it is shown apart.
            timed_out += result.get("output") == "timeout"
            continue
        outcome = _wider_outcome(target, item["mutations"]) if target.wider else "survived"
        if outcome != "survived":
            killed_wider += 1
            timed_out += outcome == "timeout"
            continue
        for mutation in item["mutations"]:
            row = mutation["start_pos"][0]
            code = source[row - 1].strip() if row <= len(source) else ""
            survivors.append(f"line {row}: `{mutation['operator_name']}` in `{code[:90]}`")
    return {
        "module": target.module,
        "mutants": total,
        "killed": killed,
        "killed_wider": killed_wider,
        "timed_out": timed_out,
        "survivors": survivors,
        "minutes": (time.monotonic() - started) / 60,
    }


def _wider_outcome(target: Target, mutations: list[dict[str, object]]) -> str:
    """ "killed", "timeout" or "survived": the mutant applied again, against ``target.wider``."""
    path = ROOT / target.module
    original = path.read_bytes()
    try:
        for mutation in mutations:
            subprocess.run(
                [
                    "cosmic-ray",
                    "apply",
                    str(mutation["module_path"]),
                    str(mutation["operator_name"]),
                    str(mutation["occurrence"]),
                ],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        # cosmic-ray's own runner: no bytecode from a mutant, and a timeout ends the whole group.
        outcome, output = run_tests(f"{PYTEST} {' '.join(target.wider)}", TIMEOUT)
        if outcome == TestOutcome.INCOMPETENT:
            raise RuntimeError(f"the wider tests of {target.module} could not start: {output}")
        if outcome == TestOutcome.SURVIVED:
            return "survived"
        return "timeout" if output == "timeout" else "killed"
    finally:
        path.write_bytes(original)


def report(results: list[dict[str, object]], targets: list[Target], command: str) -> str:
    """The markdown report of the modules mutated so far (written after each module)."""
    lines = [
        "# Mutation testing (cosmic-ray)\n",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `{command}`: "
        f"{len(results)} of {len(targets)} modules mutated.\n",
        "| module | mutants | killed by its tests | then by the wider tests | of which by "
        "timeout | survivors | score | minutes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    sums = [0, 0, 0, 0]
    for result in results:
        counts = [
            int(result[key])  # type: ignore[call-overload]
            for key in ("mutants", "killed", "killed_wider", "timed_out")
        ]
        sums = [before + count for before, count in zip(sums, counts, strict=True)]
        total, dead, dead_wider, slow = counts
        left = total - dead - dead_wider
        score = 100 * (dead + dead_wider) / total if total else 100.0
        lines.append(
            f"| `{result['module']}` | {total} | {dead} | {dead_wider} | {slow} | {left} "
            f"| {score:.1f} % | {result['minutes']:.0f} |"
        )
    total, dead, dead_wider, slow = sums
    lines.append(
        f"| **all** | {total} | {dead} | {dead_wider} | {slow} | {total - dead - dead_wider} "
        f"| **{100 * (dead + dead_wider) / max(total, 1):.1f} %** | |\n"
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
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep cosmic-ray's sessions here and resume those already there (default: a "
        "temporary folder)",
    )
    args = parser.parse_args()
    known = {target.module: target for target in TARGETS}
    unknown = [module for module in args.modules if module not in known]
    if unknown:
        parser.error(f"not a target: {', '.join(unknown)} (targets: {', '.join(known)})")
    targets = [known[module] for module in args.modules] if args.modules else list(TARGETS)
    command = " ".join(["python tools/mutation.py", *sys.argv[1:]])
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="aichat-mutation-") as folder:
        workdir = args.workdir or Path(folder)
        workdir.mkdir(parents=True, exist_ok=True)
        for target in targets:
            print(f"mutating {target.module} ...", flush=True)
            result = run_target(target, workdir)
            print(
                f"  {result['killed']}+{result['killed_wider']}/{result['mutants']} killed",
                flush=True,
            )
            results.append(result)
            args.output.write_text(report(results, targets, command))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
