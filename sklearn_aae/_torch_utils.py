"""Torch plumbing shared by the estimators: device, precision, optimizer, saved state.

Nothing here knows about scikit-learn.
"""

import io

import torch


def resolve_device(device):
    """Map the ``device`` parameter to a ``torch.device``; 'auto' prefers CUDA."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but torch sees no CUDA GPU; use device='cpu' or 'auto'.")
    return resolved


def device_available(device):
    """Whether this machine can hold tensors on ``device`` (a model may come from another)."""
    if device.type == "cuda":
        return torch.cuda.is_available()
    if device.type == "mps":
        return torch.backends.mps.is_available()
    return True


def _cpu_has_native_bf16():
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision, device):
    """Return the autocast dtype for ``precision`` on ``device`` (``None``: plain float32).

    'auto' uses bfloat16 only where the hardware computes it natively (CUDA GPUs that
    support it, CPUs with AVX512-BF16 or AMX); elsewhere bfloat16 is emulated and many
    times slower than float32.
    """
    if precision == "float32":
        return None
    if precision == "bfloat16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if device.type == "cpu" and _cpu_has_native_bf16() else None


def adam(params, lr, *, betas=(0.9, 0.999), weight_decay=0.0):
    """Adam with the fused kernel where this torch build has one for the device."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay, foreach=True)


def autocast(device, dtype):
    """Autocast to ``dtype`` on ``device``, or plain float32 when ``dtype`` is None."""
    return torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)


def generator_state(generator):
    """A picklable snapshot of a ``torch.Generator``: its device type, state and seed."""
    return generator.device.type, generator.get_state(), generator.initial_seed()


def restore_generator(snapshot, device):
    """A generator on ``device`` in the state of ``snapshot``; reseeded if the device changed."""
    device_type, rng_state, seed = snapshot
    generator = torch.Generator(device=device)
    if device_type == device.type:
        generator.set_state(rng_state)
    else:
        generator.manual_seed(seed)
    return generator


def pack_state(state):
    """An estimator's ``__dict__`` ready to pickle: its networks and optimizers as bytes of
    one ``torch.save`` (which keeps each optimizer tied to its modules' parameters) and
    its generator as a snapshot."""
    state = state.copy()
    torch_names = [k for k, v in state.items() if isinstance(v, (torch.nn.Module, torch.optim.Optimizer))]
    if torch_names:
        buffer = io.BytesIO()
        torch.save({k: state.pop(k) for k in torch_names}, buffer)
        state["_torch_bytes"] = buffer.getvalue()
    generator = state.pop("_generator", None)
    if generator is not None:
        state["_generator_state"] = generator_state(generator)
    return state


def unpack_state(state):
    """The ``__dict__`` that :func:`pack_state` packed, on the saved device or, where this
    machine lacks it, on the CPU (``map_location``).

    ``weights_only=False``: the bytes hold whole modules and optimizers, which torch's
    restricted unpickler cannot rebuild, and they come from the estimator's own pickle.
    """
    state = dict(state)
    torch_bytes = state.pop("_torch_bytes", None)
    snapshot = state.pop("_generator_state", None)
    if torch_bytes is None:
        return state
    if not device_available(state["device_"]):
        state["device_"] = torch.device("cpu")
    state.update(torch.load(io.BytesIO(torch_bytes), map_location=state["device_"], weights_only=False))
    state["_generator"] = restore_generator(snapshot, state["device_"])
    return state
