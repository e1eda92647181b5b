"""run_eval plumbing with a scripted backend: resume after a crash, torn
lines, bad records and images, result keys."""
import json
import shutil
import threading
import time

import pytest
from PIL import Image

import vold_bench.harness as H
from vold_bench.errors import VoldError
from vold_bench.metrics import RESULT_KEYS, SAMPLE_KEYS
from vold_bench.schema import GenResult

TIMING = {"wall_s", "items_per_s", "gen_tokens_per_s", "created"}


class Scripted:
    """Deterministic answers (a function of the item id); raises on call number `crash_at`."""

    def __init__(self, crash_at=None):
        self.calls, self.crash_at, self.seen = 0, crash_at, []

    def generate(self, requests, cfg):
        self.calls += 1
        if self.calls == self.crash_at:
            raise KeyboardInterrupt("simulated kill")
        self.seen += [r.id for r in requests]
        return [GenResult(r.id, f"so \\boxed{{{'A' if int(r.id) % 3 else 'B'}}}", 7) for r in requests]


def opts(tmp_path, bench_dir, **kw):
    base = dict(bench="mathvision", split="testmini", data=str(bench_dir / "mathvision"),
                model="scripted", limit=10, batch_size=3, out=tmp_path / "run")
    base.update(kw)
    return H.EvalOptions(**base)


def strip_timing(res):
    return {k: v for k, v in res.items() if k not in TIMING}


def test_kill_and_resume_gives_identical_results(tmp_path, bench_dir, monkeypatch):
    ref_backend = Scripted()
    monkeypatch.setattr(H, "_make_backend", lambda o: ref_backend)
    ref = H.run_eval(opts(tmp_path, bench_dir, out=tmp_path / "ref"))

    crashing = Scripted(crash_at=3)
    monkeypatch.setattr(H, "_make_backend", lambda o: crashing)
    with pytest.raises(KeyboardInterrupt):
        H.run_eval(opts(tmp_path, bench_dir))
    lines = (tmp_path / "run" / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 6          # two batches of 3 were flushed before the kill
    # a kill in the middle of a write leaves half a line behind
    with open(tmp_path / "run" / "samples.jsonl", "a") as f:
        f.write('{"id": "99", "prompt": "half a li')

    resumed = Scripted()
    monkeypatch.setattr(H, "_make_backend", lambda o: resumed)
    res = H.run_eval(opts(tmp_path, bench_dir))
    assert len(resumed.seen) == 4   # only the 4 items not yet done were generated
    assert set(resumed.seen).isdisjoint(crashing.seen)
    assert strip_timing(res) == strip_timing(ref) | {"git_sha": res["git_sha"]}
    got = (tmp_path / "run" / "samples.jsonl").read_text()
    assert got == (tmp_path / "ref" / "samples.jsonl").read_text()
    ids = [json.loads(x)["id"] for x in got.splitlines()]
    assert len(ids) == len(set(ids)) == 10

    # a third run has nothing left to do and changes nothing
    idle = Scripted()
    monkeypatch.setattr(H, "_make_backend", lambda o: idle)
    again = H.run_eval(opts(tmp_path, bench_dir))
    assert idle.calls == 0 and strip_timing(again)["accuracy"] == ref["accuracy"]


def test_results_and_samples_have_every_schema_key(tmp_path, bench_dir, monkeypatch):
    monkeypatch.setattr(H, "_make_backend", lambda o: Scripted())
    res = H.run_eval(opts(tmp_path, bench_dir, limit=4))
    on_disk = json.loads((tmp_path / "run" / "results.json").read_text())
    assert set(RESULT_KEYS) <= set(on_disk) and on_disk == json.loads(json.dumps(res, default=str))
    assert set(on_disk["breakdown"]) == {"subject", "level"}
    assert on_disk["dataset"]["revision"].startswith("sha256:")
    assert on_disk["n"] == 4 and on_disk["generation"]["batch_size"] == 3
    for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines():
        s = json.loads(line)
        assert tuple(s) == SAMPLE_KEYS
        assert s["prompt"].startswith("<image>\n") and s["gen_tokens"] == 7


def test_resume_refuses_a_folder_of_another_run(tmp_path, bench_dir, monkeypatch):
    monkeypatch.setattr(H, "_make_backend", lambda o: Scripted())
    H.run_eval(opts(tmp_path, bench_dir, limit=3))
    with pytest.raises(VoldError, match="different settings.*prompt"):
        H.run_eval(opts(tmp_path, bench_dir, limit=3, prompt="official"))


def test_bad_records_and_images_are_counted_and_the_run_goes_on(tmp_path, bench_dir, monkeypatch):
    data = tmp_path / "mv"
    (data / "images").mkdir(parents=True)
    src = (bench_dir / "mathvision" / "testmini.jsonl").read_text().splitlines()[:6]
    recs = [json.loads(x) for x in src]
    for r in recs:
        shutil.copy(bench_dir / "mathvision" / r["image"], data / r["image"])
    (data / recs[1]["image"]).unlink()                       # missing image
    (data / recs[2]["image"]).write_bytes(b"not a jpeg")      # corrupt image
    del recs[3]["answer"]                                     # record without its answer
    lines = [json.dumps(r) for r in recs]
    lines.insert(4, '{"id": "broken", ')                      # a line that is not JSON
    (data / "testmini.jsonl").write_text("\n".join(lines) + "\n")

    monkeypatch.setattr(H, "_make_backend", lambda o: Scripted())
    res = H.run_eval(opts(tmp_path, bench_dir, data=str(data), limit=None))
    samples = [json.loads(x) for x in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert res["n"] == 7 and res["n_errors"] == 4
    errors = {s["id"]: s["error"] for s in samples if s["parse_status"] == "error"}
    assert "image not found" in errors[recs[1]["id"]] and recs[1]["image"] in errors[recs[1]["id"]]
    assert "corrupt" in errors[recs[2]["id"]]
    assert any("missing key 'answer'" in e and "line 4" in e for e in errors.values())
    assert any("line 5" in e and "not valid JSON" in e for e in errors.values())
    assert sum(s["parse_status"] == "ok" for s in samples) == 3


def test_missing_folder_and_unknown_split_are_clear_errors(tmp_path, bench_dir, monkeypatch):
    monkeypatch.setattr(H, "_make_backend", lambda o: Scripted())
    with pytest.raises(VoldError, match="no-such-dir: no such folder"):
        H.run_eval(opts(tmp_path, bench_dir, data="./no-such-dir"))
    with pytest.raises(VoldError, match="testmini.jsonl: not found"):
        H.run_eval(opts(tmp_path, bench_dir, data=str(tmp_path)))
    with pytest.raises(VoldError, match="unknown split 'val'"):
        H.run_eval(opts(tmp_path, bench_dir, split="val"))


def test_hub_loading_uses_the_pinned_revision(monkeypatch):
    import datasets

    from vold_bench.data import load_items
    calls = []

    class FakeDS(list):
        def select(self, idx):
            return FakeDS(self[i] for i in idx)

    img = Image.new("RGB", (28, 28))

    def fake_load(path, name=None, split=None, revision=None):
        calls.append((path, name, split, revision))
        return FakeDS([{"id": str(i), "question": "q", "options": [], "answer": "3",
                        "decoded_image": img, "image": f"images/{i}.jpg", "level": 1,
                        "subject": "algebra"} for i in range(5)])
    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    items = load_items("mathvision", "testmini", limit=2)
    assert calls == [("MathLLMs/MathVision", None, "testmini", "main")]
    assert len(items) == 2 and items[0].images[0] is img

    def offline(*a, **k):
        raise ConnectionError("hub unreachable")
    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(VoldError, match="could not load MMMU/MMMU_Pro.*standard \\(10 options\\).*--data"):
        load_items("mmmu-pro", "standard10")


def _mmmu_folder(tmp_path):
    """Local MMMU-Pro folders take images/vision/<id>.png and images/standard10/<id>_<k>.png."""
    data = tmp_path / "mmmu"
    for name in ("standard10", "vision"):
        (data / "images" / name).mkdir(parents=True)
    opts10 = str([f"option {k}" for k in range(10)])
    for name in ("standard10", "vision"):
        rows = [{"id": f"{i}", "question": "<image 1> What is shown?", "options": opts10,
                 "answer": "B", "subject": "Art" if i < 2 else "Math", "topic_difficulty": "Easy"}
                for i in range(1, 5)]
        (data / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for i in range(1, 5):
        Image.new("RGB", (56, 56)).save(data / "images" / "standard10" / f"{i}_1.png")
        Image.new("RGB", (56, 56)).save(data / "images" / "vision" / f"{i}.png")
    Image.new("RGB", (56, 56)).save(data / "images" / "standard10" / "1_2.png")   # item 1 has two
    return data


def test_mmmu_pro_overall_is_the_mean_of_its_settings(tmp_path, monkeypatch):
    data = _mmmu_folder(tmp_path)

    class ByPrompt(Scripted):
        def generate(self, requests, cfg):   # right on every standard10 item, on half the vision
            text = requests[0].messages[0]["content"][-1]["text"]
            self.seen.append((len(requests[0].images), "A. option 0" in text))
            return [GenResult(r.id, "\\boxed{B}" if "A. option 0" in text or int(r.id) % 2 else "\\boxed{C}", 3)
                    for r in requests]
    backend = ByPrompt()
    monkeypatch.setattr(H, "_make_backend", lambda o: backend)
    res = H.run_eval(H.EvalOptions(bench="mmmu-pro", data=str(data), model="m", batch_size=1,
                                   out=tmp_path / "o"))
    assert res["split"] == "overall" and res["n"] == 8
    assert res["breakdown"]["split"]["standard10"]["accuracy"] == 100.0
    assert res["breakdown"]["split"]["vision"]["accuracy"] == 50.0
    assert res["accuracy"] == 75.0
    assert (2, True) in backend.seen                 # item 1 of standard10 got both images
    assert backend.seen[4:] == [(1, False)] * 4     # one screenshot, options hidden from the prompt
    for part in ("standard10", "vision"):
        assert json.loads((tmp_path / "o" / part / "results.json").read_text())["n"] == 4
    merged = [json.loads(x)["id"] for x in (tmp_path / "o" / "samples.jsonl").read_text().splitlines()]
    assert merged == [f"{p}/{i}" for p in ("standard10", "vision") for i in range(1, 5)]


def test_judge_verdicts_are_reported_apart_and_a_dead_judge_stops_the_run(tmp_path, bench_dir, monkeypatch):
    from vold_bench.schema import Score

    class Mumbling(Scripted):   # odd ids answer in prose the rules cannot read
        def generate(self, requests, cfg):
            return [GenResult(r.id, "\\boxed{A}" if int(r.id) % 2 == 0 else "", 2) for r in requests]

    class FakeJudge:
        model = "fake-judge"

        def __init__(self, die_after=None):
            self.calls, self.die_after = 0, die_after

        def judge(self, item, response, score):
            if score.parse_status != "empty":
                return None
            self.calls += 1
            if self.die_after is not None and self.calls > self.die_after:
                raise VoldError("LLM judge unavailable, run stopped")
            return Score(item.gold, item.gold, True, "ok", "judge:fake")

    monkeypatch.setattr(H, "_make_backend", lambda o: Mumbling())
    monkeypatch.setattr(H, "_make_judge", lambda o, t, out: FakeJudge())
    res = H.run_eval(opts(tmp_path, bench_dir, judge="http://judge", judge_model="fake-judge"))
    n_odd = res["judge"]["n_consulted"]
    assert n_odd == sum(1 for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()
                        if int(json.loads(line)["id"]) % 2)
    assert res["judge"]["n_flipped_to_correct"] == n_odd
    # the rule accuracy ignores the judge; the judged one is reported beside it
    assert res["judge"]["accuracy_with_judge"] > res["accuracy"]

    monkeypatch.setattr(H, "_make_judge", lambda o, t, out: FakeJudge(die_after=1))
    with pytest.raises(VoldError, match="judge unavailable"):
        H.run_eval(opts(tmp_path, bench_dir, judge="http://judge", judge_model="fake-judge",
                        out=tmp_path / "dead"))
    kept = (tmp_path / "dead" / "samples.jsonl").read_text().splitlines()
    # the first batch (one judged item) was flushed; the batch whose judge call failed was not
    assert len(kept) == 3
    assert all("judge" in json.loads(x)["meta"] for x in kept if json.loads(x)["parse_status"] == "empty")
    assert not (tmp_path / "dead" / "results.json").exists()   # no numbers from a half-judged run


def test_hub_results_record_the_resolved_commit(monkeypatch):
    """A task can only say revision "main" offline; the result still names the exact commit."""
    from types import SimpleNamespace

    import huggingface_hub

    from vold_bench import harness
    from vold_bench.tasks import get_task

    class FakeApi:
        def dataset_info(self, repo_id, revision=None, timeout=None):
            return SimpleNamespace(sha="ab" * 20 if revision == "main" else None)

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    info = harness._dataset_info(get_task("mathvision"), "testmini", None)
    assert info["source"] == "hf:MathLLMs/MathVision"
    assert info["resolved_sha"] == "ab" * 20

    class DownApi:
        def dataset_info(self, *a, **k):
            raise OSError("offline")

    monkeypatch.setattr(huggingface_hub, "HfApi", DownApi)
    assert harness._dataset_info(get_task("mathvision"), "testmini", None)["resolved_sha"] is None


def test_json_object_names_where_and_refuses_non_objects():
    from vold_bench.errors import json_object

    assert json_object('{"a": 1}', "x") == {"a": 1}
    with pytest.raises(VoldError, match=r"^--extra-body: not valid JSON \(Expecting value at char 0\)$"):
        json_object("nope", "--extra-body")
    with pytest.raises(VoldError, match=r"^f line 3: expected a JSON object, got list$"):
        json_object("[1]", "f line 3")


class Slow(Scripted):
    def generate(self, requests, cfg):
        time.sleep(0.2)  # long enough that a second run starts while this one writes
        return super().generate(requests, cfg)


def test_two_runs_into_one_folder_take_turns(tmp_path, bench_dir, monkeypatch, capfd):
    made = []
    monkeypatch.setattr(H, "_make_backend", lambda o: made.append(Slow()) or made[-1])
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", H.run_eval(opts(tmp_path, bench_dir))))
    first.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "run" / "samples.jsonl").exists():  # then the first run holds the folder
        assert time.monotonic() < deadline, "the first run never started writing"
        time.sleep(0.005)
    results["second"] = H.run_eval(opts(tmp_path, bench_dir))  # waits, then resumes from its answers
    first.join()
    assert "waiting: another process is writing" in capfd.readouterr().err
    assert sorted(i for b in made for i in b.seen) == sorted({i for b in made for i in b.seen})  # none twice
    assert len([i for b in made for i in b.seen]) == 10
    lines = (tmp_path / "run" / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 10 and len({json.loads(ln)["id"] for ln in lines}) == 10
    assert strip_timing(results["first"]) == strip_timing(results["second"])


def test_a_composite_writes_its_own_files_only_while_it_holds_its_folder(tmp_path, monkeypatch):
    from vold_bench.metrics import one_writer

    data, out = _mmmu_folder(tmp_path), tmp_path / "o"
    monkeypatch.setattr(H, "_make_backend", lambda o: Scripted())
    out.mkdir()
    with one_writer(out):  # another writer holds the composite's folder
        run = threading.Thread(target=H.run_eval, args=(H.EvalOptions(bench="mmmu-pro", data=str(data), model="m",
                                                                      batch_size=4, out=out),))
        run.start()
        deadline = time.monotonic() + 60
        while not (out / "vision" / "results.json").exists():  # both parts finish in their own folders
            assert time.monotonic() < deadline, "the parts never finished"
            time.sleep(0.005)
        time.sleep(0.3)
        assert not (out / "results.json").exists() and run.is_alive()
    run.join(timeout=60)
    assert json.loads((out / "results.json").read_text())["n"] == 8
