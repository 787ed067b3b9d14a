"""Who holds a lease on a droplet: the state that manages the deployment, by an id kept in it.

Not the workspace's folder or the machine's name: two CI runners applying one workspace from
one PostgreSQL state are the same holder, and two workspaces with states of their own never
are, wherever they live."""

from __future__ import annotations

import threading
import uuid

from runner.errors import StateError
from runner.state.base import Facts

WORKSPACE_ID = "deploy.workspace_id"  # fact namespace; one key, STATE_KEY
STATE_KEY = "state"
_made = threading.Lock()  # two droplets applied at once must not each make an id


def workspace_id(facts: Facts, *, create: bool) -> str | None:
    """The state's id; made (during apply only) when `create` and there is none yet."""
    found = facts.get(WORKSPACE_ID, STATE_KEY)
    if isinstance(found, str) and found:
        return found
    if not create:
        return None
    with _made:
        found = facts.get(WORKSPACE_ID, STATE_KEY)
        if isinstance(found, str) and found:
            return found
        made = uuid.uuid4().hex[:16]
        facts.put(WORKSPACE_ID, STATE_KEY, made)
        return made


def require_workspace_id(facts: Facts) -> str:
    found = workspace_id(facts, create=False)
    if found is None:
        raise StateError("this state has no deployment id yet: nothing was deployed from it")
    return found
