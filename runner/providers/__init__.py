"""Providers: the doors to the real parts. Each is a narrow Protocol with its own small value
types (Docker engines in `docker/`, git repositories in `git.py`, GitHub in `github.py`,
language models in `llm.py`, local processes in `local.py`). A provider knows nothing of
kinds, content or rubrics; see docs/providers.md."""
