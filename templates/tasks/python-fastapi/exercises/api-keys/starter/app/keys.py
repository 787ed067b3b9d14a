"""The API keys the team issued, with their role. (In production they would come from a secret
store; these are the ones the tests use.)"""

KEYS: dict[str, str] = {
    "reader-key-1": "reader",
    "reader-key-2": "reader",
    "admin-key-1": "admin",
}
