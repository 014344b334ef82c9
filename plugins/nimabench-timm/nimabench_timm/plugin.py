"""The entry point of nimabench-timm (group ``nimabench``, name ``timm``): its hook implementations.

Nothing here imports torch or timm: backbones describe themselves statically, kernel factories and the
trainer import torch when they are called.
"""

from __future__ import annotations

from nimabench import hookimpl
from nimabench.loss import lazy_kernel
from nimabench_timm.backbones import PREFIX, TimmBackbone, lazy_backbone, registered_backbones
from nimabench_timm.torch_trainer import TorchTrainer

LOSSES_WITH_KERNELS = ("emd", "emd1", "cce", "mse-mean", "cbce")


@hookimpl
def register_backbones(register):
    for backbone in registered_backbones():
        register(backbone)


@hookimpl
def resolve_backbone(name: str) -> TimmBackbone | None:
    """``timm:<any timm model>`` for a name no plugin registered.

    For a core hook ``resolve_backbone(name)`` (firstresult) that nimabench does not declare yet; until it
    does, pluggy keeps this implementation unused and ``$NIMABENCH_TIMM_MODELS`` does the job.
    """
    model_name = name.removeprefix(PREFIX)
    return lazy_backbone(model_name) if name.startswith(PREFIX) and model_name else None


@hookimpl
def register_losses(register):
    for loss_name in LOSSES_WITH_KERNELS:
        register.kernel(loss_name, "torch", lazy_kernel("nimabench_timm.kernels", loss_name))


@hookimpl
def register_trainers(register):
    register(TorchTrainer())
