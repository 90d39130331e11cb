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


@pytest.fixture(scope="session")
def fashion_mnist():
    """((train images, labels), (test images, labels)), images (n, 1, 28, 28) in [−1, 1]."""
    import ebm_swift

    return ebm_swift.datasets.load_fashion_mnist("train"), ebm_swift.datasets.load_fashion_mnist("test")


@pytest.fixture(scope="session")
def fashion_classifier(fashion_mnist):
    """An independent judge of images: scikit-learn's MLPClassifier (128 ReLU units) trained on
    10 000 training images; built once per test session."""
    import warnings

    neural_network = pytest.importorskip("sklearn.neural_network")
    (train, labels), (test, test_labels) = fashion_mnist
    clf = neural_network.MLPClassifier(hidden_layer_sizes=(128,), max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: 15 epochs are enough here
        clf.fit(train[:10_000].reshape(10_000, -1), labels[:10_000])
    assert clf.score(test[:2000].reshape(2000, -1), test_labels[:2000]) > 0.8  # a real classifier
    return clf


@pytest.fixture
def ray_client():
    """The ``ray`` module after ``ray.init()`` on this machine (2 CPUs, one sampling thread per
    task, no dashboard), shut down after the test; skipped without Ray."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"EBM_SWIFT_NUM_THREADS": "1"}})
    yield ray
    ray.shutdown()
