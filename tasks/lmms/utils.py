"""lmms-eval hooks for the vold_* tasks in this folder (`!function utils.<name>` in the YAMLs).

lmms-eval's per-document hooks receive only the document, so each (benchmark, split) gets its
own named functions, made in vold_bench/lmms_bridge.py: they convert the hub row with our
records.py, render our prompt and grade with vold_bench.scoring.
"""
import sys
from pathlib import Path

try:
    import vold_bench  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from vold_bench.lmms_bridge import all_hooks

globals().update(all_hooks())
