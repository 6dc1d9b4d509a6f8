"""Every way in offers the options of the one table, with the table's descriptions: the docs'
argument table, ``aichat --help``, LangChain's fields and ``llm -o``."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from aichat_provider._options import OPTIONS, Option
from aichat_provider.cli import build_parser
from support.docs import built_page


@pytest.fixture(autouse=True)
def frameworks(langchain_core: Any, llm: Any, offline: dict[str, str]) -> None:
    """Both frameworks installed (the option models import them)."""


def _flag_helps() -> dict[str, str]:
    """``dest -> help`` of ``aichat ask``'s flags, as ``--help`` prints them."""
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    ask: argparse.ArgumentParser = commands["ask"]
    return {action.dest: action.help % {} for action in ask._actions if action.help}


def _llm_fields() -> dict[str, Any]:
    from aichat_provider.integrations.llm import AichatAsyncModel, AichatModel

    fields = dict(AichatModel.Options.model_fields)
    async_fields = AichatAsyncModel.Options.model_fields
    assert {name: field.description for name, field in async_fields.items()} == {
        name: field.description for name, field in fields.items()
    }
    return fields


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.name)
def test_each_option_is_described_by_the_table_everywhere(option: Option[Any]) -> None:
    from aichat_provider.integrations.langchain import ChatAichat

    langchain = ChatAichat.model_fields[option.name]
    assert langchain.description == option.description
    assert langchain.repr is not option.secret
    assert f"| `{option.name}` | {option.default_text} | " in built_page("python")
    assert option.help.replace("|", "\\|") in built_page("python")
    if option.flag is None:
        assert option.name not in _flag_helps()
        return
    flag_text = _flag_helps()[option.name]
    llm_field = _llm_fields().get(option.text_name or "")
    if option.secret:
        assert llm_field is None  # llm logs every prompt's options
    else:
        assert llm_field is not None
        assert llm_field.description == option.text_help("several separated by commas")
    if option.flag_help is None:
        assert flag_text == langchain.description
        if llm_field is not None:
            assert llm_field.description == langchain.description
    else:  # the flag takes something narrower (--ca-bundle): its own sentence, shared with llm
        assert flag_text == option.text_help("repeatable")


def test_the_adapters_offer_exactly_the_table() -> None:
    from langchain_core.language_models import BaseChatModel

    from aichat_provider.integrations.langchain import ChatAichat

    fields = set(ChatAichat.model_fields) - set(BaseChatModel.model_fields)
    assert fields == {"model"} | {option.name for option in OPTIONS}
    assert set(_llm_fields()) == {
        option.text_name for option in OPTIONS if option.flag and not option.secret
    }


def test_every_llm_option_has_a_value_type() -> None:
    """A flag converted by its own function (``--header``) would reach the provider as raw text
    through ``llm -o``: only the plain types are mapped (see ``integrations/llm.py``)."""
    from aichat_provider.integrations.llm import LLM_OPTIONS

    for option in LLM_OPTIONS.values():
        assert option.flag_type in (str, float, int, None), option.name
        assert option.flag_type is str or not option.repeatable, option.name


def test_llm_options_become_the_keyword_arguments_of_their_flags(llm: Any) -> None:
    from aichat_provider.integrations.llm import _request

    model = llm.get_model("aichat")
    options = model.Options(
        browser="firefox, chrome,", ca_bundle="/ca.pem", refresh="true", top_p="0.5"
    )
    _, kwargs = _request(llm.Prompt("Hi", model, options=options))
    assert kwargs == {
        "browser": ["firefox", "chrome"],
        "verify": "/ca.pem",
        "refresh_cookies": True,
        "top_p": 0.5,
    }
