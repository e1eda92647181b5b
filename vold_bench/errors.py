"""One exception type for problems the user can fix (bad path, unknown key, corrupt record).

The CLI prints its message on one line and exits 2; anything else is a bug and keeps its
traceback.
"""


class VoldError(Exception):
    pass
