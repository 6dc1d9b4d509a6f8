"""OpenAI's request and answer shapes as typed models (pydantic): a request is read into one
(``_requests``), and ``/openapi.json`` describes the API with them.

Fields whose checks say more than a type can (``tools``, ``response_format``, the messages) are
typed loosely here and checked in ``_requests``, whose messages name the next step.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JSONObject = dict[str, Any]
Positive = Annotated[int, Field(ge=1)]
Stop = Annotated[str, Field(min_length=1)]


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    include_usage: bool = False
    include_obfuscation: Any = None


class OpenAIRequest(BaseModel):
    """Unknown fields are refused; types are strict (``"1"`` is not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str = Field(description="A model id from GET /v1/models, or 'provider/model'.")
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    n: Positive | None = Field(None, description="Choices to answer; each is one upstream call.")
    stop: Stop | Annotated[list[Stop], Field(max_length=4)] | None = Field(
        None, description="Up to 4 sequences; the answer ends before the first."
    )
    max_tokens: Positive | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logprobs: Any = Field(None, description="Not available here: leave it out.")
    logit_bias: JSONObject | None = Field(None, description="Not available here: leave it out.")
    # Hints a web chat cannot act on: accepted, with no effect.
    user: Any = None
    seed: Any = None
    metadata: Any = None
    store: Any = None
    service_tier: Any = None
    parallel_tool_calls: Any = None
    prompt_cache_key: Any = None
    safety_identifier: Any = None
    reasoning_effort: Any = None
    verbosity: Any = None


class ChatMessage(BaseModel):
    """One message of the conversation: roles system, developer, user, assistant, tool."""

    role: str
    content: str | list[JSONObject] | None = None
    name: str | None = None
    tool_calls: list[JSONObject] | None = None
    tool_call_id: str | None = None


class ChatCompletionRequest(OpenAIRequest):
    """``POST /v1/chat/completions``."""

    # Messages are checked one by one in ``_requests`` (roles, text parts, tool history).
    messages: list[Any] = Field(json_schema_extra={"items": ChatMessage.model_json_schema()})
    max_completion_tokens: Positive | None = None
    response_format: JSONObject | None = Field(
        None, description="{'type': 'text' | 'json_object' | 'json_schema', 'json_schema': {...}}"
    )
    tools: list[Any] | None = Field(None, description="Function tools (at most 128).")
    tool_choice: str | JSONObject | None = Field(
        None, description="'auto', 'none', 'required' or {'type': 'function', ...}"
    )
    functions: list[Any] | None = None
    function_call: str | JSONObject | None = None
    top_logprobs: int | None = None
    modalities: list[str] | None = None


class CompletionRequest(OpenAIRequest):
    """``POST /v1/completions`` (legacy): each prompt is one user message."""

    prompt: str | Annotated[list[str], Field(min_length=1)]
    echo: bool | None = None
    suffix: str | None = None
    best_of: int | None = None


class Usage(BaseModel):
    """Token counts, estimated (four characters a token): the service reports none."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class FunctionCall(BaseModel):
    name: str
    arguments: str


class ToolCall(BaseModel):
    id: str
    type: Literal["function"]
    function: FunctionCall


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str | None
    tool_calls: list[ToolCall] | None = None
    #: The deprecated form, when the request offered ``functions``.
    function_call: FunctionCall | None = None
    refusal: None = None


class ChatChoice(BaseModel):
    index: int
    message: AssistantMessage
    logprobs: None
    finish_reason: Literal["stop", "length", "tool_calls", "function_call"]


class ChatCompletion(BaseModel):
    """The answer; with ``stream``, ``text/event-stream`` of ``chat.completion.chunk`` objects
    (``choices[].delta`` in place of ``message``), then ``data: [DONE]``."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class CompletionChoice(BaseModel):
    text: str
    index: int
    logprobs: None
    finish_reason: Literal["stop", "length"] | None


class Completion(BaseModel):
    """The answer; with ``stream``, ``text/event-stream`` of these objects, then ``[DONE]``."""

    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None


class ModelEntry(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelEntry]


class Health(BaseModel):
    status: Literal["ok", "draining"]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    """Every error, in OpenAI's format; ``x-should-retry`` says whether a retry can help."""

    error: ErrorDetail
