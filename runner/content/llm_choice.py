"""Which model answers a resource's questions: the provider it asked for (or taskform.yaml's),
made once per run, with its key read only from the declared secret variable; and the settings
that decide a generated result (its fingerprint)."""

from __future__ import annotations

from runner.connections import Connections
from runner.fingerprint import digest
from runner.providers.llm import LLM, OpenAILLM, TemplateLLM
from runner.workspace import Workspace


def llm_for(ws: Workspace, connections: Connections, provider: str | None = None,
            model: str | None = None) -> LLM:
    """The provider a resource asked for (or taskform.yaml's), shared within a run."""
    from runner.content.offline import answer

    settings = ws.config.llm
    name = provider or settings.provider
    if name == "template":
        return connections.get("llm", "template",
                               lambda: TemplateLLM(lambda request: answer(ws, request)))
    key = api_key(ws)
    chosen = model or settings.model
    return connections.get("llm", f"openai {settings.base_url} {chosen}",
                           lambda: OpenAILLM(settings, key, chosen))


def api_key(ws: Workspace) -> str:
    """The key, read only from the declared secret variable `llm.api_key_variable`."""
    return ws.secret(ws.config.llm.api_key_variable, "llm.api_key_variable", "API key")


def fingerprint(ws: Workspace, provider: str | None, model: str | None) -> dict[str, str]:
    """The provider settings that decide a generated result."""
    settings = ws.config.llm
    name = provider or settings.provider
    values = {"provider": name}
    if name != "template":
        values.update({"base_url": str(settings.base_url), "model": model or settings.model,
                       "review_model": str(settings.review_model),
                       "response_format": settings.response_format})
    return {f"llm:{k}": digest(v) for k, v in values.items()}
