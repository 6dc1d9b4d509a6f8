"""Chat messages: validation, text parts, and the one-string prompt the service takes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from .errors import InvalidRequestError

Role = Literal["system", "user", "assistant"]
ROLES: tuple[str, ...] = ("system", "user", "assistant")


class TextPart(TypedDict):
    type: Literal["text"]
    text: str


class Message(TypedDict):
    role: Role
    content: str | list[TextPart]


Messages = Sequence[Message | Mapping[str, Any]]


def message_text(content: object, *, index: int) -> str:
    """The text of one message's content: a string, or a list of ``{"type": "text"}`` parts."""
    if type(content) is str or isinstance(content, str):
        return content
    if isinstance(content, Sequence) and not isinstance(content, (bytes, bytearray)):
        texts: list[str] = []
        for part_index, part in enumerate(content):
            where = f"messages[{index}].content[{part_index}]"
            if not isinstance(part, Mapping):
                raise InvalidRequestError(f"{where} must be a dict like {{'type': 'text', ...}}.")
            part_type = part.get("type", "text")
            if part_type != "text":
                raise InvalidRequestError(
                    f"{where} has type {_short(part_type)}; this provider only accepts text parts."
                )
            text = part.get("text")
            if not isinstance(text, str):
                raise InvalidRequestError(f"{where} needs a string 'text'.")
            texts.append(text)
        return "".join(texts)
    raise InvalidRequestError(
        f"messages[{index}].content must be a string or a list of text parts, "
        f"not {type(content).__name__}."
    )


def normalize_messages(messages: object) -> list[tuple[str, str]]:
    """Check ``messages`` and return ``(role, text)`` pairs, or raise InvalidRequestError."""
    # ``type(...) is`` first: the ABC checks are slow, and this runs on every call.
    if type(messages) is not list and (
        isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence)
    ):
        raise InvalidRequestError(
            "messages must be a list of {'role': ..., 'content': ...} dicts, "
            f"not {type(messages).__name__}."
        )
    if not messages:
        raise InvalidRequestError("messages is empty; give at least one message.")
    pairs: list[tuple[str, str]] = []
    for index, message in enumerate(messages):
        if type(message) is not dict and not isinstance(message, Mapping):
            raise InvalidRequestError(
                f"messages[{index}] must be a dict with 'role' and 'content', "
                f"not {type(message).__name__}."
            )
        role = message.get("role")
        if role not in ROLES:
            raise InvalidRequestError(
                f"messages[{index}] has role {_short(role)}; use one of {', '.join(ROLES)}."
            )
        if "content" not in message:
            raise InvalidRequestError(f"messages[{index}] has no 'content'.")
        pairs.append((str(role), message_text(message["content"], index=index)))
    return pairs


def _short(value: object) -> str:
    """``value`` quoted for a message, cut to 40 characters (it may be any size)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def format_prompt(messages: Messages) -> str:
    """Turn chat messages into the single prompt string the service expects.

    One message is sent as its content. Several become ``"Role: content"`` lines joined by newlines,
    followed by a last line ``"Assistant:"`` that asks for the next turn.
    """
    pairs = normalize_messages(messages)
    if len(pairs) == 1:
        prompt = pairs[0][1]
    else:
        prompt = "\n".join(f"{role.capitalize()}: {text}" for role, text in pairs) + "\nAssistant:"
    if not prompt.isascii():
        _check_encodable(pairs)
    return prompt


def _check_encodable(pairs: Sequence[tuple[str, str]]) -> None:
    """Lone surrogates (half of a cut emoji) cannot be sent as UTF-8: refuse them by message."""
    for index, (_, text) in enumerate(pairs):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidRequestError(
                f"messages[{index}].content has an invalid character at position {exc.start} "
                "(a lone UTF-16 surrogate, such as half of an emoji); it cannot be sent as UTF-8."
            ) from None


def repair_text(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD, as a browser shows broken UTF-16.

    JSON may escape half of a surrogate pair (``"\\ud83d"``); Python decodes that into a string
    that cannot be printed or encoded, so answers pass through here before anyone sees them.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
