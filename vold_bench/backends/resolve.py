"""The one place the backends reach into vold_train: model names are looked up by
`vold_train.toy.resolve_model` (a toy name -> its shipped folder; a hub id or path unchanged),
imported here once so that hf.py and vllm.py do not each depend on the trainer package."""
from vold_train.toy import resolve_model

__all__ = ["resolve_model"]
