"""A leaderboard from real published model outputs, re-scored by vold, with significance.

    PYTHONPATH=. python bench/published_leaderboard.py                     # MathVision, all models
    PYTHONPATH=. python bench/published_leaderboard.py --bench all --limit 300

Inputs are the other systems' per-item outputs under <shared>/benchmarks/published/ (see its
README). For each benchmark and model this script
  1. writes the responses as {"id", "response"} JSONL and runs `vold score` on them
     (vold_bench.rescore.score_responses), giving results.json + samples.jsonl per model;
  2. writes the benchmark authors' own judgement of the same items as a second result folder
     (scorer "official"), so both can be compared item by item;
  3. runs `vold compare` over each set (paired bootstrap CI + McNemar vs --baseline) and prints
     how often vold's scorer agrees with the official judgement.
Step 1 needs the harness and scorer; without them the script says so and does steps 2-3 on
the official judgements alone.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.table import Table  # noqa: E402

from vold_bench.compare import make_console, run_compare  # noqa: E402


@dataclass
class Published:
    bench: str          # vold task name
    split: str
    model: str
    data_dir: str       # folder under benchmarks/ holding the items
    judge: str          # how the official judgement was made
    records: list[tuple[str, str, bool]]   # (id, response, official correct)


# The project's readers (vold_bench/published.py) parse each upstream format; this script
# only decides names and splits. Which split each file is, and how its judgement was made:
SPLITS = {"mathvision": "test", "mathvista": "testmini", "logicvista": "test"}
JUDGES = {"mathvision": "MATH-V rule-based evaluator",
          "mathvista": "GPT-4 extraction + normalised match",
          "logicvista": "GPT-4 extraction of the chosen letters",
          "mmmu-pro": "official evaluate.py parser (random letter when none found)"}


def _model_and_split(bench: str, path: Path) -> tuple[str, str]:
    if bench == "mathvista":
        return path.stem.removeprefix("output_"), SPLITS[bench]
    if bench == "logicvista":
        return path.name.removesuffix("-accuracy-results.csv"), SPLITS[bench]
    if bench == "mmmu-pro":                 # gpt-4o_standard10_cot.jsonl, gpt-4o_vision_direct.jsonl
        model, rest = path.stem.split("_", 1)
        return model, "vision" if rest.startswith("vision") else "standard10"
    return path.stem, SPLITS[bench]


def read_sets(benches: list[str], shared: Path) -> list[Published]:
    from vold_bench.published import published_files, read_published

    out = []
    for folder, path in published_files(shared):
        bench = folder.replace("_", "-")
        if bench not in benches:
            continue
        model, split = _model_and_split(bench, path)
        recs = read_published(folder, path, shared)
        out.append(Published(bench, split, model, folder, JUDGES[bench],
                             [(str(p.item.id), p.response or "", bool(p.official_correct)) for p in recs]))
    return out


def official_summary(pub: Path, p: Published) -> tuple[int, int] | None:
    """(correct, total) as the authors' own summary file states it, where one exists."""
    if p.bench == "mathvision":
        f = pub / "mathvision" / f"{p.model}_result.json"
        if f.exists():
            frac = json.loads(f.read_text(encoding="utf-8"))["-all"].split("=")[0]
            a, b = frac.split("/")
            return int(a), int(b)
    if p.bench == "mathvista":
        f = pub / "mathvista" / f"scores_{p.model}.json"
        if f.exists():
            avg = json.loads(f.read_text(encoding="utf-8"))["average"]
            return int(avg["correct"]), int(avg["total"])
    return None


def write_official(p: Published, folder: Path) -> None:
    """The authors' judgement as a vold result folder (same keys as the harness writes)."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(p.records)
    correct = sum(c for _, _, c in p.records)
    res = {"bench": p.bench, "split": p.split, "model": p.model, "backend": "published",
           "prompt_variant": "published", "scorer": "official", "scorer_version": p.judge,
           "n": n, "n_errors": 0, "accuracy": 100.0 * correct / max(n, 1), "parse_rate": None,
           "breakdown": {}, "generation": {}, "dataset": {"source": "published", "revision": None},
           "git_sha": None, "packages": {}, "wall_s": 0.0, "items_per_s": None,
           "gen_tokens_per_s": None, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (folder / "results.json").write_text(json.dumps(res, indent=1), encoding="utf-8")
    with (folder / "samples.jsonl").open("w", encoding="utf-8") as f:
        for i, resp, c in p.records:
            f.write(json.dumps({"id": i, "prompt": None, "response": resp, "extracted": None,
                                "gold": None, "correct": c, "parse_status": "ok",
                                "gen_tokens": None, "meta": {}, "error": None}) + "\n")


def rescore(p: Published, bench_root: Path, out: Path, console) -> Path | None:
    from vold_bench.rescore import score_responses

    resp = out / "responses" / f"{p.bench}-{p.split}" / f"{p.model}.jsonl"
    resp.parent.mkdir(parents=True, exist_ok=True)
    with resp.open("w", encoding="utf-8") as f:
        for i, r, _ in p.records:
            f.write(json.dumps({"id": i, "response": r}) + "\n")
    folder = out / "rescored" / p.model / f"{p.bench}-{p.split}"
    t0 = time.time()
    score_responses(bench=p.bench, responses=resp, split=p.split, data=str(bench_root / p.data_dir),
                    out=folder, compat=False)
    res_path = folder / "results.json"
    res = json.loads(res_path.read_text(encoding="utf-8"))
    if res.get("model") != p.model:
        # score_responses cannot know whose responses these are; name the row after the model
        res["model"] = p.model
        res_path.write_text(json.dumps(res, indent=1), encoding="utf-8")
    console.print(f"scored {p.bench}/{p.split} {p.model}: {res['accuracy']:.1f}% "
                  f"({len(p.records)} items, {time.time() - t0:.0f}s)")
    return folder


def agreement(p: Published, folder: Path) -> tuple[int, int, int, int]:
    """(n, both agree, vold-only correct, official-only correct) over shared ids."""
    vold = {}
    for line in (folder / "samples.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
            vold[str(rec["id"])] = bool(rec.get("correct"))
        except (json.JSONDecodeError, KeyError):
            continue
    off = {i: c for i, _, c in p.records}
    ids = set(vold) & set(off)
    agree = sum(vold[i] == off[i] for i in ids)
    return len(ids), agree, sum(vold[i] and not off[i] for i in ids), sum(off[i] and not vold[i] for i in ids)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default="mathvision", help="mathvision | mathvista | logicvista | mmmu-pro | all")
    ap.add_argument("--models", default="", help="comma-separated subset of model names")
    ap.add_argument("--baseline", default=None, help="row for deltas/significance (default: first model)")
    ap.add_argument("--limit", type=int, default=None, help="first N items per model (quick look)")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "published")
    ap.add_argument("--official-only", action="store_true", help="skip vold score")
    args = ap.parse_args()

    console = make_console()
    shared = Path(os.environ.get("VOLD_SHARED", REPO.parent / "shared"))
    bench_root = shared / "benchmarks"
    pub = bench_root / "published"
    if not pub.is_dir():
        sys.exit(f"no published outputs at {pub} (set VOLD_SHARED)")
    benches = list(JUDGES) if args.bench == "all" else args.bench.split(",")
    unknown = set(benches) - set(JUDGES)
    if unknown:
        sys.exit(f"--bench: unknown {', '.join(sorted(unknown))}; choose from {', '.join(JUDGES)} or all")
    sets = read_sets(benches, shared)
    if args.models:
        keep = set(args.models.split(","))
        sets = [p for p in sets if p.model in keep]
    if args.limit:
        for p in sets:
            p.records = p.records[: args.limit]

    can_score = not args.official_only
    if can_score:
        try:
            import vold_bench.harness  # noqa: F401
            import vold_bench.scoring  # noqa: F401
        except ImportError as e:
            console.print(f"[yellow]vold score is not available here ({e}); "
                          "showing the official judgements only[/]")
            can_score = False

    folders = {}
    for p in sets:
        write_official(p, args.out / "official" / p.model / f"{p.bench}-{p.split}")
        stated = official_summary(pub, p)
        if stated and not args.limit:
            ours = sum(c for _, _, c in p.records)
            ok = "matches" if ours == stated[0] and len(p.records) == stated[1] else "DIFFERS from"
            console.print(f"{p.bench} {p.model}: {ours}/{len(p.records)} officially correct, "
                          f"{ok} the authors' summary {stated[0]}/{stated[1]}")
        if can_score:
            folders[(p.bench, p.split, p.model)] = rescore(p, bench_root, args.out, console)

    baseline = args.baseline or (sets[0].model if sets else None)
    if can_score:
        console.rule("re-scored by vold")
        run_compare([args.out / "rescored"], baseline=baseline, paper=True, out=args.out / "rescored",
                    plot=True, console=console)
        header = ("bench/split", "model", "n", "agree %", "vold-only correct", "official-only correct")
        t = Table(title="vold scorer vs the official judgement (same items)")
        for h in header:
            t.add_column(h, justify="left" if h in ("bench/split", "model") else "right")
        rows = []
        for p in sets:
            n, agree, vo, oo = agreement(p, folders[(p.bench, p.split, p.model)])
            rows.append([f"{p.bench}/{p.split}", p.model, str(n), f"{100 * agree / max(n, 1):.1f}",
                         str(vo), str(oo)])
            t.add_row(*rows[-1])
        console.print(t)
        md = ["# vold scorer vs the official judgement", "",
              "Same items, same responses; official = " + "; ".join(
                  sorted({f"{p.bench}: {p.judge}" for p in sets})) + ".", "",
              "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        md += ["| " + " | ".join(r) + " |" for r in rows]
        (args.out / "agreement.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    console.rule("official judgements")
    run_compare([args.out / "official"], baseline=baseline, paper=False, out=args.out / "official",
                plot=True, console=console)


if __name__ == "__main__":
    main()
