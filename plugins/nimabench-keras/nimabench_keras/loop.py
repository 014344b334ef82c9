"""One training epoch and one prediction pass in TensorFlow, over any source of (inputs, targets) batches.

The same step trains the whole model on pixels and the head alone on cached features: the caller passes
the ``forward`` that maps a batch to predicted distributions. The loss is the trial's Keras kernel,
averaged over the batch (per-sample EMD, then the mean: FACTS). Each stage compiles its own step with
``tf.function`` (its variables and optimisers differ), with XLA only on a GPU. A non-finite loss fails the
trial at once (the PyTorch trainer does the same).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import tensorflow as tf

from nimabench.epochs import BatchCallback, EpochStats, EpochTally, check_finite_loss
from nimabench.schedule import Stage
from nimabench_keras.optim import StageOptimizer

Forward = Callable[[tf.Tensor], tf.Tensor]
Batches = Iterable[tuple[tf.Tensor | np.ndarray, tf.Tensor | np.ndarray]]


def make_train_step(forward: Forward, kernel: Callable, score_values: np.ndarray,
                    optimizers: list[StageOptimizer], jit_compile: bool) -> Callable:
    """``step(inputs, targets) -> mean loss``: forward, gradients, one update per optimiser."""
    scores = tf.constant(score_values, tf.float32)

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def step(inputs, targets):
        variables = [v for group in optimizers for v in group.variables]
        with tf.GradientTape() as tape:
            predicted = tf.cast(forward(inputs), tf.float32)
            loss = tf.reduce_mean(kernel(predicted, targets, scores))
        gradients = tape.gradient(loss, variables)
        start = 0
        for group in optimizers:
            own = gradients[start:start + len(group.variables)]
            start += len(group.variables)
            if group.l2:  # PyTorch's coupled weight decay for SGD and Adam: L2 added to the gradient
                own = [g + group.l2 * v for g, v in zip(own, group.variables, strict=True)]
            group.optimizer.apply(own, group.variables)
        return loss

    return step


def train_epoch(step: Callable, batches: Batches, optimizers: list[StageOptimizer], stage: Stage, *,
                epoch: int, iteration: int, on_batch: BatchCallback | None = None) -> tuple[EpochStats, int]:
    """Train over ``batches``; returns the epoch's statistics and the stage's step count after it."""
    tally = EpochTally()
    for inputs, targets in batches:
        for group in optimizers:
            group.set_learning_rate(stage, epoch, iteration)
        loss = float(step(inputs, targets))
        check_finite_loss(loss, stage)
        iteration += 1
        steps = tally.add(loss, len(targets))
        if on_batch:
            on_batch(steps, loss)
    return tally.stats(), iteration


def make_predictor(forward: Forward, jit_compile: bool) -> Callable:
    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def predict_batch(inputs):
        return tf.cast(forward(inputs), tf.float32)

    return predict_batch


def predict(predictor: Callable, batches: Batches, buckets: int) -> np.ndarray:
    """Predicted distributions, (n, buckets) float64, in batch order."""
    outputs = [np.asarray(predictor(inputs)) for inputs, _ in batches]
    if not outputs:
        return np.zeros((0, buckets), dtype=np.float64)
    return np.concatenate(outputs).astype(np.float64)
