"""When to try a request again, and how long to wait first."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from . import _constants
from .errors import (
    CloudflareError,
    ProviderConnectionError,
    ProviderError,
    RateLimitError,
    ReplyError,
    ResponseStatusError,
)

logger = logging.getLogger("aichat_provider")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter that honours ``Retry-After``.

    Retried: 429, 5xx (but not a Cloudflare challenge, which a retry cannot pass) and connection
    failures other than TLS verification. Not retried: timeouts (the attempt already took the
    whole budget), other 4xx, and a ``Retry-After`` longer than ``retry_after_limit``, which is
    raised at once for the caller to schedule.
    """

    max_retries: int = _constants.DEFAULT_MAX_RETRIES
    initial_delay: float = _constants.RETRY_INITIAL_DELAY
    max_delay: float = _constants.RETRY_MAX_DELAY
    retry_after_limit: float = _constants.RETRY_AFTER_LIMIT

    def delay_before_retry(self, error: ProviderError, retries_done: int) -> float | None:
        """Seconds to wait before the next attempt, or None when ``error`` is final."""
        if retries_done >= self.max_retries or not is_retryable(error):
            return None
        retry_after = error.retry_after if isinstance(error, ReplyError) else None
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_limit else None
        backoff = min(self.initial_delay * 2.0**retries_done, self.max_delay)
        return backoff * (1 - 0.25 * random.random())


@lru_cache(maxsize=16)
def retry_policy(max_retries: int) -> RetryPolicy:
    """The default policy with ``max_retries`` (shared: policies are immutable)."""
    return RetryPolicy(max_retries=max_retries)


def is_retryable(error: ProviderError) -> bool:
    if isinstance(error, RateLimitError):
        return True
    if isinstance(error, CloudflareError):
        return False
    if isinstance(error, ResponseStatusError):
        return error.status_code >= 500
    if isinstance(error, ProviderConnectionError):
        return error.transient
    return False


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]], policy: RetryPolicy
) -> tuple[T, int]:
    """Run ``attempt`` until it succeeds or fails for good; return its result and the attempts
    (an error that ends it carries them in ``attempts``)."""
    retries_done = 0
    while True:
        try:
            return await attempt(), retries_done + 1
        except ProviderError as error:
            delay = policy.delay_before_retry(error, retries_done)
            if delay is None:
                error.attempts = retries_done + 1
                raise
            retries_done += 1
            logger.info(
                "attempt %d failed (%s); retrying in %.2f s (%d of %d)",
                retries_done,
                type(error).__name__,
                delay,
                retries_done,
                policy.max_retries,
            )
            await asyncio.sleep(delay)
