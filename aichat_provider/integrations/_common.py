"""What the framework adapters share: which keyword arguments reach the provider."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import errors
from .._aichat import Aichat

#: Every keyword argument ``Aichat.create_async`` understands besides model and messages.
OPTION_NAMES = frozenset(Aichat.parameters)


def provider_options(*sources: Mapping[str, Any] | None) -> dict[str, Any]:
    """The provider's own options found in ``sources`` (later ones win), None values dropped:
    frameworks pass many settings of their own, which must not reach the provider."""
    options: dict[str, Any] = {}
    for source in sources:
        for name, value in (source or {}).items():
            if name in OPTION_NAMES and value is not None:
                options[name] = value
    return options


_mixed: dict[tuple[type[errors.ProviderError], type[Exception]], type[errors.ProviderError]] = {}


def also_a(error: errors.ProviderError, kind: type[Exception]) -> errors.ProviderError:
    """A copy of ``error`` (message and every field) whose class derives from both ``kind`` and
    ``type(error)``, so code catching the framework's kind and code catching ours both see it.
    Raise it ``from error``."""
    key = (type(error), kind)
    if key not in _mixed:
        _mixed[key] = type(type(error).__name__, (kind, type(error)), {"__module__": __name__})
    copy = _mixed[key].__new__(_mixed[key])
    copy.__dict__.update(error.__dict__)
    copy.args = error.args
    return copy
