"""math-verify equivalence under a hard, signal-free time limit.

math-verify's own timeouts use SIGALRM, which only works in the main thread and clobbers
any other alarm the caller set. Instead, one long-lived worker process
(`python -m vold_bench.scoring.mathcheck`) does the symbolic work; the caller writes one JSON
line and waits on the pipe with a deadline and, past it, kills and replaces the worker. A
pathological expression therefore costs at most `TIMEOUT_S`, in any thread. A plain
subprocess (not multiprocessing) so that the user's own __main__ is never re-imported.
Only short answers already extracted by `extract.py` ever reach this module.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading

TIMEOUT_S = 3.0
STARTUP_S = 30.0     # importing sympy + math-verify on a loaded 2-core machine
MAX_CHARS = 200


def _serve() -> None:  # the worker process: one JSON [gold, pred] per line in, "1"/"0" out
    import logging

    logging.disable(logging.WARNING)   # math-verify warns about disabled (signal) timeouts
    from math_verify import parse, verify
    from math_verify.parser import ExprExtractionConfig, LatexExtractionConfig

    cfg = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        try:
            gold, pred = json.loads(line)
            g = parse(_wrap(gold), extraction_config=cfg, parsing_timeout=None)
            p = parse(_wrap(pred), extraction_config=cfg, parsing_timeout=None)
            ok = bool(g) and bool(p) and bool(verify(g, p, timeout_seconds=None))
        except Exception:   # any parser failure means "not shown equivalent", never a crash
            ok = False
        out.write("1\n" if ok else "0\n")
        out.flush()


def _wrap(s: str) -> str:
    s = s.strip()
    return s if s.startswith("$") else f"${s}$"


class _Worker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None

    def _readline(self, timeout: float) -> str | None:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return line.strip() if line else None

    def _start(self) -> bool:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vold_bench.scoring.mathcheck"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1, env=env)
        if self._readline(STARTUP_S) != "ready":
            self._kill()
            return False
        return True

    def _kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def equivalent(self, gold: str, pred: str, timeout: float) -> bool | None:
        """True/False, or None when the check ran out of time (or the worker died)."""
        with self.lock:
            if (self.proc is None or self.proc.poll() is not None) and not self._start():
                return None
            try:
                self.proc.stdin.write(json.dumps([gold, pred]) + "\n")
                self.proc.stdin.flush()
                ans = self._readline(timeout)
            except (OSError, ValueError):
                ans = None
            if ans is None:
                self._kill()   # stuck in sympy: the only way out is to end the process
                return None
            return ans == "1"


_WORKER = _Worker()


def math_equivalent(gold: str, pred: str, timeout: float = TIMEOUT_S) -> bool | None:
    if not gold or not pred or len(gold) > MAX_CHARS or len(pred) > MAX_CHARS:
        return False
    return _WORKER.equivalent(gold, pred, timeout)


if __name__ == "__main__":
    _serve()
