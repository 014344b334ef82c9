"""A trial: one combination of (task, dataset, backbone, loss, schedule, seed, overrides).

Its id is a short hash of its canonical JSON, so the same trial is recognised again across runs
(resume, caches, leaderboard joins).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrialSpec:
    task: str
    dataset: str
    backbone: str  # the full name, after alias resolution
    loss: str
    schedule: str
    seed: int = 0
    dataset_options: dict[str, Any] = field(default_factory=dict)
    # What changes the result: epochs, batch_size, image_size, allow_random_init, ...
    overrides: dict[str, Any] = field(default_factory=dict)

    def canonical_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @property
    def trial_id(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:12]

    @classmethod
    def from_json(cls, text: str) -> TrialSpec:
        return cls(**json.loads(text))
