"""Model names -> what a backend loads: a toy name (`toy-student`, `toy-teacher`,
`toy-vteacher`) -> its local folder; anything else (hub id, path) unchanged. The one lookup
the hf and vllm backends and the vLLM training engines share."""
from __future__ import annotations


def resolve_model(model: str) -> str:
    # The toy models belong to vold_train (their build is training); imported on call so that
    # importing a backend never imports the trainer.
    from vold_train.toy import resolve_model as toy_resolve
    return toy_resolve(model) or model
