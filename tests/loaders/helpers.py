"""Picklable transforms (spawn workers import them by name) and torch gating for the loader tests."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest


def double(x: Any) -> Any:
    return np.asarray(x) * 2


def add_pid(x: Any) -> Any:
    return (np.asarray(x), os.getpid())


def need_torch() -> Any:
    """torch, which the dev lock installs: in CI its absence is a failure, not a skip."""
    if os.environ.get("CI") == "true":
        import torch

        return torch
    return pytest.importorskip("torch")
