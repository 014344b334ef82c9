"""Stage semantics: what trains, what stays frozen (and in eval mode), and the optimiser's learning rates."""

import pytest

from nimabench.plugins import collect
from nimabench.schedule import Stage, learning_rate
from nimabench_timm.blocks import backbone_blocks, frozen_modules, set_trainable, train_mode
from nimabench_timm.optim import apply_learning_rates, make_optimizer


@pytest.fixture(scope="module")
def model():
    return collect("backbone").get("timm:test_resnet").build(num_buckets=10, pretrained=False)


def trained_names(model) -> set[str]:
    return {name for name, p in model.base.named_parameters() if p.requires_grad}


def test_blocks_are_timm_parameter_groups_in_forward_order(model):
    blocks = backbone_blocks(model.base)
    assert len(blocks) == 5  # test_resnet: stem, then layer1..layer4
    assert blocks[0][0].startswith("conv1") and blocks[-1][0].startswith("layer4")
    assert sum(len(b) for b in blocks) == len(list(model.base.parameters()))


def test_head_stage_freezes_the_whole_base(model):
    trainable = set_trainable(model, "head")
    assert trainable.base == [] and trained_names(model) == set()
    assert all(p.requires_grad for p in model.head.parameters())
    train_mode(model, frozen_modules(model))
    assert not model.base.training and model.head.training


def test_top_n_blocks_train_and_the_rest_is_frozen(model):
    trainable = set_trainable(model, 2)
    blocks = backbone_blocks(model.base)
    assert trained_names(model) == set(blocks[-2]) | set(blocks[-1])
    assert trainable.blocks_trained == 2 and trainable.blocks_total == 5
    assert len(trainable.base) == len(blocks[-2]) + len(blocks[-1])
    train_mode(model, frozen_modules(model))
    assert model.base.layer4.training and model.base.layer3.training
    # frozen BatchNorms keep their statistics
    assert not model.base.layer2.training and not model.base.bn1.training


def test_more_blocks_than_exist_means_all(model):
    assert set_trainable(model, 99).blocks_trained == 5
    assert trained_names(model) == {name for name, _ in model.base.named_parameters()}


def test_all_trains_everything(model):
    set_trainable(model, "all")
    assert frozen_modules(model) == []


@pytest.mark.parametrize("optimizer,kind", [("sgd", "SGD"), ("adam", "Adam"), ("adamw", "AdamW")])
def test_head_and_base_get_their_own_learning_rates(model, optimizer, kind):
    stage = Stage("s", epochs=3, trainable="all", optimizer=optimizer, head_lr=1e-3, base_lr=1e-5,
                  weight_decay=1e-4)
    trainable = set_trainable(model, "all")
    built = make_optimizer(stage, trainable.head, trainable.base)
    assert type(built).__name__ == kind
    assert [g["lr"] for g in built.param_groups] == [1e-3, 1e-5]
    assert all(g["weight_decay"] == 1e-4 for g in built.param_groups)


@pytest.mark.parametrize("decay", [
    dict(decay="step", decay_rate=0.5, decay_every=2),
    dict(decay="inverse-time", decay_rate=0.1),
])
def test_decay_comes_from_the_core_rule(model, decay):
    stage = Stage("s", epochs=6, trainable="all", optimizer="sgd", head_lr=1e-2, base_lr=1e-3, **decay)
    trainable = set_trainable(model, "all")
    built = make_optimizer(stage, trainable.head, trainable.base)
    for epoch, iteration in [(0, 0), (3, 7), (5, 20)]:
        apply_learning_rates(built, stage, epoch, iteration)
        assert built.param_groups[0]["lr"] == learning_rate(1e-2, stage, epoch, iteration)
        assert built.param_groups[1]["lr"] == learning_rate(1e-3, stage, epoch, iteration)
    assert built.param_groups[0]["lr"] < 1e-2
