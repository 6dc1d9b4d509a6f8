"""The public surface: exactly what the README documents, and nothing heavy at import."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import aichat_provider
from aichat_provider import errors
from aichat_provider.registry import ProviderRegistry, registry
from support.readme import readme_text
from support.secrets import subprocess_env


def documented_names() -> set[str]:
    """The names listed in the README's "Public API" section."""
    section = readme_text().split("## Public API", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for bullet in re.findall(r"^- (.*?)(?::|$)", section, re.MULTILINE):
        names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", bullet))
    return names


def test_all_is_exactly_the_documented_public_surface() -> None:
    assert set(aichat_provider.__all__) == documented_names()
    assert sorted(aichat_provider.__all__) == aichat_provider.__all__
    for name in aichat_provider.__all__:
        assert getattr(aichat_provider, name) is not None


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


def test_import_is_light_and_reads_no_browser(home: Path) -> None:
    code = (
        "import sys, aichat_provider; from aichat_provider.registry import registry; "
        "print(sorted(m for m in ('browser_cookie3', 'uvicorn', 'prometheus_client', "
        "'jsonschema', 'g4f') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        check=True,
    )
    assert out.stdout.strip() == "[]"


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
    code = f"import sys, aichat_provider; print([m for m in {deferred!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        check=True,
    )
    assert out.stdout.strip() == "[]"
    # and each arrives when its call needs it
    code = (
        "import sys, asyncio, http.cookiejar, aichat_provider\n"
        "from aichat_provider.cookies import cookies_from_argument\n"
        "assert cookies_from_argument(http.cookiejar.CookieJar(), url='https://a.example/') == {}\n"
        "assert aichat_provider.login.__module__ == 'aichat_provider._login'\n"
        "async def main():\n"
        "    async with aichat_provider.StreamSession():\n"
        "        pass\n"
        "asyncio.run(main())\n"
        "print('curl_cffi' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        check=True,
    )
    assert out.stdout.strip() == "True"
