"""When to try a request again, and how long to wait first."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from functools import lru_cache

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


def pause_before_retry(error: ProviderError, policy: RetryPolicy, retries_done: int) -> float:
    """Seconds to wait before the next attempt after ``error`` (logged), or ``error`` raised
    with the attempts made (in ``attempts``) when it ends the call."""
    delay = policy.delay_before_retry(error, retries_done)
    if delay is None:
        error.attempts = retries_done + 1
        raise error
    logger.info(
        "attempt %d failed (%s); retrying in %.2f s (%d of %d)",
        retries_done + 1,
        type(error).__name__,
        delay,
        retries_done + 1,
        policy.max_retries,
    )
    return delay
