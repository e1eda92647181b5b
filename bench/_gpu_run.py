"""One child process under a time limit, its peak memory sampled from outside (bench/gpu_check.py).

Sampled every 0.5 s: the device's used memory from nvidia-smi on a GPU (it sees vLLM's engine
processes too, which torch's counters inside the trainer would not), the child's process-tree
RSS on CPU. The child gets its own process group, so a timeout ends vLLM's workers with it.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

GB = 1024 ** 3


def _tree_rss_gb(pid: int) -> float:
    """RSS of `pid` and all its descendants (Linux /proc), in GB."""
    kids, rss = {}, {}
    page = os.sysconf("SC_PAGE_SIZE")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        kids.setdefault(int(rest[1]), []).append(int(d))
        rss[int(d)] = int(rest[21]) * page
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += kids.get(p, [])
    return total / GB


def _gpu_used_gb() -> float | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits",
                              "-i", "0"], capture_output=True, text=True, timeout=10).stdout
        return float(out.split()[0]) / 1024
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


class MemSampler(threading.Thread):
    def __init__(self, pid: int, gpu: bool):
        super().__init__(daemon=True)
        self.pid, self.gpu, self.peak, self.stop = pid, gpu, 0.0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            v = _gpu_used_gb() if self.gpu else _tree_rss_gb(self.pid)
            self.peak = max(self.peak, v or 0.0)
            self.stop.wait(0.5)


def run_child(cmd: list[str], cwd: Path, timeout: float, log: Path, env: dict, gpu: bool) -> dict:
    """Run `cmd` in its own process group; kill the group at `timeout`. Output goes to `log`."""
    t0 = time.perf_counter()
    with open(log, "w") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)
        mem = MemSampler(proc.pid, gpu)
        mem.start()
        try:
            rc, timed_out = proc.wait(timeout=max(timeout, 1)), False
        except subprocess.TimeoutExpired:
            timed_out = True
            for sig in (signal.SIGTERM, signal.SIGKILL):  # vLLM engine processes are in the group too
                try:
                    os.killpg(proc.pid, sig)
                    rc = proc.wait(timeout=15)
                    break
                except subprocess.TimeoutExpired:
                    continue
                except ProcessLookupError:
                    break
            rc = proc.poll()
        mem.stop.set()
        mem.join()
    tail = log.read_text(errors="replace").strip().splitlines()[-15:]
    res = {"rc": rc, "wall_s": round(time.perf_counter() - t0, 2), "peak_mem_gb": round(mem.peak, 3),
           "mem_source": "nvidia-smi (device used)" if gpu else "process-tree RSS (CPU)"}
    if timed_out:
        res.update(status="timeout", error=f"killed after {timeout:.0f} s (step limit)")
    elif rc != 0:
        err = [ln for ln in tail if "error" in ln.lower()] or tail
        res.update(status="error", error=(err[-1] if err else f"exit {rc}")[:400])
    else:
        res["status"] = "ok"
    return res
