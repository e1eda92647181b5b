"""A stand-in accelerator for CPU-only test machines: tensors that live on "cpu:1".

On one CPU every tensor sits on the same device, so a tensor the trainer forgot to move would
go unnoticed until the first GPU run. Here `FAKE` (cpu:1) plays the GPU: `x.to(FAKE)`, a model
`.to(FAKE)` and factories with `device=FAKE` give `OnFake` tensors, which report cpu:1 but
compute on their inner CPU tensor, so results stay bit-identical to a plain CPU run. While
`FakeDevice()` is active every op is checked as CUDA checks it: a plain CPU tensor with
elements mixed with cpu:1 tensors raises `DeviceMismatch` (0-dim CPU tensors are allowed, as
CUDA allows CPU scalars, and so is copy_ between the two, as CUDA copies across devices).

Why cpu:1 and not a fake "cuda": the autograd engine and torch.autocast treat any cpu index as
CPU, so backward, checkpointing and HF's autocast(device_type=...) blocks run as they do on a
real CPU, while device equality still tells cpu:1 from cpu.
"""
from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

FAKE = torch.device("cpu", 1)
CPU = torch.device("cpu")
_CROSS_DEVICE_OK = {torch.ops.aten.copy_.default, torch.ops.aten._to_copy.default}
# every model forward starts with an embedding lookup: one on plain tensors means a model was
# never moved (with everything else left on the CPU too, nothing would be mixed)
_MODEL_ENTRY = {torch.ops.aten.embedding.default}
# advanced indexing takes CPU index tensors on CUDA (HF's Qwen2.5-VL vision tower relies on it)
_CPU_INDICES_OK = {torch.ops.aten.index.Tensor, torch.ops.aten.index_put.default, torch.ops.aten.index_put_.default,
                   torch.ops.aten._index_put_impl_.default}
# reading a device tensor's values into Python is legal (a device-to-host copy)
_HOST_READS = {torch.Tensor.tolist, torch.Tensor.numpy, torch.Tensor.__array__}


class DeviceMismatch(RuntimeError):
    pass


class OnFake(torch.Tensor):
    @staticmethod
    def __new__(cls, inner: torch.Tensor):
        r = torch.Tensor._make_wrapper_subclass(cls, inner.shape, strides=inner.stride(),
                                                storage_offset=inner.storage_offset(), dtype=inner.dtype,
                                                layout=inner.layout, device=FAKE,
                                                requires_grad=inner.requires_grad)
        r.inner = inner
        return r

    __torch_function__ = torch._C._disabled_torch_function_impl

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        raise DeviceMismatch(f"{func} on a fake-device tensor outside FakeDevice()")

    def __repr__(self):
        return f"OnFake({self.inner!r})"


def _dev(d) -> torch.device | None:
    return None if d is None else torch.device(d)


class _Factories(TorchFunctionMode):
    """torch.tensor(..., device=FAKE) and kin: cpu:1 is a CPU index, so they would build a plain
    CPU tensor without any aten op seeing the device; build it on CPU, then wrap it."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in _HOST_READS and isinstance(args[0], OnFake):  # reading values to the host is legal
            return func(args[0].inner, *args[1:], **kwargs)
        if func in (torch.tensor, torch.as_tensor):  # from a list of 0-dim device tensors, as CUDA allows
            args = tree_map(lambda t: t.inner if isinstance(t, OnFake) else t, args)
        if _dev(kwargs.get("device")) != FAKE:
            return func(*args, **kwargs)
        kwargs["device"] = CPU
        return tree_map(lambda t: OnFake(t) if isinstance(t, torch.Tensor) and not isinstance(t, OnFake) else t,
                        func(*args, **kwargs))


class FakeDevice(TorchDispatchMode):
    """Every op under this mode: unwrap, check devices, run on CPU, re-wrap."""

    def __init__(self):
        super().__init__()
        self.ops = 0          # ops that touched the fake device (the test asserts some did)
        self.mismatches = []  # (op, shapes) of every mixed call, also raised

    def __enter__(self):
        # module.to(FAKE) must replace each Parameter by an OnFake one (as FSDP2 swaps in
        # DTensors), not set .data of the old Parameter, which would hide the wrapper
        self._overwrite = torch.__future__.get_overwrite_module_params_on_conversion()
        torch.__future__.set_overwrite_module_params_on_conversion(True)
        self._factories = _Factories()
        self._factories.__enter__()
        return super().__enter__()

    def __exit__(self, *exc):
        torch.__future__.set_overwrite_module_params_on_conversion(self._overwrite)
        out = super().__exit__(*exc)
        self._factories.__exit__(*exc)
        return out

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        flat, _ = tree_flatten((args, kwargs))
        fake = [t for t in flat if isinstance(t, OnFake)]
        checked = flat if func not in _CPU_INDICES_OK else tree_flatten((args[0], args[2:], kwargs))[0]
        plain = [t for t in checked if isinstance(t, torch.Tensor) and not isinstance(t, OnFake) and t.dim() > 0]
        if fake and plain and func not in _CROSS_DEVICE_OK:
            shapes = [tuple(t.shape) for t in plain]
            self.mismatches.append((str(func), shapes))
            raise DeviceMismatch(f"{func}: cpu tensor(s) {shapes} mixed with tensors on {FAKE}")
        if func in _MODEL_ENTRY and not fake:
            raise DeviceMismatch(f"{func}: a model left on the CPU")
        target = _dev(kwargs.get("device"))
        if target is not None and target == FAKE:
            kwargs["device"] = CPU
        wrap = target == FAKE if target is not None else bool(fake)
        self.ops += bool(fake) or target == FAKE
        # in-place ops and out= return one of their arguments: hand back the caller's tensor
        mine = {id(t.inner): t for t in fake} | {id(t): t for t in flat if isinstance(t, torch.Tensor)
                                                 and not isinstance(t, OnFake)}
        args, kwargs = tree_map(lambda t: t.inner if isinstance(t, OnFake) else t, (args, kwargs))
        out = func(*args, **kwargs)

        def rewrap(t):
            if not isinstance(t, torch.Tensor):
                return t
            if id(t) in mine:
                return mine[id(t)]
            return OnFake(t) if wrap else t

        return tree_map(rewrap, out)
