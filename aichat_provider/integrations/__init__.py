"""Adapters that make ``Aichat`` a native provider of other frameworks.

One module per framework, each importing its framework only when the module itself is imported,
and each installed with its own extra:

- :mod:`aichat_provider.integrations.g4f` (``[g4f]``): ``register()`` makes gpt4free find
  ``"Aichat"`` by name (``ChatCompletion``, ``Client``, ``AsyncClient``, ``g4f api``, the GUI)
  and turns Aichat's errors into gpt4free's own error classes there.
- :mod:`aichat_provider.integrations.litellm` (``[litellm]``): ``register()`` adds the
  ``aichat/`` model prefix to LiteLLM.
- :mod:`aichat_provider.integrations.langchain` (``[langchain]``): ``ChatAichat``, a LangChain
  chat model.
- :mod:`aichat_provider.integrations.llm` (``[llm]``): the ``aichat`` model of Simon Willison's
  ``llm`` command, found through its entry point.

Every adapter calls the provider through its public API (``Aichat.ask_async``) and maps the
exceptions of :mod:`aichat_provider.errors` onto the framework's own, chained to the original
(``raise FrameworkError(...) from ours``), so nothing is lost.
"""

__all__: list[str] = []  # the adapters are imported by module, one per framework
