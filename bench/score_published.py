"""Score every published response file with vold's scorer and compare with the official
per-item judgements (issue 3). Prints one table row per file and the targets.

    PYTHONPATH=. python bench/score_published.py [--limit N] [--dump DIR] [--only mathvision]

Columns: n, official accuracy and ours on all items; n_trusted, official and ours on the
trusted items, their difference, per-item agreement; compat (the official scorer re-run
by vold, for MathVision and MMMU-Pro) agreement with the official judgement on all items;
items/s of vold's default scorer (wall clock of score() only; the summary also gives items
per CPU-second, counting the math-verify worker process too, i.e. the one-core rate).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vold_bench.published import AUDIT_CLASSES, classify_disagreement, published_files, read_published, shared_root  # noqa: E402
from vold_bench.scoring import score, scorer_version  # noqa: E402
from vold_bench.scoring.mathcheck import worker_cpu_seconds  # noqa: E402

TARGETS = {"mathvision": (99.5, 0.5), "mmmu_pro": (99.0, 1.0), "mathvista": (98.0, 1.5),
           "logicvista": (98.0, 1.5)}
# lmms-eval 0.7.3 on the same GPT-4o MMMU-Pro files (issue 3): accuracy, official accuracy
LMMS_EVAL = {"gpt-4o_vision_direct.jsonl": "0.3 (official 42.4)",
             "gpt-4o_standard10_cot.jsonl": "50.7 (official 55.0)",
             "gpt-4o_vision_cot.jsonl": "0.0 (official 50.1)"}


def pct(a: int, n: int) -> float:
    return 100.0 * a / n if n else 0.0


def run_file(bench: str, path: Path, limit: int | None, dump: Path | None) -> dict:
    recs = read_published(bench, path)[:limit]
    t0, c0, w0 = time.perf_counter(), time.process_time(), worker_cpu_seconds()
    scores = [score(r.response, r.item, scorer=bench) for r in recs]
    dt = time.perf_counter() - t0
    # CPU seconds of this process plus the math-verify worker: items per second of one core
    cpu = time.process_time() - c0 + max(0.0, worker_cpu_seconds() - w0)
    compat = None
    if bench in ("mathvision", "mmmu_pro"):
        cs = [score(r.response, r.item, scorer=bench, compat=True) for r in recs]
        compat = pct(sum(c.correct == r.official_correct for c, r in zip(cs, recs)), len(recs))
    tr = [(s, r) for s, r in zip(scores, recs) if r.trusted]
    # audit: where the official judgement is wrong, the right answer is the reference
    classes = {}
    right_tr = []
    for s, r in tr:
        truth = r.official_correct
        if s.correct != r.official_correct:
            c = classify_disagreement(bench, r, s)
            classes.setdefault(c, []).append(r.item.id)
            if AUDIT_CLASSES[c][1] == "vold":
                truth = s.correct
        right_tr.append(truth)
    row = {
        "bench": bench, "file": path.name, "n": len(recs),
        "official": pct(sum(r.official_correct for r in recs), len(recs)),
        "ours": pct(sum(s.correct for s in scores), len(recs)),
        "n_trusted": len(tr),
        "official_tr": pct(sum(r.official_correct for _, r in tr), len(tr)),
        "ours_tr": pct(sum(s.correct for s, _ in tr), len(tr)),
        "agree_tr": pct(sum(s.correct == r.official_correct for s, r in tr), len(tr)),
        "right_tr": pct(sum(right_tr), len(tr)),
        "agree_right": pct(sum(s.correct == t for (s, _), t in zip(tr, right_tr)), len(tr)),
        "classes": {c: len(v) for c, v in classes.items()}, "class_ids": classes,
        "compat_agree": compat, "items_s": len(recs) / dt if dt > 0 else float("inf"),
        "items_cpu_s": len(recs) / cpu if cpu > 0 else float("inf"),
        "parse_rate": pct(sum(s.parse_status == "ok" for s in scores), len(recs)),
    }
    row["diff_tr"] = row["ours_tr"] - row["official_tr"]
    row["diff_right"] = row["ours_tr"] - row["right_tr"]
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        with open(dump / f"{bench}__{path.stem}.jsonl", "w", encoding="utf-8") as f:
            for s, r in zip(scores, recs):
                if s.correct != r.official_correct:
                    f.write(json.dumps({
                        "id": r.item.id, "trusted": r.trusted, "official": r.official_correct,
                        "ours": s.correct, "official_extracted": r.official_extracted,
                        "class": classify_disagreement(bench, r, s) if r.trusted else "untrusted",
                        "extracted": s.extracted, "gold": r.item.gold, "rule": s.detail,
                        "options": r.item.options, "response_tail": r.response[-600:]},
                        ensure_ascii=False) + "\n")
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=None, help="first N items of each file")
    ap.add_argument("--only", default=None, help="one benchmark")
    ap.add_argument("--dump", type=Path, default=None, help="write disagreements here")
    args = ap.parse_args()
    rows = []
    print(f"shared data: {shared_root()}")
    hdr = (f"{'bench':<11}{'file':<40}{'n':>5}{'off%':>6}{'ours%':>6}{'n_tr':>5}{'off_tr':>7}"
           f"{'ours_tr':>8}{'diff':>7}{'agree':>7}{'audit_diff':>11}{'audit_agree':>12}{'compat':>7}"
           f"{'items/s':>8}  target (on audited)")
    print(hdr)
    for bench, path in published_files():
        if args.only and bench != args.only:
            continue
        r = run_file(bench, path, args.limit, args.dump)
        rows.append(r)
        t_agree, t_diff = TARGETS[bench]
        ok = r["agree_right"] >= t_agree and abs(r["diff_right"]) <= t_diff
        comp = f"{r['compat_agree']:.1f}" if r["compat_agree"] is not None else "-"
        print(f"{bench:<11}{path.name[:39]:<40}{r['n']:>5}{r['official']:>6.1f}{r['ours']:>6.1f}"
              f"{r['n_trusted']:>5}{r['official_tr']:>7.1f}{r['ours_tr']:>8.1f}{r['diff_tr']:>+7.2f}"
              f"{r['agree_tr']:>7.2f}{r['diff_right']:>+11.2f}{r['agree_right']:>12.2f}{comp:>7}"
              f"{r['items_s']:>8.0f}  {'OK' if ok else 'MISS'} (>={t_agree}%, <={t_diff})"
              + (f"  lmms-eval: {LMMS_EVAL[path.name]}" if path.name in LMMS_EVAL else ""))
    cot = [r for r in rows if r["bench"] == "mathvision" and "CoT" in r["file"]]
    if cot:
        n = sum(r["n"] for r in cot)
        secs = sum(r["n"] / r["items_s"] for r in cot)
        cpu = sum(r["n"] / r["items_cpu_s"] for r in cot)
        print(f"\nMathVision long-CoT files ({len(cot)} files, {n} items): {n / secs:.0f} items/s wall, "
              f"{n / cpu:.0f} items per CPU-second (this process + math-verify worker) "
              f"(target >= 300 on one core; lmms-eval 31)")
    print("\nDisagreement classes on trusted items (verdict: who is right):")
    for bench in dict.fromkeys(r["bench"] for r in rows):
        tot: dict[str, int] = {}
        for r in rows:
            if r["bench"] == bench:
                for c, k in r["classes"].items():
                    tot[c] = tot.get(c, 0) + k
        for c, k in sorted(tot.items(), key=lambda x: -x[1]):
            print(f"  {bench:<11}{c:<24}{k:>5}  {AUDIT_CLASSES[c][1]:<9}{AUDIT_CLASSES[c][0]}")
    n = sum(r["n"] for r in rows)
    secs = sum(r["n"] / r["items_s"] for r in rows)
    print(f"all files: {n} items, {n / secs:.0f} items/s; scorer versions: "
          + ", ".join(sorted({scorer_version(r['bench']) for r in rows})))


if __name__ == "__main__":
    main()
