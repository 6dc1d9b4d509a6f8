"""What the framework adapters share: which keyword arguments reach the provider."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
