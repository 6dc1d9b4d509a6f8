"""The Responses and Messages APIs' shapes as typed models (pydantic): ``/openapi.json``
describes those routes with them, and their readers (``_responses_api``, ``_messages_api``) take
the set of fields a request may hold from them.

The readers check each field themselves, with messages in each API's own terms; here the fields
are typed as far as a description helps a client.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JSONObject = dict[str, Any]


class CreateResponseRequest(BaseModel):
    """``POST /v1/responses`` (OpenAI's Responses API); docs/server-apis.md says what each field
    does here. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="A model id from GET /v1/models, or 'provider/model'.")
    input: str | list[JSONObject] = Field(
        description="Text, or message, function_call and function_call_output items."
    )
    instructions: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = Field(None, ge=1)
    text: JSONObject | None = Field(None, description="{'format': {'type': ...}}")
    tools: list[JSONObject] | None = Field(
        None, description="Function tools; hosted tools are left out of the offer."
    )
    tool_choice: str | JSONObject | None = None
    parallel_tool_calls: bool | None = None
    max_tool_calls: int | None = Field(None, ge=0)
    stream: bool | None = None
    stream_options: JSONObject | None = None
    store: bool | None = Field(None, description="Kept in memory for previous_response_id.")
    previous_response_id: str | None = None
    include: list[str] | None = None
    background: Any = Field(None, description="Not available here: leave it out.")
    top_logprobs: Any = Field(None, description="Not available here: leave it out.")
    conversation: Any = Field(None, description="Not available here: leave it out.")
    prompt: Any = Field(None, description="Not available here: leave it out.")
    # Hints a web chat cannot act on: accepted, with no effect.
    metadata: Any = None
    user: Any = None
    safety_identifier: Any = None
    prompt_cache_key: Any = None
    prompt_cache_retention: Any = None
    service_tier: Any = None
    truncation: Any = None
    reasoning: Any = None
    client_metadata: Any = None


class ResponseUsage(BaseModel):
    """Estimated, four characters a token."""

    input_tokens: int
    input_tokens_details: JSONObject
    output_tokens: int
    output_tokens_details: JSONObject
    total_tokens: int


class OutputText(BaseModel):
    type: Literal["output_text"]
    text: str
    annotations: list[Any]


class OutputMessage(BaseModel):
    type: Literal["message"]
    id: str
    status: Literal["completed", "incomplete"]
    role: Literal["assistant"]
    content: list[OutputText]


class FunctionCallItem(BaseModel):
    type: Literal["function_call"]
    id: str
    call_id: str
    name: str
    arguments: str
    status: Literal["completed"]


class Response(BaseModel):
    """The answer; with ``stream``, ``text/event-stream`` of named events (``response.created``
    ... ``response.completed``)."""

    id: str
    object: Literal["response"]
    created_at: int
    status: Literal["completed", "incomplete"]
    model: str
    output: list[OutputMessage | FunctionCallItem]
    usage: ResponseUsage


class CreateMessageRequest(BaseModel):
    """``POST /v1/messages`` (Anthropic's Messages API); docs/server-apis.md says what each field
    does here. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="A model id from GET /v1/models, or 'provider/model'.")
    messages: list[JSONObject] = Field(
        description="Text, tool_use and tool_result blocks; other kinds are refused by name."
    )
    max_tokens: int = Field(ge=1)
    system: str | list[JSONObject] | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: Any = Field(None, description="Not available here: leave it out.")
    stop_sequences: list[str] | None = Field(None, max_length=16)
    stream: bool | None = None
    tools: list[JSONObject] | None = None
    tool_choice: JSONObject | None = Field(None, description="auto, any, tool or none")
    output_config: JSONObject | None = Field(None, description="{'format': {...}}")
    container: Any = Field(None, description="Not available here: leave it out.")
    mcp_servers: Any = Field(None, description="Not available here: leave it out.")
    thread: Any = Field(None, description="Not available here: send the whole conversation.")
    context_management: JSONObject | None = None
    # Hints a web chat cannot act on: accepted, with no effect.
    metadata: Any = None
    service_tier: Any = None
    cache_control: Any = None
    inference_geo: Any = None
    speed: Any = None
    diagnostics: Any = None
    thinking: Any = None


class CountTokensRequest(CreateMessageRequest):
    """``POST /v1/messages/count_tokens``: a Messages request, ``max_tokens`` not needed."""

    max_tokens: int | None = Field(None, ge=1)  # type: ignore[assignment]


class TextBlock(BaseModel):
    type: Literal["text"]
    text: str


class ToolUseBlock(BaseModel):
    type: Literal["tool_use"]
    id: str
    name: str
    input: JSONObject


class MessageUsage(BaseModel):
    """Estimated, four characters a token."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int


class Message(BaseModel):
    """The answer; with ``stream``, ``text/event-stream`` of Anthropic's named events
    (``message_start`` ... ``message_stop``)."""

    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[TextBlock | ToolUseBlock]
    stop_reason: Literal["end_turn", "max_tokens", "stop_sequence", "tool_use"]
    stop_sequence: str | None
    usage: MessageUsage


class TokenCount(BaseModel):
    input_tokens: int


class AnthropicErrorDetail(BaseModel):
    type: str
    message: str
    code: str | None
    details: JSONObject | None = Field(
        None, description="{'error_code': code} when there is a code (the SDKs' error_code)"
    )


class AnthropicError(BaseModel):
    """Every error of the Messages routes, in Anthropic's format."""

    type: Literal["error"]
    error: AnthropicErrorDetail
