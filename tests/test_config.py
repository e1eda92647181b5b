"""Recipes load, overrides apply, and bad config fails with a message naming the key."""
import pytest

from vold_bench.errors import VoldError
from vold_train.config import RECIPES_DIR, load_recipe, save_config, variant

EXPECTED = {
    "vold": {"sft": True, "rl": True, "kd": True, "kd_mask": True, "trace_source": "teacher"},
    "grpo-only": {"sft": True, "rl": True, "kd": False, "kd_mask": False, "trace_source": "teacher"},
    "no-mask": {"sft": True, "rl": True, "kd": True, "kd_mask": False, "trace_source": "teacher"},
    "no-cold-start": {"sft": False, "rl": True, "kd": True, "kd_mask": True, "trace_source": None},
    "mismatched-cold-start": {"sft": True, "rl": True, "kd": True, "kd_mask": True, "trace_source": "mismatched"},
    "sft-only": {"sft": True, "rl": False, "kd": False, "kd_mask": False, "trace_source": "teacher"},
    "opd-only": {"sft": True, "rl": False, "kd": True, "kd_mask": False, "trace_source": "teacher"},
    "grpo-only-low-lr": {"sft": True, "rl": True, "kd": False, "kd_mask": False, "trace_source": "teacher"},
    # the on-policy family (SRPO distils only reward-0 rollouts, so kd_mask holds for it)
    "srpo": {"sft": True, "rl": True, "kd": True, "kd_mask": True, "trace_source": "teacher"},
    "srpo-self": {"sft": True, "rl": True, "kd": True, "kd_mask": True, "trace_source": "teacher"},
    "va-opd": {"sft": True, "rl": False, "kd": True, "kd_mask": False, "trace_source": "teacher"},
    "va-opd-reward": {"sft": True, "rl": True, "kd": True, "kd_mask": False, "trace_source": "teacher"},
    "vold-rdiverse": {"sft": True, "rl": True, "kd": True, "kd_mask": True, "trace_source": "teacher"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_recipe_loads_with_its_variant(name):
    r = load_recipe(name)
    assert variant(r) == EXPECTED[name]


def test_toy_protocol_lr_and_the_distilling_recipes_use_the_exact_kl():
    # docs/toy-world.md, "Stop 27": one lr for every variant but the low-lr reference, the
    # 300-step cold start, rollouts (and the loss) at T 0.7; the paper recipes sample at 1.0
    for name in EXPECTED:
        r = load_recipe(name)
        assert r.rl.lr == (5e-5 if name == "grpo-only-low-lr" else 1e-4), name
        assert r.sft.steps == 300, name
        assert r.rl.sampling.temperature == (0.7 if "rl" in r.stages else 1.0), name
    for path in sorted((RECIPES_DIR / "paper").glob("*.yaml")):
        r = load_recipe(str(path))
        assert "rl" not in r.stages or r.rl.sampling.temperature == 1.0, path.name
    for name in ("vold", "no-mask", "no-cold-start", "mismatched-cold-start", "opd-only", "vold-rdiverse"):
        assert load_recipe(name).rl.kd == "full", name


def test_every_recipe_file_is_covered():
    assert {p.stem for p in RECIPES_DIR.glob("*.yaml")} == set(EXPECTED)


def test_overrides_dotted_bare_and_seed():
    r = load_recipe("vold", ["rl.beta=0.5", "group_size=3", "seed=7", "sft.freeze_vision=false"])
    assert r.rl.beta == 0.5 and r.rl.group_size == 3 and r.sft.freeze_vision is False
    assert r.seed == r.rl.seed == r.sft.seed == r.traces.seed == 7


def test_unknown_key_names_it_and_the_valid_ones():
    with pytest.raises(VoldError, match=r"unknown config key 'rl\.betta'.*rl\.beta"):
        load_recipe("vold", ["rl.betta=0.1"])


def test_ambiguous_bare_key():
    with pytest.raises(VoldError, match=r"'lr' is ambiguous.*sft\.lr.*rl\.lr"):
        load_recipe("vold", ["lr=1e-5"])


def test_bad_value_and_bad_choice():
    with pytest.raises(VoldError, match=r"rl\.group_size.*int.*'many'"):
        load_recipe("vold", ["rl.group_size=many"])
    with pytest.raises(VoldError, match=r"rl\.kd_mask must be one of reward, none, got 'sometimes'"):
        load_recipe("vold", ["rl.kd_mask=sometimes"])
    with pytest.raises(VoldError, match="expected key=value"):
        load_recipe("vold", ["rl.beta"])


def test_unknown_recipe_and_key_in_a_yaml(tmp_path):
    with pytest.raises(VoldError, match="unknown recipe 'nope'; valid: .*grpo-only"):
        load_recipe("nope")
    p = tmp_path / "r.yaml"
    p.write_text("stages: [rl]\nrl:\n  model: toy-student\n  bogus: 1\n")
    with pytest.raises(VoldError, match=r"unknown config key 'rl\.bogus'"):
        load_recipe(str(p))
    p.write_text("stages: [rl]\n")  # rl.model defaults to 'sft' but there is no sft stage
    with pytest.raises(VoldError, match="no sft stage"):
        load_recipe(str(p))


def test_cli_reports_bad_key_and_exits_2():
    from typer.testing import CliRunner

    from vold_bench.cli import app

    res = CliRunner().invoke(app, ["train", "--recipe", "vold", "--set", "rl.nope=1"])
    assert res.exit_code == 2
    assert "unknown config key 'rl.nope'" in res.output


def test_run_folder_from_before_a_new_field_is_still_the_same_run(tmp_path):
    import yaml

    from vold_train.run import _check_same_run

    r = load_recipe("vold")
    save_config(r, tmp_path / "config.yaml")
    old = yaml.safe_load((tmp_path / "config.yaml").read_text())
    del old["sft"]["bf16"], old["rl"]["engine"]["gradient_checkpointing"]  # written before these fields existed
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(old))
    _check_same_run(tmp_path, r)
    with pytest.raises(VoldError, match=r"rl\.engine\.gradient_checkpointing"):
        _check_same_run(tmp_path, load_recipe("vold", ["rl.engine.gradient_checkpointing=true"]))


def test_run_folder_from_before_the_rl_sections_is_still_the_same_run(tmp_path):
    import yaml

    from vold_train.config import MOVED
    from vold_train.run import _check_same_run

    r = load_recipe("vold")
    d = r.to_dict()
    flat_rl = {k: v for k, v in d["rl"].items() if not isinstance(v, dict)}
    for old_key, new_key in MOVED.items():  # the flat layout config.yaml had before rl's sections
        sec, name = new_key.split(".")[1:]
        flat_rl[old_key.split(".", 1)[1]] = d["rl"][sec][name]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({**d, "rl": flat_rl}))
    _check_same_run(tmp_path, r)
    with pytest.raises(VoldError, match=r"rl\.sampling\.max_new_tokens"):
        _check_same_run(tmp_path, load_recipe("vold", ["rl.sampling.max_new_tokens=9"]))
