"""Every code example of the README and the docs pages, run as written against the stand-in.

Python blocks run in a fresh interpreter (those that define ``test_`` functions under pytest);
shell blocks run in bash, line by line as a person would paste them. The service address and
cookies come through the environment variables the examples honour (``AICHAT_BASE_URL``,
``AICHAT_COOKIES_FILE``), pointed at a stand-in. A block that cannot run here (it needs the real
site, a browser window, or installs packages) says so in a ``<!-- no-run: reason -->`` line
before it; the end of the run lists those and prints how many ran.

Ports are adapted, not written: a Python block that talks to ``aichat serve`` at
``127.0.0.1:8000`` gets a server this test started on a free port, with that port; a shell block
that starts the stand-in on 8765 or ``aichat serve`` on its default 8000 gets free ports in their
place, so a developer's own server on those ports does not fail the run.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aichat_provider.testing import StandInService
from support.docs import DOCS, README, ROOT, ExampleLog
from support.frameworks import offline_environment, require
from support.secrets import subprocess_env
from support.server import Server, free_port, serve_stand_in

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*$")
NO_RUN = re.compile(r"^<!-- no-run: (?P<reason>.+?) -->$")
CODE_LANGUAGES = {"python": "python", "py": "python", "sh": "sh", "shell": "sh", "bash": "sh"}
#: What a shell example may run: the project's commands and the shell around them.
SHELL_COMMANDS = {"aichat", "python", "echo", "export", "kill", "llm", "cat"}
SERVE_ADDRESS = "127.0.0.1:8000"
#: The stand-in's port in the examples.
STAND_IN_PORT = "8765"
#: Long enough for a cold start of a framework on a loaded machine; a hang still fails.
EXAMPLE_TIMEOUT = 180
#: Pages of measured results, whose tables may name the date they were measured.
RESULT_PAGES = {
    "development-benchmarks.md",
    "development-mutation.md",
    "development-reliability.md",
}


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    language: str
    code: str
    no_run: str | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def blocks_of(path: Path) -> list[Block]:
    """The fenced code blocks of a page, each with the no-run reason written before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = textwrap.dedent("\n".join(lines[index + 1 : end])) + "\n"
        before = [line.strip() for line in lines[:index] if line.strip()]
        marker = NO_RUN.match(before[-1]) if before else None
        language = CODE_LANGUAGES.get(opening["lang"], opening["lang"])
        found.append(Block(path, index + 1, language, body, marker["reason"] if marker else None))
        index = end + 1
    return found


def examples() -> list[Block]:
    return [
        block
        for path in markdown_files()
        for block in blocks_of(path)
        if block.language in ("python", "sh")
    ]


# --- the environment the examples run in -------------------------------------------------------


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandInService]:
    with StandInService() as service:
        yield service


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("docs-examples")


@pytest.fixture(scope="module")
def environment(stand_in: StandInService, folder: Path) -> dict[str, str]:
    """No AICHAT_* settings of the machine, a home of its own, the frameworks kept offline,
    and the stand-in with a demo cookies file, as Getting started sets them."""
    home = folder / "home"
    home.mkdir()
    cookies = folder / "demo-cookies.json"
    cookies.write_text('[{"name": "session", "value": "demo"}]\n')
    env = subprocess_env(home)
    env.update(offline_environment(folder / "g4f-cache"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["AICHAT_BASE_URL"] = stand_in.base_url
    env["AICHAT_COOKIES_FILE"] = str(cookies)
    env["LLM_USER_PATH"] = str(home / "llm")
    env["COLUMNS"] = "100"
    return env


@pytest.fixture(scope="module")
def serve(stand_in: StandInService, folder: Path) -> Iterator[Server]:
    """``aichat serve`` in front of the stand-in, for the examples that are its clients."""
    server_folder = folder / "serve"
    server_folder.mkdir()
    server = serve_stand_in(stand_in, server_folder, api_key=None)
    yield server
    server.stop()


# --- running a block -----------------------------------------------------------------------------


def frameworks_needed(block: Block) -> None:
    """Skip (fail in CI) a block whose framework is not installed, saying how to install it."""
    code = block.code
    if block.language == "python":
        imported = set()
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        if "integrations" in code:
            for module in ("g4f", "litellm", "langchain", "llm"):
                if re.search(rf"integrations(\.| import ){module}\b", code):
                    imported.add({"langchain": "langchain_core"}.get(module, module))
        needs = {
            "g4f": ("g4f", "g4f", "8."),
            "litellm": ("litellm", "litellm", None),
            "langchain_core": ("langchain-core", "langchain", None),
            "openai": ("openai", "test", None),
            "pytest_asyncio": ("pytest-asyncio", "test", None),
        }
        if "pytest.mark.asyncio" in code:
            imported.add("pytest_asyncio")
        for module in sorted(imported & set(needs)):
            distribution, extra, major = needs[module]
            require(distribution, extra, major=major)
    elif any(line.split()[:1] == ["llm"] for line in code.splitlines()):
        require("llm", "llm")


def expected_outputs(code: str) -> list[str]:
    """The texts the block's ``# prints: TEXT`` comments promise."""
    return [match.strip() for match in re.findall(r"#\s*prints:\s*(.+)$", code, re.MULTILINE)]


def on_free_ports(code: str) -> str:
    """A shell block with free ports for the stand-in's 8765 and ``aichat serve``'s 8000."""
    code = re.sub(rf"\b{STAND_IN_PORT}\b", str(free_port()), code)
    serve_port = str(free_port())
    code = re.sub(r"\baichat serve\b(?![^\n#]*--port)", f"aichat serve --port {serve_port}", code)
    return code.replace(SERVE_ADDRESS, f"127.0.0.1:{serve_port}")


def shell_script(block: Block) -> str:
    """The block as a bash script that stops at the first failing command. A command sent to
    the background (``&``) is waited for until it prints what its ``# prints:`` comment says
    (or anything), as a person waits for a server's first line before going on."""
    lines = ["set -eo pipefail", WAIT_FOR]
    background = 0
    for raw in block.code.replace("\\\n", " ").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        command, _, comment = line.partition("  #")
        command = command.strip()
        words = shlex.split(command, comments=True)
        assert words, f"{block.where}: {line!r}"
        assert words[0] in SHELL_COMMANDS, (
            f"{block.where}: {words[0]} is not a command of this project; mark the block "
            "<!-- no-run: reason --> if it cannot run in CI"
        )
        if command.endswith("&") and not command.endswith("&&"):
            background += 1
            expected = expected_outputs("#" + comment) if comment else []
            log = f'"$DOCS_TMP/background-{background}.log"'
            lines.append(f"{command[:-1].rstrip()} > {log} 2>&1 &")
            lines.append(f"__wait_for {log} {shlex.quote(expected[0] if expected else '')} $!")
        else:
            lines.append(command)
    return "\n".join(lines) + "\n"


WAIT_FOR = """
__wait_for() {  # log, text, pid: until the log holds the text, the process ends, or 60 s pass
    for _ in $(seq 600); do
        if [ -s "$1" ] && grep -qF -- "$2" "$1"; then return 0; fi
        if ! kill -0 "$3" 2>/dev/null; then echo "exited early: $(cat "$1")" >&2; return 1; fi
        sleep 0.1
    done
    echo "no '$2' after 60 s: $(cat "$1")" >&2
    return 1
}
"""


def run_shell(block: Block, env: dict[str, str], cwd: Path) -> str:
    process = subprocess.Popen(
        ["bash", "-c", shell_script(block)],
        cwd=cwd,
        env={**env, "DOCS_TMP": str(cwd)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its background commands are ended with it
    )
    try:
        out, err = process.communicate(timeout=EXAMPLE_TIMEOUT)
    finally:
        _end_group(process)
    assert process.returncode == 0, f"{block.where} failed:\n{out}\n{err}"
    logs = "".join(path.read_text() for path in sorted(cwd.glob("background-*.log")))
    return out + logs


def _end_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM to what the block left running (a stand-in, a server), and wait for it to go."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if process.poll() is None:
        process.kill()
        process.wait()
    # the group outlives its leader: wait until every member has gone, so ports are free again
    for _ in range(600):
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)


def run_python(block: Block, env: dict[str, str], cwd: Path) -> str:
    code = block.code
    if "def test_" in code:
        (cwd / "test_example.py").write_text(code)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        command.append("test_example.py")
    else:
        (cwd / "example.py").write_text(code)
        command = [sys.executable, "example.py"]
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT
    )
    assert result.returncode == 0, f"{block.where} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def is_slow(block: Block) -> bool:
    """Whether the example starts a server, a framework or a pytest run of its own (seconds)."""
    code = block.code
    return (
        bool(re.search(r"&\s*(#.*)?$", code, re.MULTILINE))
        or SERVE_ADDRESS in code
        or "def test_" in code
        or bool(re.search(r"\b(g4f|litellm|langchain|llm)\b", code))
    )


@pytest.mark.parametrize(
    "block",
    [pytest.param(b, marks=[pytest.mark.slow] if is_slow(b) else []) for b in examples()],
    ids=lambda block: block.where,
)
def test_example_runs_as_written(
    block: Block,
    environment: dict[str, str],
    tmp_path: Path,
    example_log: ExampleLog,
    request: pytest.FixtureRequest,
) -> None:
    if block.no_run is not None:
        example_log.not_run.append((block.where, block.no_run))
        return
    frameworks_needed(block)
    if block.language == "python" and SERVE_ADDRESS in block.code:
        server: Server = request.getfixturevalue("serve")
        block = Block(
            block.path,
            block.line,
            block.language,
            block.code.replace(SERVE_ADDRESS, f"127.0.0.1:{server.port}"),
            None,
        )
    if block.language == "sh":
        block = Block(block.path, block.line, block.language, on_free_ports(block.code), None)
    run = run_python if block.language == "python" else run_shell
    output = run(block, environment, tmp_path)
    for expected in expected_outputs(block.code):
        assert expected in output, f"{block.where}: no {expected!r} in:\n{output}"
    if block.language == "python" and "print(" in block.code and "def test_" not in block.code:
        assert "echo: " in output, f"{block.where} printed no answer:\n{output}"
    example_log.ran.append(block.where)


# --- the pages themselves ----------------------------------------------------------------------


def test_the_readme_is_short_and_starts_with_the_two_set_up_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text) < 10_000
    first_screen = "\n".join(text.splitlines()[:25])
    assert "pip install . && aichat " in first_screen
    assert "pip install '.[test]' && pytest" in first_screen
    assert len(re.findall(r"python3 -m venv", first_screen)) == 2


def test_every_block_that_is_not_run_says_why() -> None:
    """Python and shell blocks run unless marked; a marker must sit on a code block."""
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        marked = len(re.findall(r"^\s*<!-- no-run: .+? -->$", text, re.MULTILINE))
        assert marked == sum(block.no_run is not None for block in blocks_of(path)), path


HASH = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b")
DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def prose(path: Path) -> Iterator[tuple[int, str]]:
    """The lines of a page outside code blocks (a results page's tables excepted)."""
    inside = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line) or line.strip() == "```":
            inside = not inside
            continue
        if inside or (path.name in RESULT_PAGES and line.lstrip().startswith("|")):
            continue
        yield number, line


@pytest.mark.parametrize("path", markdown_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_commit_hash_or_date_in_the_prose(path: Path) -> None:
    """History goes to CHANGELOG.md; results pages show the date measured in their tables."""
    for number, line in prose(path):
        assert not HASH.search(line), f"{path.name}:{number}: {line}"
        assert not DATE.search(line), f"{path.name}:{number}: {line}"


def test_the_package_points_to_docs_pages_that_exist() -> None:
    """Messages, ``--help`` and docstrings name the docs page, not the README."""
    package = ROOT / "aichat_provider"
    named = set()
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "README" not in text, f"{source.relative_to(ROOT)} points to the README"
        named.update(re.findall(r"docs/([\w-]+\.md)", text))
    assert named, "no docs page is named in the package"
    assert {name for name in named if not (DOCS / name).is_file()} == set()


def test_the_readme_links_to_files_that_exist() -> None:
    """MkDocs checks the pages' links; the README is not one of its pages."""
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text(encoding="utf-8"))
    local = [link for link in links if "://" not in link]
    assert local, "the README links into the docs"
    assert [link for link in local if not (ROOT / link).exists()] == []
