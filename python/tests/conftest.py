import os
import sys

import pytest

# The tests import the *installed* package (built by `pip install .`), and the reference
# implementation next to them.
sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(12345)
