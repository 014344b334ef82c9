"""Device choice, memory format and the malloc tuning."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from nimabench.errors import NimabenchError
from nimabench.plugins import collect
from nimabench_timm.data import to_model_input
from nimabench_timm.runtime import choose_device, setup_runtime


def test_auto_picks_cpu_without_a_gpu_and_cuda_without_one_is_an_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert choose_device("auto").type == "cpu"
    with pytest.raises(NimabenchError, match="sees no CUDA GPU"):
        choose_device("cuda")
    with pytest.raises(NimabenchError, match="unknown device"):
        choose_device("tpu")


def test_cpu_runtime_uses_channels_last_and_no_autocast():
    runtime = setup_runtime("cpu", seed=3)
    assert runtime.channels_last and runtime.amp_dtype is None
    assert runtime.describe().startswith("cpu")


def test_cached_pixels_become_a_channels_last_view_and_stay_so_through_preprocessing():
    pixels = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    tensor = to_model_input(pixels, torch.device("cpu"))
    assert tensor.shape == (2, 3, 32, 32) and tensor.is_contiguous(memory_format=torch.channels_last)
    model = collect("backbone").get("timm:test_resnet").build(num_buckets=5, pretrained=False)
    normalised = model.preprocess(tensor)
    assert normalised.is_contiguous(memory_format=torch.channels_last)
    mean = torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1)  # test_resnet's config
    expected = (torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255 - mean) / mean
    torch.testing.assert_close(normalised, expected)
    assert not to_model_input(pixels, torch.device("cpu"), channels_last=False).is_contiguous(
        memory_format=torch.channels_last)


@pytest.mark.parametrize("setting,expect", [("default", {}), ("no-mmap", {"M_MMAP_MAX": 0})])
def test_malloc_tuning_follows_the_environment(setting, expect):
    code = ("import json; from nimabench_timm.allocator import tune_malloc; "
            "print(json.dumps(tune_malloc()))")
    env = {**os.environ, "NIMABENCH_MALLOC": setting}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    applied = json.loads(out.stdout)
    assert expect.items() <= applied.items() and bool(applied) == bool(expect)


def test_prefetched_batches_keep_order_and_errors():
    from nimabench_timm.prefetch import prefetched

    assert list(prefetched(range(10), depth=2)) == list(range(10))
    assert list(prefetched(range(3), depth=0)) == [0, 1, 2]

    def failing():
        yield 1
        raise ValueError("broken batch")

    with pytest.raises(ValueError, match="broken batch"):
        list(prefetched(failing(), depth=2))
    first = next(iter(prefetched(iter(range(1000)), depth=1)))  # leaving early stops the producer
    assert first == 0


def test_prefetching_gives_the_same_batches(tiny_manifest):
    from nimabench.trial_data import load_trial_data
    from nimabench_timm.data import image_tensor_batches

    data = load_trial_data(tiny_manifest, 64)
    kwargs = dict(train=True, seed=4, epoch=1, device=torch.device("cpu"))
    plain = list(image_tensor_batches(data, data.train, 8, **kwargs))
    ahead = list(image_tensor_batches(data, data.train, 8, prefetch=2, **kwargs))
    assert len(plain) == len(ahead) == 3
    for (x, y), (x2, y2) in zip(plain, ahead, strict=True):
        assert torch.equal(x, x2) and torch.equal(y, y2)
