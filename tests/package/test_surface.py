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


def test_the_cookies_package_exports_only_what_the_readme_documents() -> None:
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
