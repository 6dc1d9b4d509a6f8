"""The public surface: exactly what the docs document, and nothing heavy at import."""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import aichat_provider
from aichat_provider import errors
from aichat_provider.registry import ProviderRegistry, registry
from support.docs import page_text, section
from support.secrets import subprocess_env


def documented_names() -> set[str]:
    """The names listed in the "Public API" section of the provider's docs page."""
    listed = section(page_text("python"), "## Public API")
    names: set[str] = set()
    for bullet in re.findall(r"^- (.*?)(?::|$)", listed, re.MULTILINE):
        names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", bullet))
    return names


def test_all_is_exactly_the_documented_public_surface() -> None:
    assert set(aichat_provider.__all__) == documented_names()
    assert sorted(aichat_provider.__all__) == aichat_provider.__all__
    for name in aichat_provider.__all__:
        assert getattr(aichat_provider, name) is not None


def test_the_cookies_package_exports_only_what_the_docs_document() -> None:
    from aichat_provider import cookies

    assert cookies.__all__ == ["get_cookies"]
    assert set(cookies.__all__) <= documented_names()
    # (pytest's assertion rewriting adds names such as "@py_builtins", which are no identifiers)
    names = {name for name in vars(cookies) if name.isidentifier() and not name.startswith("_")}
    public = names - {"annotations"}
    assert public == set(cookies.__all__)  # the rest is imported from its private modules
    assert cookies.get_cookies is aichat_provider.get_cookies


def test_the_contracts_imports_work() -> None:
    for name in (
        "Aichat",
        "AsyncProvider",
        "BaseProvider",
        "StreamSession",
        "format_prompt",
        "get_cookies",
    ):
        assert name in aichat_provider.__all__
    assert isinstance(registry, ProviderRegistry)
    assert (Path(aichat_provider.__file__).parent / "py.typed").exists()


def test_errors_all_lists_every_exception_class_and_only_those() -> None:
    classes = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
    }
    assert set(errors.__all__) == classes
    assert all(issubclass(getattr(errors, name), errors.ProviderError) for name in classes)


def test_the_error_tree_of_the_contract() -> None:
    assert issubclass(errors.ModelNotSupportedError, errors.InvalidRequestError)
    assert issubclass(errors.InvalidRequestError, ValueError)
    assert issubclass(errors.MissingCookiesError, RuntimeError)
    assert issubclass(errors.ProviderTimeoutError, TimeoutError)
    assert issubclass(errors.ProviderConnectionError, ConnectionError)
    for cls in (errors.AuthenticationError, errors.CloudflareError, errors.RateLimitError):
        assert issubclass(cls, errors.ResponseStatusError)


def test_version_agrees_with_the_distribution() -> None:
    from importlib.metadata import version

    assert aichat_provider.__version__ == version("aichat-provider")


@pytest.mark.slow
def test_import_is_light_and_reads_no_browser(home: Path) -> None:
    code = (
        "import sys, aichat_provider; from aichat_provider.registry import registry; "
        "print(sorted(m for m in ('browser_cookie3', 'uvicorn', 'prometheus_client', "
        "'jsonschema', 'g4f') if m in sys.modules))"
    )
    out = run_python(code, home)
    assert out.stdout.strip() == "[]"


#: Every module whose dotted name has no underscore part, with the names it offers: a new public
#: module, or a name added to one, is a decision this table records.
PUBLIC_MODULES: dict[str, set[str]] = {
    "aichat_provider": set(aichat_provider.__all__),
    "aichat_provider.cli": {"build_parser", "main"},
    **{
        f"aichat_provider.cli.{command}": {"NAME", "SUMMARY", "configure", "run"}
        for command in (
            "ask",
            "chat",
            "completion",
            "config",
            "doctor",
            "login",
            "logout",
            "logs",
            "serve",
        )
    },
    "aichat_provider.cookies": {"get_cookies"},
    "aichat_provider.errors": set(errors.__all__),
    "aichat_provider.integrations": set(),
    "aichat_provider.integrations.g4f": {
        "Aichat",
        "AichatForServers",
        "main",
        "register",
        "to_g4f_error",
        "unregister",
    },
    "aichat_provider.integrations.langchain": {"ChatAichat", "to_langchain_error"},
    "aichat_provider.integrations.litellm": {
        "PROVIDER",
        "AichatLLM",
        "register",
        "to_litellm_error",
    },
    "aichat_provider.integrations.llm": {"AichatAsyncModel", "AichatModel", "register_models"},
    "aichat_provider.registry": {"ENTRY_POINT_GROUP", "ProviderRegistry", "registry"},
    "aichat_provider.server": {"AichatServer", "ServerConfig", "ServerConfigError", "create_app"},
    "aichat_provider.testing": {
        "Challenge",
        "LoopServer",
        "RecordedRequest",
        "Reply",
        "SignIn",
        "StandInService",
        "echo_answer",
    },
    "aichat_provider.testing.pytest_plugin": {"aichat_service", "aichat_service_tls"},
}


def public_modules() -> dict[str, Path]:
    root = Path(aichat_provider.__file__).parent
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(part.startswith("_") for part in parts):
            found[".".join(parts)] = path
    return found


def test_every_public_module_declares_what_it_offers() -> None:
    """Read from the source (the adapters' frameworks need not be installed): each public module
    has an ``__all__`` of names it defines or imports, and it is the one the table records."""
    modules = public_modules()
    assert set(modules) == set(PUBLIC_MODULES)
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        declared = [
            node.value
            for node in tree.body
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            and any(
                isinstance(target, ast.Name) and target.id == "__all__"
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            )
        ]
        assert len(declared) == 1, f"{name} has no __all__"
        offered = set(ast.literal_eval(declared[0]))  # type: ignore[arg-type]
        assert offered == PUBLIC_MODULES[name], name
        bound = _bound_names(tree)
        assert offered <= bound, f"{name}.__all__ names {offered - bound}, which it does not bind"


def _bound_names(tree: ast.Module) -> set[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return bound


@pytest.mark.slow
def test_import_leaves_what_only_some_calls_need_unimported(home: Path) -> None:
    # curl_cffi alone takes longer to import than the rest of the package; http.cookiejar brings
    # urllib.request and http.client; the rest serve cookie files, browsers and `aichat login`.
    deferred = (
        "curl_cffi",
        "http.cookiejar",
        "urllib.request",
        "http.client",
        "sqlite3",
        "configparser",
        "tempfile",
        "aichat_provider._login",
    )
    # What the interpreter had before (coverage, when it measures the child, brings sqlite3).
    code = (
        "import sys; before = set(sys.modules); import aichat_provider; "
        f"print([m for m in {deferred!r} if m in sys.modules and m not in before])"
    )
    out = run_python(code, home)
    assert out.stdout.strip() == "[]"
    # and each arrives when its call needs it
    code = (
        "import sys, asyncio, http.cookiejar, aichat_provider\n"
        "from aichat_provider.cookies._argument import cookies_from_argument\n"
        "assert cookies_from_argument(http.cookiejar.CookieJar(), url='https://a.example/') == {}\n"
        "assert aichat_provider.login.__module__ == 'aichat_provider._login'\n"
        "async def main():\n"
        "    async with aichat_provider.StreamSession():\n"
        "        pass\n"
        "asyncio.run(main())\n"
        "print('curl_cffi' in sys.modules)"
    )
    out = run_python(code, home)
    assert out.stdout.strip() == "True"


@pytest.mark.slow
def test_the_first_call_imports_curl_cffi_off_the_event_loop(home: Path) -> None:
    """curl_cffi takes 0.1 s and more to import: the first call must not stall its loop."""
    code = """
import asyncio, sys, threading
import aichat_provider
from aichat_provider.testing import StandInService
where = []

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "curl_cffi":
            try:
                asyncio.get_running_loop()
                where.append("the event loop")
            except RuntimeError:
                where.append(threading.current_thread().name)
        return None

sys.meta_path.insert(0, Watch())
with StandInService() as service:
    answer = asyncio.run(aichat_provider.Aichat.create_async(
        "", [{"role": "user", "content": "Hi"}], base_url=service.base_url,
        cookies={"session": "s"}, browser=[]))
print(answer, where)
"""
    out = run_python(code, home)
    answer, _, where = out.stdout.strip().partition(" [")
    assert answer == "echo: Hi"
    assert "the event loop" not in where
    assert "asyncio" in where  # asyncio.to_thread's worker thread


@pytest.mark.slow
def test_calls_that_start_together_let_the_loop_run_while_curl_cffi_imports(home: Path) -> None:
    """Only the first of several calls started at once used to import curl_cffi off the loop:
    the others imported it on the loop, which waited for the worker's import to finish."""
    code = """
import asyncio, sys, threading
import aichat_provider
from aichat_provider.testing import StandInService
loop_ran = threading.Event()
held = []

class Hold:
    def find_spec(self, name, path=None, target=None):
        if name == "curl_cffi" and threading.current_thread() is not threading.main_thread():
            held.append(loop_ran.wait(10))  # the loop sets it, unless it is blocked meanwhile
        return None

sys.meta_path.insert(0, Hold())

async def main(service):
    calls = [aichat_provider.Aichat.create_async(
        "", [{"role": "user", "content": "Hi"}], base_url=service.base_url,
        cookies={"session": "s"}, browser=[]) for _ in range(3)]
    async def tick():
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        loop_ran.set()
    answers = await asyncio.gather(*calls, tick())
    return answers[:3]

with StandInService() as service:
    print(asyncio.run(main(service)), held)
"""
    out = run_python(code, home)
    assert out.stdout.strip() == "['echo: Hi', 'echo: Hi', 'echo: Hi'] [True]"


@pytest.mark.slow
def test_a_first_call_cancelled_while_curl_cffi_imports_leaves_the_loop_closing_its_pool(
    home: Path,
) -> None:
    """The loop's pool was published before its shutdown hook: a cancellation in between left
    every later session of that loop open after the loop ended."""
    code = """
import asyncio, sys, threading
import aichat_provider
from aichat_provider.testing import StandInService
importing, release = threading.Event(), threading.Event()

class Hold:
    def find_spec(self, name, path=None, target=None):
        if name == "curl_cffi" and threading.current_thread() is not threading.main_thread():
            importing.set()
            release.wait(10)
        return None

sys.meta_path.insert(0, Hold())
KWARGS = {"cookies": {"session": "s"}, "browser": []}
USER = [{"role": "user", "content": "Hi"}]

async def main(service):
    first = asyncio.create_task(
        aichat_provider.Aichat.create_async("", USER, base_url=service.base_url, **KWARGS))
    await asyncio.to_thread(importing.wait, 10)
    first.cancel()
    try:
        await first
    except asyncio.CancelledError:
        pass
    release.set()
    return await aichat_provider.Aichat.create_async(
        "", USER, base_url=service.base_url, **KWARGS)

with StandInService() as service:
    answer = asyncio.run(main(service))
    print(answer, service.wait_for_open_connections(0))
"""
    out = run_python(code, home)
    assert out.stdout.strip() == "echo: Hi True"


def run_python(code: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``python -c code`` in a fresh interpreter with a test HOME; its output as text."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        check=True,
    )
