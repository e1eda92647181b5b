"""Train the two toy models from scratch on CPU: `vold toy build`.

toy-teacher (Qwen3ForCausalLM) learns the whole text-form world with step-by-step traces.
toy-student (Qwen2_5_VLForConditionalGeneration) learns perception and answers in a style of
its own: writing down the numbers a picture shows, and problems of every level (image or
text) answered by stating the quantities, one step and that step's result. It never sees a
multi-step solution, so multi-step reasoning is left for the cold start and VOLD to teach.

Both are plain next-token training on chat-formatted sequences, loss on the assistant turn
only, AdamW with warmup + cosine; saved with save_pretrained beside the shared tokenizer.
"""
from __future__ import annotations

import json
import math
import random
import shutil
import time
import typing
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import torch

from vold_bench.prompts import IMAGE_MARK, chat_prompt
from vold_bench.toy import world
from vold_train.toy import TOY_NAMES, models_dir
from vold_train.toy import models as tm


@dataclass
class BuildConfig:
    seed: int = 0
    teacher_hidden: int = 128        # 2 heads of 64 (a head size vLLM's CPU attention runs)
    teacher_layers: int = 4
    teacher_steps: int = 900
    teacher_batch: int = 32
    teacher_lr: float = 3e-3
    # a second, gentler cosine cycle (warm restart): the arithmetic facts settle in it
    teacher_refine_steps: int = 300
    teacher_refine_cycles: int = 1
    teacher_refine_lr: float = 1e-3
    student_hidden: int = 128
    student_layers: int = 3
    student_steps: int = 1800
    student_batch: int = 24
    student_lr: float = 3e-3
    # as the teacher's: a gentler second cosine cycle in which the reading of every card and
    # side settles (after the first cycle some positions were still guessed from priors)
    student_refine_steps: int = 500
    student_refine_cycles: int = 2
    student_refine_lr: float = 1e-3
    # lr multiplier for the vision encoder below the merger (patch embed + blocks); 0 freezes
    # them at their random init (random conv features of clean rendered digits are enough,
    # the merger and LM learn to read them; at the LM's lr the encoder output collapsed).
    student_vision_lr_mult: float = 0.0
    # weight of the alignment loss (_align_loss): the visual token showing a number is pulled
    # to that number's text embedding, so reading a picture and copying a number from the text
    # become one skill, which text-only training then exercises instead of overwriting
    student_align: float = 1.0
    # share of the image problems in which each quantity is shown as its picture or as text, at
    # random (_mix_forms). A diagnostic: 0 in the shipped build (docs/toy-world.md)
    student_mixed: float = 0.0
    # weight of the form-consistency loss (_consistency_loss). With it, every problem of the
    # student's pretraining is shown in both forms side by side, and the image form's hidden
    # states are pulled, layer by layer, onto the text form's at the tokens the two share (the
    # picture's token onto its number's): one computation for both forms, as a VLM's language
    # model reads an image through the representation its text training built
    student_consistency: float = 0.0
    # share of the own-style problems replaced by arithmetic drills (_drills): step lines every level needs
    # ("14 - 1 = 13."). 0.25 since stop 18: without drills the student only computes a first step, and its
    # teacher's chains are arithmetic it never learnt (docs/toy-world.md, "What the teacher's signal is made of")
    student_drills: float = 0.25
    # "facts": each drill line on its own; "chains": the step lines of one L2/L3 solution, each starting
    # from the one before; "mixed": a share student_drill_chains of "chains" (shipped since stop 27)
    student_drill_style: Literal["facts", "chains", "mixed"] = "mixed"
    student_drill_chains: float = 0.5
    warmup: int = 50
    eval_n: int = 300                # test problems per check (the whole test split)
    threads: int = 1             # 1 measured faster than 2 on 2 busy cores


def build_config(overrides: list[str]) -> BuildConfig:
    """BuildConfig with `key=value` overrides (`vold toy build --set`): a candidate world is one
    command, e.g. `student_drill_style=chains student_drills=0.1`. Values are read and checked as
    `vold train --set` reads a recipe's (config._coerce, config.check_choices); an unknown key, a
    value of the wrong type or a choice outside a Literal fails with one line naming the key."""
    import yaml

    from vold_bench.errors import VoldError
    from vold_train.config import _coerce, check_choices

    hints, kw = typing.get_type_hints(BuildConfig), {}
    where = "toy build --set"
    for ov in overrides:
        key, sep, raw = (x.strip() for x in ov.partition("="))
        if not sep or key not in hints:
            raise VoldError(f"{where} {ov!r}: expected key=value with a key of BuildConfig ({', '.join(hints)})")
        kw[key] = _coerce(yaml.safe_load(raw), hints[key], key, where)
    cfg = BuildConfig(**kw)
    if errs := check_choices(cfg, "BuildConfig"):
        raise VoldError(f"{where}: {errs[0]}")
    if not 0 <= cfg.student_drill_chains <= 1:  # here, before any model trains (_drills checks it again)
        raise VoldError(f"{where} student_drill_chains: between 0 and 1, got {cfg.student_drill_chains}")
    return cfg


def _lr_lambda(warmup: int, total: int):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))
    return f


def _collate(tokenizer, prompts: list[str], responses: list[str]):
    """Right-padded input_ids / labels; labels are -100 on the prompt and the padding."""
    ids, labels = [], []
    for p, r in zip(prompts, responses):
        pi = tokenizer.encode(p, add_special_tokens=False)
        ri = tokenizer.encode(r + "<|im_end|>", add_special_tokens=False)
        ids.append(pi + ri)
        labels.append([-100] * len(pi) + ri)
    width = max(map(len, ids))
    pad = tokenizer.pad_token_id
    attn = [[1] * len(x) + [0] * (width - len(x)) for x in ids]
    ids = [x + [pad] * (width - len(x)) for x in ids]
    labels = [x + [-100] * (width - len(x)) for x in labels]
    return torch.tensor(ids), torch.tensor(attn), torch.tensor(labels)


def _teacher_batch(tokenizer, rng, n: int, seed: int):
    ps = world.problems("train", n=n, seed=seed)
    prompts = [chat_prompt(tokenizer, p.text_question()) for p in ps]
    return _collate(tokenizer, prompts, [world.trace(p, "teacher") for p in ps])


def _uniform_values(p: world.Problem, rng: random.Random) -> world.Problem:
    """The same picture layout with every quantity drawn uniformly (cards 1..9, sides 2..9).
    Problems' own values are skewed (a card after "*" is 2 or 3, results stay small), and a
    student that transcribes them learns that prior and guesses the last card instead of
    reading it; uniform values leave it nothing to guess from."""
    lo = 1 if p.skill == "cards" else 2
    return replace(p, values={k: rng.randint(lo, 9) for k in p.values})


def transcriptions(seed: int, n: int) -> list[tuple]:
    """The perception part of the student's pretraining: pictures of problems of any level,
    redrawn with uniform quantities, answered by writing down the numbers ("A = 7, B = 3.")."""
    rng = random.Random(f"perception:{seed}")
    return [(p.transcribe_question(), p.transcription(), p.pictures(), p)
            for p in (_uniform_values(q, rng) for q in world.problems("train", n=n, seed=seed))]


DRILL_QUESTION = "Work out each line."


def _drills(seed: int, n: int, lines: int = 4, style: str = "facts", chains: float = 0.5) -> list[tuple]:
    """Arithmetic drills. "facts": `lines` steps of random problems of every level, one per
    line, each computed from its own operands (no line starts from the one before): the facts
    a solution of any level uses, known the way a pretrained model knows arithmetic, without
    the habit of chaining them. "chains": the step lines of one L2 or L3 solution, each line
    starting from the previous result, with no question to plan them from. "mixed": the first
    int(n * chains) "chains", the rest "facts" (drawn with the next seed)."""
    if style == "mixed":
        if not 0 <= chains <= 1:
            raise ValueError(f"student_drill_chains must be between 0 and 1, got {chains}")
        k = int(n * chains + 1e-9)
        return _drills(seed, k, lines, "chains") + _drills(seed + 1, n - k, lines, "facts")
    if style == "chains":
        chains_ = [p.steps for p in world.problems("train", n=n, seed=seed + 9_000_000, levels=(2, 3))]
    elif style == "facts":
        rng = random.Random(f"drills:{seed}")
        probs = world.problems("train", n=n * lines, seed=seed + 9_000_000)
        chains_ = [[rng.choice(p.steps) for p in probs[i * lines:(i + 1) * lines]] for i in range(n)]
    else:
        raise ValueError(f"student_drill_style must be 'facts', 'chains' or 'mixed', got {style!r}")
    return [(DRILL_QUESTION, "\n".join(f"{a} {op} {b} = {c}." for a, op, b, c in facts), [])
            for facts in chains_]


def _student_examples(seed: int, n: int, mixed: float = 0.0, paired: bool = False,
                      drills: float = 0.0, drill_style: str = "facts", chains: float = 0.5) -> list[tuple]:
    """(question, response, pictures[, problem shown]): half transcriptions of pictures of any level
    (uniform quantities), the rest problems of every level in the student's own style
    (`world.trace(p, "student")`: state the quantities, one step, answer), 3 in 4 in image
    form. Problems of every level and both forms make reading part of answering any question,
    not a skill tied to one prompt (toy-v2 showed only L1 image problems: its student read 93%
    of pictures when asked to transcribe but 0-4% inside L2/L3 problems).

    paired: each problem in both forms instead, the image form directly followed by the text
    form (which carries the problem too, with no pictures), for `_consistency_pairs`."""
    half = n // 2
    out = transcriptions(seed, half)
    if paired:
        for q in world.problems("train", n=(n - half) // 2, seed=seed + 7_000_000):
            out.append((q.image_question(), world.trace(q, "student"), q.pictures(), q))
            out.append((q.text_question(), world.trace(q, "student"), [], q))
        return out
    n_drill = round((n - half) * drills)
    out += _drills(seed, n_drill, style=drill_style, chains=chains)
    for i, q in enumerate(world.problems("train", n=n - half - n_drill, seed=seed + 7_000_000)):
        if i % 4:
            out.append((q.image_question(), world.trace(q, "student"), q.pictures(), q))
        else:
            out.append((q.text_question(), world.trace(q, "student"), []))
    return _mix_forms(out, seed, mixed) if mixed > 0 else out


def _mix_forms(examples: list[tuple], seed: int, share: float) -> list[tuple]:
    """In `share` of the image problems (not the transcriptions), each quantity is shown as its
    picture or written as text in its place, half and half: "A = 8, B =<image>."."""
    rng, out = random.Random(f"mixed:{seed}"), []
    for ex in examples:
        if len(ex) > 3 and ex[2] and not ex[0].endswith(world.TRANSCRIBE_TAIL) and rng.random() < share:
            p, parts = ex[3], ex[0].split(IMAGE_MARK)
            text, pics, shown = parts[0], [], {}
            for (k, v), pic, rest in zip(p.values.items(), ex[2], parts[1:]):
                if rng.random() < 0.5:
                    text += f" {v}{rest}"
                else:
                    text += IMAGE_MARK + rest
                    pics.append(pic)
                    shown[k] = v
            ex = (text, ex[1], pics, replace(p, values=shown))  # alignment: the pictured ones
        out.append(ex)
    return out


def _align_targets(tok, examples, grid_thw) -> tuple[torch.Tensor, torch.Tensor]:
    """(index into the merger's output rows, token id) for every picture of every example
    that carries its problem: the picture's visual token (one per picture) and the text token
    of its number as the text form writes it (" 8" in "A = 8")."""
    rows, ids, offset, k = [], [], 0, 0
    for ex in examples:
        shown = list(ex[3].values.values()) if len(ex) > 3 and ex[3] is not None and ex[2] else [None] * len(ex[2])
        for v in shown:
            if v is not None:
                rows.append(offset)
                ids.append(tok.convert_tokens_to_ids(tok.tokenize(f" {v}"))[0])
            offset += int(grid_thw[k].prod()) // 4  # 2x2 patches merge into one token
            k += 1
    return torch.tensor(rows, dtype=torch.long), torch.tensor(ids, dtype=torch.long)


def _consistency_pairs(tok, ids: list[list[int]], examples) -> tuple[torch.Tensor, ...] | None:
    """(image row, image position, text row, text position) of every token the two forms of a
    paired problem share, from the image form's first picture on: the picture's token and the
    number's text token, then every later token one for one (prompt tail and answer). The
    toy template puts no marks around a picture, so the two forms align position for position.
    None when the batch holds no pair."""
    pad = tok.convert_tokens_to_ids("<|image_pad|>")
    out: list[tuple[int, int, int, int]] = []
    for r, (a, b) in enumerate(zip(examples, examples[1:])):
        if not (a[2] and not b[2] and len(a) > 3 and len(b) > 3 and a[3] is b[3]):
            continue
        img, txt, seen = ids[r], ids[r + 1], False
        if len(img) != len(txt):
            raise ValueError(f"example {r}: the image and text forms differ beyond the pictures "
                             f"({len(img)} vs {len(txt)} tokens)")
        for i, (x, y) in enumerate(zip(img, txt)):
            if x == pad:
                seen = True
            elif x != y:
                raise ValueError(f"example {r}: the image and text forms differ beyond the pictures")
            if seen:
                out.append((r, i, r + 1, i))
    return tuple(torch.tensor(c, dtype=torch.long) for c in zip(*out)) if out else None


def _consistency_loss(hidden: tuple[torch.Tensor, ...], pairs) -> torch.Tensor:
    """Mean over the decoder layers of the squared distance, relative to the text form's size,
    between the image form's hidden states and the text form's (detached) at the same tokens."""
    ri, pi, rt, pt = pairs
    losses = []
    for h in hidden[1:]:
        target = h[rt, pt].detach()
        losses.append(((h[ri, pi] - target) ** 2).mean() / (target ** 2).mean().clamp(min=1e-8))
    return torch.stack(losses).mean()


def _student_batch(processor, examples, align: bool = False, pairs: bool = False):
    """Right-padded training batch; examples are (question, response, pictures[, problem]).
    With align, also the alignment targets of `_align_targets`; with pairs, the token pairs of
    `_consistency_pairs` (both popped by `_train`)."""
    tok = processor.tokenizer
    prompts = [chat_prompt(tok, ex[0], len(ex[2]), inline=True) for ex in examples]  # pictures in place
    images = [im for ex in examples for im in ex[2]]
    # the processor expands each <|image_pad|> to the image's visual tokens; then we add labels
    enc = processor(text=prompts, images=images or None, return_tensors="pt", padding=True,
                    padding_side="right")
    ids, labels, mm = [], [], []
    for row, mask, types, ex in zip(enc["input_ids"].tolist(), enc["attention_mask"].tolist(),
                                    enc["mm_token_type_ids"].tolist(), examples):
        resp = ex[1]
        plen = sum(mask)
        ri = tok.encode(resp + "<|im_end|>", add_special_tokens=False)
        ids.append(row[:plen] + ri)
        labels.append([-100] * plen + ri)
        mm.append(types[:plen] + [0] * len(ri))
    width = max(map(len, ids))
    pair_index = _consistency_pairs(tok, ids, examples) if pairs else None
    batch = {
        "input_ids": torch.tensor([x + [tok.pad_token_id] * (width - len(x)) for x in ids]),
        "attention_mask": torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids]),
        "labels": torch.tensor([x + [-100] * (width - len(x)) for x in labels]),
        # marks the image tokens; without it Qwen2.5-VL gives them 1-D text positions instead of
        # the (t, h, w) mRoPE positions that generation uses, and perception does not transfer
        "mm_token_type_ids": torch.tensor([x + [0] * (width - len(x)) for x in mm]),
    }
    if images:
        batch["pixel_values"], batch["image_grid_thw"] = enc["pixel_values"], enc["image_grid_thw"]
        if align:
            batch["align"] = _align_targets(tok, examples, enc["image_grid_thw"])
    if pair_index is not None:
        batch["pairs"] = pair_index
    return batch


def _align_loss(merged: torch.Tensor, embed: torch.nn.Embedding, align) -> torch.Tensor:
    """Mean squared distance, relative to the targets' size, between the visual tokens that
    show a number and that number's (detached) text embedding."""
    rows, ids = align
    target = embed.weight[ids].detach()  # (n, H)
    return ((merged[rows] - target) ** 2).mean() / (target ** 2).mean().clamp(min=1e-8)


def _train(model, batches, steps: int, lr: float, warmup: int, label: str, log: list,
           groups: list[dict] | None = None, align_weight: float = 0.0,
           consistency_weight: float = 0.0) -> None:
    opt = torch.optim.AdamW(groups or model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(warmup, steps))
    model.train()
    merged, hook = {}, None
    if align_weight > 0:  # the merger's output rows: the visual tokens the language model reads
        hook = model.model.visual.merger.register_forward_hook(lambda m, i, o: merged.__setitem__("out", o))
    t0 = time.time()
    for step in range(steps):
        batch = batches(step)
        align, pairs = batch.pop("align", None), batch.pop("pairs", None)
        use_pairs = consistency_weight > 0 and pairs is not None
        out = model(**batch, output_hidden_states=use_pairs)
        loss = out.loss
        if use_pairs:
            loss = loss + consistency_weight * _consistency_loss(out.hidden_states, pairs)
        if align_weight > 0 and align is not None and len(align[0]):
            loss = loss + align_weight * _align_loss(merged["out"], model.get_input_embeddings(), align)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if step % 50 == 0 or step == steps - 1:
            log.append({"model": label, "step": step, "loss": round(loss.item(), 4),
                        "elapsed_s": round(time.time() - t0, 1)})
            print(f"[toy build] {label} step {step}/{steps} loss {loss.item():.4f} "
                  f"({time.time() - t0:.0f}s)", flush=True)
    if hook is not None:  # refine cycles call _train again on the same model: one hook at a time
        hook.remove()
    model.eval()


def train_teacher(tokenizer, cfg: BuildConfig, log: list):
    from transformers import Qwen3ForCausalLM

    torch.manual_seed(cfg.seed)
    model = Qwen3ForCausalLM(tm.tiny_teacher_config(
        tokenizer, hidden=cfg.teacher_hidden, layers=cfg.teacher_layers, heads=cfg.teacher_hidden // 64))

    def batches(step):
        ids, attn, labels = _teacher_batch(tokenizer, None, cfg.teacher_batch, seed=1_000 + step)
        return {"input_ids": ids, "attention_mask": attn, "labels": labels}

    _train(model, batches, cfg.teacher_steps, cfg.teacher_lr, cfg.warmup, "teacher", log)
    return refine_teacher(model, tokenizer, cfg, log)


def refine_teacher(model, tokenizer, cfg: BuildConfig, log: list, cycles=None):
    for c in range(cfg.teacher_refine_cycles) if cycles is None else cycles:
        def batches(step, c=c):  # fresh problems: seeds continue after the previous cycle's
            seed = 1_000 + cfg.teacher_steps + c * cfg.teacher_refine_steps + step
            ids, attn, labels = _teacher_batch(tokenizer, None, cfg.teacher_batch, seed=seed)
            return {"input_ids": ids, "attention_mask": attn, "labels": labels}

        _train(model, batches, cfg.teacher_refine_steps, cfg.teacher_refine_lr, cfg.warmup,
               f"teacher-refine{c + 1}", log)
    return model


def train_student(processor, cfg: BuildConfig, log: list):
    from transformers import Qwen2_5_VLForConditionalGeneration

    torch.manual_seed(cfg.seed + 1)
    model = Qwen2_5_VLForConditionalGeneration(tm.tiny_student_config(
        processor.tokenizer, hidden=cfg.student_hidden, layers=cfg.student_layers, heads=cfg.student_hidden // 64))

    def batches(step):
        return _student_pretrain_batch(processor, cfg, 2_000_000 + step)

    _train(model, batches, cfg.student_steps, cfg.student_lr, cfg.warmup, "student", log,
           _student_groups(model, cfg, cfg.student_lr), cfg.student_align, cfg.student_consistency)
    return refine_student(model, processor, cfg, log)


def _student_pretrain_batch(processor, cfg: BuildConfig, seed: int) -> dict:
    paired = cfg.student_consistency > 0
    exs = _student_examples(seed, cfg.student_batch, cfg.student_mixed, paired, cfg.student_drills,
                            cfg.student_drill_style, cfg.student_drill_chains)
    return _student_batch(processor, exs, align=cfg.student_align > 0, pairs=paired)


def _student_groups(model, cfg: BuildConfig, lr: float) -> list[dict]:
    encoder = [p for n, p in model.model.visual.named_parameters() if not n.startswith("merger")]
    ids = {id(p) for p in encoder}
    groups = [{"params": [p for p in model.parameters() if id(p) not in ids], "lr": lr}]
    if cfg.student_vision_lr_mult > 0:
        groups.append({"params": encoder, "lr": lr * cfg.student_vision_lr_mult})
    else:
        for p in encoder:
            p.requires_grad_(False)
    return groups


def refine_student(model, processor, cfg: BuildConfig, log: list, cycles=None):
    for c in range(cfg.student_refine_cycles) if cycles is None else cycles:
        def batches(step, c=c):  # fresh examples: seeds continue after the previous cycle's
            seed = 2_000_000 + cfg.student_steps + c * cfg.student_refine_steps + step
            return _student_pretrain_batch(processor, cfg, seed)

        _train(model, batches, cfg.student_refine_steps, cfg.student_refine_lr, cfg.warmup,
               f"student-refine{c + 1}", log, _student_groups(model, cfg, cfg.student_refine_lr),
               cfg.student_align, cfg.student_consistency)
    return model


def _build_part(out: str, cfg: BuildConfig, part: str) -> None:
    build(out=out, force=True, cfg=cfg, evaluate=False, parts=(part,))


def build(out: str | Path | None = None, force: bool = False, cfg: BuildConfig | None = None,
          evaluate: bool = True, parts: tuple[str, ...] = ("teacher", "student")) -> Path:
    """Train and save toy-teacher and toy-student under `out` (default: the package's
    models/ folder). Skips when both exist unless force. Writes build.json with timings
    and, with evaluate, the accuracies from `vold_train.toy.check`.

    Both models are trained side by side in two processes of one torch thread each: on a
    2-core machine that halves the wall time (one process with 2 threads is slower than two
    with one, as these small matmuls do not split well), and each result is bit-identical to
    a build of that part alone."""
    cfg = cfg or BuildConfig()
    out = Path(out) if out is not None else models_dir()
    dirs = {name: out / sub for name, sub in TOY_NAMES.items()}
    if not force and all((d / "config.json").exists() for d in dirs.values()):
        print(f"[toy build] toy models already in {out} (use --force to rebuild)")
        return out
    torch.set_num_threads(cfg.threads)
    t0 = time.time()
    out.mkdir(parents=True, exist_ok=True)
    if len(parts) > 1:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        procs = [ctx.Process(target=_build_part, args=(str(out), cfg, part)) for part in parts]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        failed = [part for part, p in zip(parts, procs) if p.exitcode != 0]
        if failed:
            raise RuntimeError(f"toy build: training {', '.join(failed)} failed (see its output above)")
        part_reports = [json.loads((out / f"build-{part}.json").read_text()) for part in parts]
        for part in parts:
            (out / f"build-{part}.json").unlink()
        secs = {k: v for r in part_reports for k, v in r.items() if k.endswith("_train_s")}
        log = [row for r in part_reports for row in r["log"]]
    else:
        log, secs = [], {}
        tokenizer = tm.build_tokenizer()
        for part in parts:  # each model is saved as soon as it is trained
            t = time.time()
            if part == "teacher":
                model, save = train_teacher(tokenizer, cfg, log), tm.save_teacher
            else:
                model, save = train_student(tm.build_processor(tokenizer), cfg, log), tm.save_student
            secs[f"{part}_train_s"] = round(time.time() - t, 1)
            d = dirs[f"toy-{part}"]
            if d.exists():
                shutil.rmtree(d)
            save(model, tokenizer, d)
    t_train = time.time() - t0
    report = {"config": asdict(cfg), "world": world.WORLD_VERSION, **secs,
              "build_s": round(t_train, 1), "torch_threads": cfg.threads, "log": log}
    if evaluate and len(parts) == 2:
        from vold_train.toy.check import evaluate_pair
        report["eval"] = evaluate_pair(dirs["toy-student"], dirs["toy-teacher"], n=cfg.eval_n)
        report["eval_s"] = round(time.time() - t0 - t_train, 1)
    (out / f"build{'' if len(parts) == 2 else '-' + parts[0]}.json").write_text(json.dumps(report, indent=1))
    print(f"[toy build] done in {t_train:.0f}s (+ eval) -> {out}")
    return out
