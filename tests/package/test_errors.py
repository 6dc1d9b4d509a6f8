"""The error classes as values: their defaults, their repr, and a trip through pickle."""

from __future__ import annotations

import pickle

import pytest

from aichat_provider import Aichat, errors
from aichat_provider.testing import Reply, StandInService
from support.secrets import COOKIES, USER

#: One instance of every class, with each field a caller reads set to a value of its own.
SAMPLES: list[errors.ProviderError] = [
    errors.ProviderError("m", provider="Aichat", url="http://h/api"),
    errors.InvalidRequestError("m", provider="Aichat"),
    errors.ModelNotSupportedError("m", model="gpt-9", provider="Aichat"),
    errors.MissingCookiesError("m", reasons={"chrome": "not installed"}),
    errors.ReplyError("m", status_code=302, body_excerpt="moved"),
    errors.ResponseStatusError("m", status_code=418, body_excerpt="teapot", retry_after=5.0),
    errors.AuthenticationError("m", status_code=403, body_excerpt="denied"),
    errors.CloudflareError("m", status_code=503, body_excerpt="<html>"),
    errors.RateLimitError("m", retry_after=30.0, body_excerpt="slow"),
    errors.ResponseError("m", body_excerpt="<html>"),
    errors.ProviderTimeoutError("m", url="http://h/api"),
    errors.ProviderConnectionError("m", transient=False),
    errors.LoginError("m"),
    errors.ProviderNotFoundError("m", name="nope", known=["aichat"]),
    errors.AllProvidersFailedError("m", errors={"Aichat": errors.ResponseError("inner")}),
]


def round_trip(error: errors.ProviderError) -> errors.ProviderError:
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301  # bytes this test just made
    assert isinstance(copy, errors.ProviderError)
    return copy


def test_the_samples_cover_every_class() -> None:
    assert {type(error).__name__ for error in SAMPLES} == set(errors.__all__)


@pytest.mark.parametrize("error", SAMPLES, ids=lambda error: type(error).__name__)
def test_every_error_survives_pickle_with_its_fields(error: errors.ProviderError) -> None:
    """A process pool or task queue hands the error back whole, class and fields."""
    error.attempts = 3
    copy = round_trip(error)
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert repr(copy) == repr(error)
    assert copy.args == error.args
    fields = {name: value for name, value in vars(error).items() if name != "errors"}
    assert {name: getattr(copy, name) for name in fields} == fields


async def test_an_error_from_a_real_reply_survives_pickle(service: StandInService) -> None:
    service.push(Reply.json({"error": "overloaded"}, status=503))
    with pytest.raises(errors.ResponseStatusError) as caught:
        await Aichat.create_async(
            "", USER, cookies=COOKIES, base_url=service.base_url, max_retries=0
        )
    copy = round_trip(caught.value)
    assert isinstance(copy, errors.ResponseStatusError)
    assert (copy.status_code, copy.retry_after, copy.attempts) == (503, None, 1)
    assert (copy.provider, copy.url) == ("Aichat", caught.value.url)
    assert (copy.url or "").startswith(service.base_url)
    assert copy.body_excerpt == caught.value.body_excerpt


@pytest.mark.parametrize(
    ("cls", "status"),
    [
        (errors.ResponseError, 200),
        (errors.ResponseStatusError, 500),
        (errors.AuthenticationError, 401),
        (errors.CloudflareError, 403),
        (errors.RateLimitError, 429),
    ],
)
def test_each_reply_error_defaults_to_the_status_it_stands_for(
    cls: type[errors.ReplyError], status: int
) -> None:
    error = cls("m")
    assert isinstance(error, errors.ReplyError)
    assert (error.status_code, error.body_excerpt, error.retry_after) == (status, "", None)
    assert cls("m", status_code=599).status_code == 599


def test_the_repr_of_a_reply_error_names_its_status_and_wait() -> None:
    assert repr(errors.ResponseError("m")) == "ResponseError('m', status_code=200)"
    assert (
        repr(errors.RateLimitError("m", retry_after=2.5))
        == "RateLimitError('m', status_code=429, retry_after=2.5)"
    )


def test_the_removed_running_event_loop_error_is_gone() -> None:
    assert not hasattr(errors, "RunningEventLoopError")
