"""Which model answers a resource's questions: the provider it asked for (or taskform.yaml's),
made once per run, with its key read only from the declared secret variable; and the settings
that decide a generated result (its fingerprint)."""

from __future__ import annotations

import json

from runner.connections import Connections
from runner.fingerprint import digest
from runner.providers.llm import LLM, TemplateLLM
from runner.providers.openai_llm import OpenAILLM
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
    headers = gateway_headers(ws)
    chosen = model or settings.model
    return connections.get("llm", f"openai {settings.base_url} {chosen}",
                           lambda: OpenAILLM(settings, key, chosen, headers))


def api_key(ws: Workspace) -> str:
    """The key, read only from the declared secret variable `llm.api_key_variable`."""
    return ws.secret(ws.config.llm.api_key_variable, "llm.api_key_variable", "API key")


def gateway_headers(ws: Workspace) -> dict[str, str]:
    """`llm.headers` with each `{variable: NAME}` read from its declared secret variable."""
    out = {}
    for name, value in ws.config.llm.headers.items():
        out[name] = value if isinstance(value, str) else \
            ws.secret(value.variable, f"llm.headers.{name}", f"value of header {name}")
    return out


def fingerprint(ws: Workspace, provider: str | None, model: str | None) -> dict[str, str]:
    """The provider settings that decide a generated result."""
    settings = ws.config.llm
    name = provider or settings.provider
    values = {"provider": name}
    if name != "template":
        values.update({"base_url": str(settings.base_url), "model": model or settings.model,
                       "review_model": str(settings.review_model),
                       "response_format": settings.response_format})
        # only when not the default, so that fingerprints recorded before these existed hold
        if settings.api != "chat":
            values["api"] = settings.api
        if settings.conversation != "single":
            values["conversation"] = settings.conversation
        literal = {k: v for k, v in settings.headers.items() if isinstance(v, str)}
        if literal:  # a gateway's routing headers can choose the model; secret ones are keys
            values["headers"] = json.dumps(literal, sort_keys=True)
    return {f"llm:{k}": digest(v) for k, v in values.items()}
