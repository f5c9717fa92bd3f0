import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def jax_or_skip():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax
