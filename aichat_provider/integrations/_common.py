"""What the framework adapters share: which keyword arguments reach the provider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def cut_at_stop(answer: str, stop: str | Sequence[str] | None) -> str:
    """The answer up to the first stop sequence, as a model that supports ``stop`` ends it (the
    service has none)."""
    words = (stop,) if isinstance(stop, str) else stop or ()
    ends = [index for word in words if word and (index := answer.find(word)) >= 0]
    return answer[: min(ends)] if ends else answer


_mixed: dict[tuple[type[errors.ProviderError], type[Exception]], type[errors.ProviderError]] = {}


def also_a(error: errors.ProviderError, kind: type[Exception]) -> errors.ProviderError:
    """A copy of ``error`` (message and every field) whose class derives from both ``kind`` and
    ``type(error)``, so code catching the framework's kind and code catching ours both see it.
    Raise it ``from error``."""
    copy = _new(type(error), kind, error.args)
    copy.__dict__.update(error.__dict__)
    return copy


def _new(
    ours: type[errors.ProviderError], kind: type[Exception], args: tuple[Any, ...]
) -> errors.ProviderError:
    """An instance, without fields, of the class that is both ``kind`` and ``ours``."""
    key = (ours, kind)
    if key not in _mixed:
        _mixed[key] = type(
            ours.__name__, (kind, ours), {"__module__": __name__, "__reduce__": _reduce}
        )
    copy = _mixed[key].__new__(_mixed[key])
    copy.args = args
    return copy


def _reduce(self: errors.ProviderError) -> tuple[Any, ...]:
    # The class is made at run time, so pickle cannot find it by name: the two it is made of
    # travel instead, and every field after them, as for the package's own errors.
    kind, ours = type(self).__bases__
    return _new, (ours, kind, self.args), self.__dict__
