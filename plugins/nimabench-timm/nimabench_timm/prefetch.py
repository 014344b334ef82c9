"""Batches prepared ahead in a background thread, so a GPU does not wait for NumPy's crops and flips.

The core's augmentations are NumPy copies, which release the GIL, so one thread overlaps them with the
GPU's step. On the CPU the trainer leaves this off: there the step already uses every core.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from queue import Empty, Full, Queue
from typing import TypeVar

Item = TypeVar("Item")
_POLL_S = 0.1


class _End:
    def __init__(self, error: BaseException | None = None):
        self.error = error


def prefetched(items: Iterable[Item], depth: int = 2) -> Iterator[Item]:
    """The items of ``items`` in order, produced up to ``depth`` ahead; ``depth`` 0 means no thread."""
    if depth <= 0:
        yield from items
        return
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    thread = threading.Thread(target=_produce, args=(items, queue, stop), daemon=True)
    thread.start()
    try:
        while True:
            item = _get(queue, thread)
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()  # the consumer left early (an exception, a break): let the producer finish


def _produce(items: Iterable, queue: Queue, stop: threading.Event) -> None:
    try:
        for item in items:
            if not _put(queue, item, stop):
                return
        _put(queue, _End(), stop)
    except BaseException as error:  # handed to the consumer, which raises it
        _put(queue, _End(error), stop)


def _put(queue: Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            queue.put(item, timeout=_POLL_S)
            return True
        except Full:
            continue
    return False


def _get(queue: Queue, thread: threading.Thread):
    while True:
        try:
            return queue.get(timeout=_POLL_S)
        except Empty:
            if not thread.is_alive() and queue.empty():
                return _End(RuntimeError("the batch producer thread stopped without finishing"))
