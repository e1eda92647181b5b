"""One exception type for problems the user can fix (bad path, unknown key, corrupt record).

The CLI prints its message on one line and exits 2; anything else is a bug and keeps its
traceback.
"""


import json


class VoldError(Exception):
    pass


def json_object(text: str, where: str) -> dict:
    """`text` parsed as one JSON object; anything else is a VoldError naming `where`."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise VoldError(f"{where}: not valid JSON ({e.msg} at char {e.pos})") from None
    if not isinstance(obj, dict):
        raise VoldError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    return obj
