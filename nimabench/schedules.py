"""Built-in fine-tuning schedules (a default plugin). Figures from FACTS.md."""

from __future__ import annotations

from types import MappingProxyType

from nimabench import hookimpl
from nimabench.schedule import Schedule, Stage

# idealo/image-quality-assessment's published configs: stage 1 trains the head with the base frozen,
# stage 2 everything at a low rate. AVA: 5 + 9 epochs, lr 3e-5 with Keras decay 2.3e-5; TID2013: 25 + 25, 3e-7.
_AESTHETIC_TWO_STAGE = (
    Stage("head", epochs=5, trainable="head", optimizer="adam", head_lr=1e-3),
    Stage("all", epochs=9, trainable="all", optimizer="adam", head_lr=3e-5, base_lr=3e-5,
          decay="inverse-time", decay_rate=2.3e-5),
)
_TECHNICAL_TWO_STAGE = (
    Stage("head", epochs=25, trainable="head", optimizer="adam", head_lr=1e-3),
    Stage("all", epochs=25, trainable="all", optimizer="adam", head_lr=3e-7, base_lr=3e-7),
)

TWO_STAGE = Schedule(
    "two-stage",
    "idealo recipe: head only at 1e-3 with the base frozen, then all layers at a low rate",
    stages=_AESTHETIC_TWO_STAGE,
    task_stages=MappingProxyType({"aesthetic": _AESTHETIC_TWO_STAGE, "technical": _TECHNICAL_TWO_STAGE}),
)

HEAD_ONLY = Schedule(
    "head-only",
    "linear probe: the base stays frozen, only the head trains",
    stages=(Stage("head", epochs=25, trainable="head", optimizer="adam", head_lr=1e-3),),
)

# 3e-4: on synthetic-tid, 3 epochs of EfficientNet-Lite0 at 160 px reached test SRCC 0.50 (the demo).
FULL = Schedule(
    "full",
    "all layers from the start, one Adam stage at 3e-4",
    stages=(Stage("all", epochs=20, trainable="all", optimizer="adam", head_lr=3e-4, base_lr=3e-4),),
)

# Talebi & Milanfar 2018: SGD with momentum 0.9, base 3e-7, last layer 3e-6, x0.95 every 10 epochs.
NIMA_PAPER = Schedule(
    "nima-paper",
    "NIMA paper: SGD momentum 0.9, base 3e-7, head 3e-6, x0.95 every 10 epochs",
    stages=(Stage("all", epochs=50, trainable="all", optimizer="sgd", head_lr=3e-6, base_lr=3e-7,
                  momentum=0.9, decay="step", decay_rate=0.95, decay_every=10),),
)

BUILTIN_SCHEDULES = (TWO_STAGE, HEAD_ONLY, FULL, NIMA_PAPER)


@hookimpl
def register_schedules(register):
    for schedule in BUILTIN_SCHEDULES:
        register(schedule)
