"""Runs inside .venv-vllm: `vold train` RL steps with vLLM rollouts and a vLLM teacher.

python tests/vllm_train_job.py out_dir key=value ... (the --set overrides of the recipe)
"""
import sys


def main(out, overrides):
    from vold_train.run import train_recipe

    train_recipe("vold", overrides, out)


if __name__ == "__main__":  # vLLM may spawn workers that re-import this file
    main(sys.argv[1], sys.argv[2:])
