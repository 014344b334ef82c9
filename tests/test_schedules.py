"""Built-in schedules and the stage semantics every trainer shares."""

import pytest

from nimabench.errors import NimabenchError
from nimabench.plugins import collect
from nimabench.schedule import Stage, learning_rate


def schedule(name):
    return collect("schedule").get(name)


def test_two_stage_follows_idealo_per_task():
    head, everything = schedule("two-stage").stages_for("technical")
    assert (head.epochs, head.trainable, head.head_lr) == (25, "head", 1e-3)
    assert (everything.epochs, everything.trainable, everything.base_lr) == (25, "all", 3e-7)
    head, everything = schedule("two-stage").stages_for("aesthetic")
    assert (head.epochs, everything.epochs, everything.base_lr) == (5, 9, 3e-5)
    assert everything.decay == "inverse-time" and everything.decay_rate == 2.3e-5


def test_the_epochs_override_sets_every_stage():
    stages = schedule("two-stage").stages_for("technical", epochs=2)
    assert [s.epochs for s in stages] == [2, 2]
    with pytest.raises(NimabenchError, match="--epochs"):
        schedule("two-stage").stages_for("technical", epochs=0)


def test_head_only_and_full():
    (head,) = schedule("head-only").stages_for("technical")
    assert not head.trains_base
    (everything,) = schedule("full").stages_for("technical")
    assert everything.trains_base and everything.base_lr > 0


def test_nima_paper_decays_by_095_every_10_epochs():
    (stage,) = schedule("nima-paper").stages_for("aesthetic")
    assert stage.optimizer == "sgd" and stage.momentum == 0.9
    assert (stage.base_lr, stage.head_lr) == (3e-7, 3e-6)
    assert learning_rate(stage.base_lr, stage, epoch=9, iteration=0) == pytest.approx(3e-7)
    assert learning_rate(stage.base_lr, stage, epoch=10, iteration=0) == pytest.approx(3e-7 * 0.95)
    assert learning_rate(stage.head_lr, stage, epoch=25, iteration=0) == pytest.approx(3e-6 * 0.95**2)


def test_inverse_time_decay_is_keras_style():
    stage = Stage("all", epochs=1, trainable="all", base_lr=3e-5, decay="inverse-time", decay_rate=2.3e-5)
    assert learning_rate(3e-5, stage, epoch=0, iteration=1000) == pytest.approx(3e-5 / (1 + 0.023))


def test_top_n_blocks_and_bad_stages():
    assert Stage("top", epochs=1, trainable=3).trains_base
    with pytest.raises(NimabenchError, match="optimizer"):
        Stage("x", epochs=1, trainable="all", optimizer="lbfgs")
    with pytest.raises(NimabenchError, match="trainable"):
        Stage("x", epochs=1, trainable="some")
