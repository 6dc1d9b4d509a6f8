"""The audit's mutations, each against the test written to kill it.

    pip install -e '.[test]' && python tools/audit_mutations.py     # every mutation
    python tools/audit_mutations.py pool-ignores-verify cli-ignores-model   # some of them
    python tools/audit_mutations.py --list                          # their names
    python tools/audit_mutations.py --hand --output tools/results/hand-mutations.md

An audit of the test suite once listed mutations that survived every test: regressions a user
would feel (a proxy password in a message, the server on 0.0.0.0, a cookie sent to the wrong
host, ...). Tests were written since to kill them. This script keeps that promise checked: for
each mutation it runs the killing test(s) unmutated (they must pass, or "killed" would mean
nothing), applies one small textual change to one package file (an ``old`` string that must
occur exactly once becomes ``new``), runs the same tests again (they must fail: pytest's exit
code 1) and restores the file whatever happens. It prints a markdown table and exits non-zero
if a mutant survives, a baseline run fails, or an ``old`` string is not found exactly once (the
code moved on: update the mutation, do not drop it).

Unlike ``tools/mutation.py`` (cosmic-ray's blind operators over whole modules), these are
hand-written regressions with the one test that names each. Run it in a checkout you are not
editing: it restores every file, but an interrupted run can leave one mutated (``git diff``
shows it). ``AICHAT_NO_SKIPS=1`` is set, so a skipped test fails its baseline instead of passing
for nothing.

``--hand`` runs the hand-written pass of ``tools/hand_mutations.py`` instead: each mutation
against its module's own tests, then, if those pass, against a wider set; each set's baseline
runs once. ``PYTHONPATH`` is set to this checkout, so the tests' child processes (the CLI's)
import the mutant even when the virtualenv's editable install points at another checkout.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST = ("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly")
#: pytest's exit code when tests ran and at least one failed: the only "killed".
TESTS_FAILED = 1
LOOPBACK = "127.0.0.1"
EVERY_ADDRESS = ".".join(["0"] * 4)  # what `--host` must not default to


@dataclass(frozen=True)
class Mutation:
    """One regression: ``old`` (exactly once in ``file``) becomes ``new``; ``tests`` must fail."""

    name: str
    regression: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    #: Tried only when ``tests`` let the mutant through (the hand-written pass).
    wider: tuple[str, ...] = ()


MUTATIONS = (
    Mutation(
        "pool-ignores-verify",
        "the pool ignores `verify`: a verify=False session is lent to a verifying call",
        # The key is built in _aichat.py, but the session is made from key.verify: dropping it
        # there would break verify=False itself. The regression is a lookup that ignores it.
        "aichat_provider/_pool.py",
        "        entry = self.sessions.get(key)\n",
        "        key = next((k for k in self.sessions if k[:3] == key[:3]), key)\n"
        "        entry = self.sessions.get(key)\n",
        (
            "tests/provider/test_pool.py"
            "::test_a_verify_false_call_never_lends_its_session_to_a_verifying_call",
        ),
    ),
    Mutation(
        "server-body-sets-upstream",
        "the request body may name `base_url`, `cookies` or `proxy` (unknown fields are taken)",
        "aichat_provider/server/_models.py",
        'is not a number)."""\n\n    model_config = ConfigDict(extra="forbid", strict=True)',
        'is not a number)."""\n\n    model_config = ConfigDict(extra="allow", strict=True)',
        ("tests/server/test_security.py::test_the_request_cannot_choose_where_the_cookies_go",),
    ),
    Mutation(
        "stream-skips-key",
        "a completion route (`POST`) skips the API-key check",
        "aichat_provider/server/_gateway.py",
        'if method != "OPTIONS" and (info is None or not info.public):',
        'if method not in ("OPTIONS", "POST") and (info is None or not info.public):',
        ("tests/server/test_security.py::test_the_key_from_the_environment_is_required",),
    ),
    Mutation(
        "serve-binds-every-address",
        f"`aichat serve` binds {EVERY_ADDRESS} by default",
        "aichat_provider/cli/serve.py",
        f'parser.add_argument("--host", default="{LOOPBACK}"',
        f'parser.add_argument("--host", default="{EVERY_ADDRESS}"',
        ("tests/server/test_security.py::test_it_binds_loopback_by_default",),
    ),
    Mutation(
        "serve-ignores-env-key",
        "`aichat serve` ignores `AICHAT_API_KEY`",
        "aichat_provider/cli/serve.py",
        "api_key=args.api_key or os.environ.get(ENV_API_KEY) or None,",
        "api_key=args.api_key or None,",
        ("tests/server/test_security.py::test_the_key_from_the_environment_is_required",),
    ),
    Mutation(
        "app-ignores-env-key",
        "`ServerConfig.from_environment` (uvicorn's factory) ignores `AICHAT_API_KEY`",
        "aichat_provider/server/_settings.py",
        "api_key=os.environ.get(_constants.ENV_API_KEY) or None,",
        "api_key=None,",
        ("tests/server/test_app.py::test_configuration_from_the_environment",),
    ),
    Mutation(
        "query-key-accepted",
        "an API key in the query string is accepted",
        "aichat_provider/server/_gateway.py",
        '        in_url = b"key=" in query.lower()\n',
        '        if b"key=" + key.encode() in query:\n'
        "            return\n"
        '        in_url = b"key=" in query.lower()\n',
        (
            "tests/server/test_security.py"
            "::test_a_key_in_the_query_string_is_refused_and_not_logged",
        ),
    ),
    Mutation(
        "cookie-domain-no-dot-boundary",
        "a `.chat-gpt.org` cookie goes to `evilchat-gpt.org` (no dot boundary)",
        "aichat_provider/cookies/_jar.py",
        "        if bare == host:\n",
        "        if host.endswith(bare):\n",
        (
            "tests/cookies/test_sources.py"
            "::test_a_domain_cookie_never_reaches_a_host_that_only_ends_with_its_name",
        ),
    ),
    Mutation(
        "cookie-reason-no-dot-boundary",
        "a `.chat-gpt.org` cookie kept from `evilchat-gpt.org` is blamed on its path, not the host",
        "aichat_provider/cookies/_jar.py",
        'host.endswith("." + bare)',
        "host.endswith(bare)",
        (
            "tests/cookies/test_jar.py"
            "::test_a_host_that_only_ends_like_the_domain_is_told_it_is_another_host",
        ),
    ),
    Mutation(
        "proxy-password-shown",
        "an unresolvable proxy's error message shows the raw proxy URL (its password)",
        "aichat_provider/_session.py",
        "self._proxy_shown = None if proxy is None else redact_url(proxy)",
        "self._proxy_shown = None if proxy is None else proxy",
        ("tests/provider/test_errors.py::test_an_unresolvable_proxy_never_shows_its_password",),
    ),
    Mutation(
        "refusal-text-unscrubbed",
        'the service\'s `"response": false` text keeps the cookie it echoes',
        "aichat_provider/_aichat.py",
        "said = repair_text(scrub(message))[:300]",
        "said = repair_text(message)[:300]",
        ("tests/provider/test_errors.py::test_the_services_own_refusal_text_is_scrubbed",),
    ),
    Mutation(
        "server-missing-cookies-502",
        "the server answers missing cookies with 502 instead of 401",
        "aichat_provider/server/_errors.py",
        "    if isinstance(exc, errors.MissingCookiesError):\n",
        "    if isinstance(exc, errors.MissingCookiesError) and exc.attempts < 0:\n",
        ("tests/server/test_app.py::test_missing_cookies_are_401_with_what_to_do",),
    ),
    Mutation(
        "cli-ignores-proxy",
        "the CLI ignores `--proxy`",
        "aichat_provider/cli/_common.py",
        "        if value is None:\n            continue\n        if option.name == ",
        '        if value is None or option.name == "proxy":\n'
        "            continue\n"
        "        if option.name == ",
        ("tests/cli/test_commands.py::test_the_proxy_flag_carries_the_request",),
    ),
    Mutation(
        "cli-ignores-model",
        "the CLI ignores `--model`",
        "aichat_provider/cli/ask.py",
        'answer = asyncio.run(ask(messages, args.model or "", kwargs))',
        'answer = asyncio.run(ask(messages, "", kwargs))',
        ("tests/cli/test_commands.py::test_the_model_flag_is_checked_and_reported",),
    ),
    Mutation(
        "cli-blank-prompt-sent",
        "an empty prompt is sent to the service",
        "aichat_provider/cli/ask.py",
        "        if not prompt.strip():\n            raise errors.InvalidRequestError(",
        "        if not prompt:\n            raise errors.InvalidRequestError(",
        ("tests/cli/test_commands.py::test_an_empty_prompt_is_a_usage_error",),
    ),
    Mutation(
        "cli-ctrl-c-not-130",
        "Ctrl-C while waiting for the answer does not exit 130",
        "aichat_provider/cli/ask.py",
        "    except KeyboardInterrupt:\n        return EXIT_INTERRUPTED\n",
        "    except KeyboardInterrupt:\n        return 1\n",
        ("tests/cli/test_commands.py::test_ctrl_c_while_waiting_exits_130",),
    ),
    Mutation(
        "chat-bad-option-not-2",
        "`aichat chat` with an option that can never work does not exit 2",
        "aichat_provider/cli/chat.py",
        "        report_error(error)\n        return EXIT_USAGE\n",
        "        report_error(error)\n        return EXIT_OK\n",
        (
            "tests/cli/test_commands.py"
            "::test_options_that_can_never_work_end_the_chat_before_it_starts",
        ),
    ),
    Mutation(
        "doctor-accepts-bad-option",
        "`aichat doctor` accepts a bad `--proxy` and goes on checking",
        "aichat_provider/cli/doctor.py",
        "            parse_proxy(args.proxy),\n",
        "            args.proxy,\n",
        ("tests/cli/test_commands.py::test_doctor_refuses_a_bad_option_before_checking_anything",),
    ),
    Mutation(
        "browser-read-blocks-loop",
        "reading the browser's cookies blocks the event loop",
        "aichat_provider/cookies/_cache.py",
        "            return await asyncio.wait_for(\n"
        "                asyncio.shield(asyncio.wrap_future(future)), self.load_timeout\n"
        "            )\n",
        "            return future.result(self.load_timeout)\n",
        ("tests/cookies/test_sources.py::test_cold_browser_read_does_not_block_the_event_loop",),
    ),
    Mutation(
        "browser-cache-never-expires",
        "the browser-cookie cache ignores its time limit",
        "aichat_provider/cookies/_cache.py",
        "            if entry is not None and entry[0] > time.monotonic():\n"
        "                return entry[1]\n",
        "            if entry is not None:\n                return entry[1]\n",
        (
            "tests/cookies/test_sources.py"
            "::test_browser_cookies_are_read_again_once_the_cache_time_is_up",
        ),
    ),
    Mutation(
        "eviction-kills-running-call",
        "an evicted pooled session is closed under the call it carries",
        "aichat_provider/_pool.py",
        "                if oldest.leases == 0:\n                    evicted = oldest\n",
        "                evicted = oldest\n",
        (
            "tests/provider/test_pool.py"
            "::test_eviction_under_a_running_call_loses_nothing_without_retries",
        ),
    ),
    Mutation(
        "truthy-response-accepted",
        'any truthy `"response"` of the service\'s JSON is taken as an answer',
        "aichat_provider/_aichat.py",
        'if isinstance(data, dict) and data.get("response") is True:',
        'if isinstance(data, dict) and data.get("response"):',
        ("tests/provider/test_errors.py::test_only_a_json_true_response_is_an_answer",),
    ),
)


@dataclass(frozen=True)
class Outcome:
    mutation: Mutation
    verdict: str  # "yes" or "yes (wider)", or why not
    seconds: float

    @property
    def killed(self) -> bool:
        return self.verdict.startswith("yes")


def run_tests(tests: tuple[str, ...], timeout: float, verbose: bool) -> tuple[int, str]:
    """pytest's exit code for ``tests`` and the last lines of its output."""
    env = {**os.environ, "AICHAT_NO_SKIPS": "1", "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, *PYTEST, *tests],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return -1, f"no result within {timeout:g} s"
    output = (done.stdout + done.stderr).strip()
    if verbose:
        print(output, flush=True)
    return done.returncode, "\n".join(output.splitlines()[-3:])


def forget_bytecode(path: Path) -> None:
    """A mutant of the same size written within the same second would reuse the old .pyc."""
    Path(importlib.util.cache_from_source(str(path))).unlink(missing_ok=True)


#: Baseline exit codes by test set: a set shared by many mutations runs unmutated once.
_baselines: dict[tuple[str, ...], int] = {}


def baseline(tests: tuple[str, ...], timeout: float, verbose: bool) -> int:
    if tests not in _baselines:
        code, tail = run_tests(tests, timeout, verbose)
        if code != 0:
            print(f"  unmutated, pytest exited {code}:\n{tail}", flush=True)
        _baselines[tests] = code
    return _baselines[tests]


def check(mutation: Mutation, timeout: float, verbose: bool, *, wider: bool = True) -> Outcome:
    started = time.monotonic()

    def outcome(verdict: str) -> Outcome:
        return Outcome(mutation, verdict, time.monotonic() - started)

    path = ROOT / mutation.file
    original = path.read_bytes()
    count = original.decode().count(mutation.old)
    if count != 1:
        return outcome(f"no: `old` found {count} times")
    sets = [mutation.tests, *([mutation.wider] if mutation.wider and wider else [])]
    for number, tests in enumerate(sets):
        code = baseline(tests, timeout, verbose)
        if code != 0:
            return outcome(f"no: fails unmutated (exit {code})")
        try:
            path.write_bytes(original.decode().replace(mutation.old, mutation.new).encode())
            forget_bytecode(path)
            code, tail = run_tests(tests, timeout, verbose)
        finally:
            path.write_bytes(original)
            forget_bytecode(path)
        if code == TESTS_FAILED:
            return outcome("yes (wider)" if number else "yes")
        if code != 0:
            print(f"  mutated, pytest exited {code}:\n{tail}", flush=True)
            return outcome(f"no: pytest exited {code}")
    return outcome("no: survived")


def hand_mutations() -> list[Mutation]:
    """The hand-written pass of ``tools/hand_mutations.py``, with each module's test sets."""
    source = ROOT / "tools" / "hand_mutations.py"
    spec = importlib.util.spec_from_file_location("hand_mutations", source)
    assert spec is not None
    assert spec.loader is not None
    data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(data)
    found = []
    for name, file, regression, old, new in data.MUTATIONS:
        tests, wider = data.MODULE_TESTS[file]
        found.append(Mutation(name, regression, file, old, new, tests, wider))
    return found


def summary(outcomes: list[Outcome]) -> str:
    """Per module: mutations, killed by its own tests, then by the wider set, survivors."""
    lines = [
        "| module | mutations | killed by its tests | then by the wider set | left | score |",
        "|---|---|---|---|---|---|",
    ]
    modules: dict[str, list[Outcome]] = {}
    for result in outcomes:
        modules.setdefault(result.mutation.file, []).append(result)
    rows = [*modules.items(), ("**all**", outcomes)]
    for module, results in rows:
        own = sum(result.verdict == "yes" for result in results)
        wider = sum(result.verdict == "yes (wider)" for result in results)
        left = len(results) - own - wider
        score = 100 * (own + wider) / max(len(results), 1)
        shown = module if module.startswith("*") else f"`{module}`"
        lines.append(f"| {shown} | {len(results)} | {own} | {wider} | {left} | {score:.1f} % |")
    return "\n".join(lines)


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| mutation | file | killing test | killed |",
        "|---|---|---|---|",
    ]
    for result in outcomes:
        mutation = result.mutation
        tests = "<br>".join(f"`{test.removeprefix('tests/')}`" for test in mutation.tests)
        lines.append(
            f"| `{mutation.name}`: {mutation.regression} | `{mutation.file}` | {tests} "
            f"| {result.verdict} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="only these mutations, in this order")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds for one pytest run (default: 1800)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's output")
    parser.add_argument(
        "--hand", action="store_true", help="the hand-written pass of tools/hand_mutations.py"
    )
    parser.add_argument("--output", type=Path, help="also write the markdown report here")
    parser.add_argument(
        "--no-wider",
        action="store_true",
        help="a quick first pass: only each module's own tests (survivors then run again whole)",
    )
    args = parser.parse_args()
    mutations = hand_mutations() if args.hand else list(MUTATIONS)
    known = {mutation.name: mutation for mutation in mutations}
    if args.list:
        for mutation in mutations:
            print(f"{mutation.name}: {mutation.regression}")
        return 0
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"not a mutation: {', '.join(unknown)} (--list shows them)")
    chosen = [known[name] for name in args.names] if args.names else mutations
    started = time.monotonic()
    outcomes: list[Outcome] = []
    for number, mutation in enumerate(chosen, 1):
        print(f"[{number}/{len(chosen)}] {mutation.name} ...", flush=True)
        result = check(mutation, args.timeout, args.verbose, wider=not args.no_wider)
        print(f"  killed: {result.verdict} ({result.seconds:.0f} s)", flush=True)
        outcomes.append(result)
    survivors = [result for result in outcomes if not result.killed]
    command = " ".join(["python tools/audit_mutations.py", *sys.argv[1:]])
    print(f"\n`{command}`: {len(outcomes) - len(survivors)} of {len(outcomes)} killed", end="")
    print(f" in {(time.monotonic() - started) / 60:.1f} min.\n")
    print(table(outcomes))
    if args.output:
        minutes = (time.monotonic() - started) / 60
        args.output.write_text(
            f"`{command}`: {len(outcomes) - len(survivors)} of {len(outcomes)} killed in "
            f"{minutes:.0f} min.\n\n{summary(outcomes)}\n\n{table(outcomes)}\n"
        )
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
