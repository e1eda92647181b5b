"""The shipped toy models (vold_train/toy/models/) are trained, not random: a few greedy
answers must be right. Skips when the models are not there (a build takes minutes,
too slow for a unit test; `vold toy build` makes them)."""
import pytest

from vold_bench.toy import world
from vold_train.toy import models_dir
from vold_train.toy.check import boxed_int, generate

pytestmark = pytest.mark.skipif(not (models_dir() / "teacher" / "config.json").exists(),
                                reason="toy models not built (run `vold toy build`)")


def test_shipped_teacher_solves_text_problems():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    d = models_dir() / "teacher"
    model, tok = AutoModelForCausalLM.from_pretrained(d).eval(), AutoTokenizer.from_pretrained(d)
    ps = world.problems("test", n=12)  # levels 1-3, both skills
    out = generate(model, tok, [p.text_question() for p in ps], max_new_tokens=64)
    assert sum(boxed_int(r) == p.answer for r, p in zip(out, ps)) >= 7, out


def test_shipped_student_reads_pictures():
    from transformers import AutoModelForImageTextToText, AutoProcessor

    d = models_dir() / "student"
    model, proc = AutoModelForImageTextToText.from_pretrained(d).eval(), AutoProcessor.from_pretrained(d)
    ps = world.problems("test", n=12)
    out = generate(model, proc, [p.transcribe_question() for p in ps], [p.pictures() for p in ps],
                   max_new_tokens=24)
    assert sum(world.parse_transcription(r) == p.values for r, p in zip(out, ps)) >= 10, out


def test_shipped_student_states_what_it_reads_and_reasons_one_step():
    # P0/P1 in miniature: inside image problems of every level it states the quantities it
    # read (its own style: no think block), and it answers after one step, so L2/L3 miss
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from vold_train.toy.preconditions import restated_ok

    d = models_dir() / "student"
    model, proc = AutoModelForImageTextToText.from_pretrained(d).eval(), AutoProcessor.from_pretrained(d)
    ps = world.problems("test", n=18)
    out = generate(model, proc, [p.image_question() for p in ps], [p.pictures() for p in ps], max_new_tokens=40)
    assert sum(restated_ok(r, p) for r, p in zip(out, ps)) >= 16, out
    assert not any(r.startswith("<think>") for r in out), out
    deep = [(r, p) for r, p in zip(out, ps) if p.level > 1]
    assert sum(boxed_int(r) == p.answer for r, p in deep) <= 2, out


def test_trainer_log_probs_are_the_sampling_distributions():
    # GRPO here is on-policy (update_epochs = 1: ratio 1 by construction), so nothing else
    # would notice if the update scored other log-probs than those the rollouts were drawn
    # from (left padding, Qwen2.5-VL's 3-D positions). The shipped student samples a batch of
    # prompts of different lengths, G per prompt as rl_step does; the trainer's forward
    # (pad_left | completion, LogprobModel) must give generate()'s own log-probs back.
    import torch
    from transformers import AutoModelForImageTextToText

    from vold_train.common import load_tokenizer, pad_left, student_prompt
    from vold_train.logprobs import LogprobModel
    from vold_train.rollout import completion_mask, joined

    d = models_dir() / "student"
    tok, model = load_tokenizer(str(d)), AutoModelForImageTextToText.from_pretrained(d).eval()
    prompts = [student_prompt(tok, p.text_question()) for p in world.problems("train", n=6)]
    assert len({len(p) for p in prompts}) > 1  # left padding is exercised
    ids, attn = pad_left(prompts, tok.pad_token_id, "cpu")
    torch.manual_seed(0)
    out = model.generate(input_ids=ids, attention_mask=attn, do_sample=True, temperature=1.0, top_k=0,
                         top_p=1.0, max_new_tokens=40, num_return_sequences=2, output_scores=True,
                         return_dict_in_generate=True, pad_token_id=tok.pad_token_id,
                         eos_token_id=tok.eos_token_id)
    comp = out.sequences[:, ids.shape[1]:]
    sampled = torch.stack(out.scores, 1).log_softmax(-1).gather(-1, comp.unsqueeze(-1)).squeeze(-1)
    mask, _ = completion_mask(comp, tok.eos_token_id)
    comp = torch.where(mask.bool(), comp, torch.full_like(comp, tok.pad_token_id))
    rows, row_attn = joined([p for p in prompts for _ in range(2)], comp, mask, tok.pad_token_id)
    with torch.no_grad():
        logp = LogprobModel(model, len(tok))(rows, row_attn, comp)[0]
    assert mask.sum() > 6 * 2 * 10
    assert ((logp - sampled).abs() * mask).max() < 1e-4
