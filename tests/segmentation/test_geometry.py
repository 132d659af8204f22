import math

import pytest
import torch

from segmentation.geometry import complete_diameters_mm, ellipsoid_volume_mm3, gaussian_ball_kernel
from segmentation.losses import ellipsoid_volume_mm3 as exported


@pytest.mark.parametrize(
    ("diameters", "expected"),
    [
        pytest.param((11.0, 10.0), 604.8, id="two-diameters-parity"),
        pytest.param((10.0,), math.pi / 6 * 1000, id="sphere"),
        pytest.param((30.0, 10.0, 20.0), math.pi / 6 * 6000, id="three-any-order"),
    ],
)
def test_ellipsoid_volume(diameters: tuple[float, ...], expected: float) -> None:
    assert ellipsoid_volume_mm3(diameters) == pytest.approx(expected, abs=0.05)
    assert exported is ellipsoid_volume_mm3


def test_two_diameters_third_is_their_mean() -> None:
    assert complete_diameters_mm((10.0, 11.0)) == (11.0, 10.5, 10.0)


@pytest.mark.parametrize(
    "diameters",
    [
        pytest.param((), id="none"),
        pytest.param((1, 2, 3, 4), id="four"),
        pytest.param((0.0,), id="zero"),
        pytest.param((float("nan"),), id="nan"),
    ],
)
def test_bad_diameters_raise(diameters: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="diameters_mm"):
        ellipsoid_volume_mm3(diameters)


def test_ball_kernel_is_anisotropic_in_voxels() -> None:
    kernel = gaussian_ball_kernel(10.0, (1.0, 1.0, 2.5))
    assert kernel.shape == (11, 11, 5)
    assert float(kernel.sum()) == pytest.approx(1.0)
    assert torch.argmax(kernel).item() == kernel.numel() // 2
