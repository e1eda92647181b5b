"""math-verify equivalence under a hard, signal-free time limit.

math-verify's own timeouts use SIGALRM, which only works in the main thread and clobbers
any other alarm the caller set. Instead, one long-lived worker process does the symbolic
work; the caller waits on a pipe with a deadline and, past it, kills and replaces the
worker. A pathological expression therefore costs at most `TIMEOUT_S`, in any thread.
Only short answers already extracted by `extract.py` ever reach this module.
"""
from __future__ import annotations

import multiprocessing as mp
import threading

TIMEOUT_S = 3.0
MAX_CHARS = 200


def _serve(conn) -> None:  # runs in the worker process
    from math_verify import parse, verify
    from math_verify.parser import ExprExtractionConfig, LatexExtractionConfig

    cfg = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    while True:
        try:
            gold, pred = conn.recv()
        except EOFError:
            return
        try:
            g = parse(_wrap(gold), extraction_config=cfg, parsing_timeout=None)
            p = parse(_wrap(pred), extraction_config=cfg, parsing_timeout=None)
            ok = bool(g) and bool(p) and bool(verify(g, p, timeout_seconds=None))
        except Exception:   # any parser failure is "not equivalent", never a crash
            ok = False
        conn.send(ok)


def _wrap(s: str) -> str:
    s = s.strip()
    return s if s.startswith("$") else f"${s}$"


class _Worker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc = None
        self.conn = None
        self.warm = False   # the first call also pays for importing sympy in the worker

    def _start(self) -> None:
        ctx = mp.get_context("spawn")   # never fork a process that may hold torch threads
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent

    def _kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join(1)
        self.proc = self.conn = None
        self.warm = False

    def equivalent(self, gold: str, pred: str, timeout: float) -> bool | None:
        """True/False, or None when the check ran out of time."""
        with self.lock:
            if self.proc is None or not self.proc.is_alive():
                self._start()
            try:
                self.conn.send((gold, pred))
                if self.conn.poll(timeout + (0.0 if self.warm else 10.0)):
                    self.warm = True
                    return bool(self.conn.recv())
            except (OSError, EOFError):
                pass
            self._kill()
            return None


_WORKER = _Worker()


def math_equivalent(gold: str, pred: str, timeout: float = TIMEOUT_S) -> bool | None:
    if not gold or not pred or len(gold) > MAX_CHARS or len(pred) > MAX_CHARS:
        return False
    return _WORKER.equivalent(gold, pred, timeout)
