"""Whether a trial loads pretrained weights: found, an error listing the places, or a warned random init."""

from __future__ import annotations

import pytest
from test_staged_training import StubBackbone

from nimabench.errors import NimabenchError
from nimabench.pretrained import RandomInitWarning, missing_weights_message, pretrained_weights
from nimabench.trainer import RunOptions


def test_found_weights_are_loaded():
    assert pretrained_weights(StubBackbone("numpy:stub", weights="/w/stub.h5"), RunOptions()) == "/w/stub.h5"


def test_missing_weights_are_an_error_naming_every_place_looked():
    with pytest.raises(NimabenchError, match=r"no pretrained weights .* Looked in: here; there\. .*allow-random"):
        pretrained_weights(StubBackbone("numpy:stub"), RunOptions())


def test_random_init_when_allowed_warns_in_the_frameworks_words():
    def worded(name: str, searched: tuple[str, ...]) -> str:
        return f"{name}: nothing in {', '.join(searched)}."

    with pytest.warns(RandomInitWarning, match="numpy:stub: nothing in here, there. Training from random init"):
        assert pretrained_weights(StubBackbone("numpy:stub"), RunOptions(allow_random_init=True), worded) is None


def test_the_default_message_lists_nowhere_when_nothing_was_searched():
    assert "Looked in: nowhere." in missing_weights_message("x", ())
