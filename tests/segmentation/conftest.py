"""Fixtures for the segmentation tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from seg_cases import head_case

from segmentation.targets import ReportTarget


@pytest.fixture
def head_target() -> ReportTarget:
    """One 10 mm pancreatic-head lesion, 1 mm isotropic, channels (liver, pancreas)."""
    return head_case()


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
    np.random.seed(0)
