"""The entry point of nimabench-keras (group ``nimabench``, name ``keras``): its hook implementations.

Nothing here imports Keras or TensorFlow: the backbones are a static catalogue, kernel factories import
Keras when they are called, and the trainer imports TensorFlow inside ``train``.
"""

from __future__ import annotations

from nimabench import hookimpl
from nimabench.loss import lazy_kernel
from nimabench_keras.backbones import registered_backbones
from nimabench_keras.trainer import KerasTrainer

LOSSES_WITH_KERNELS = ("emd", "emd1", "cce", "mse-mean", "cbce")


@hookimpl
def register_backbones(register):
    for backbone in registered_backbones():
        register(backbone)


@hookimpl
def register_losses(register):
    for loss_name in LOSSES_WITH_KERNELS:
        register.kernel(loss_name, "keras", lazy_kernel("nimabench_keras.kernels", loss_name))


@hookimpl
def register_trainers(register):
    register(KerasTrainer())
