"""Networks the tests share."""

from ebm_swift import nn


def uva_cnn():
    """The UvA "Deep Energy Models" tutorial's CNN for 28×28 images (76,993 parameters)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2, padding=4), nn.SiLU(),
        nn.Conv2d(16, 32, 3, 2, 1), nn.SiLU(),
        nn.Conv2d(32, 64, 3, 2, 1), nn.SiLU(),
        nn.Conv2d(64, 64, 3, 2, 1), nn.SiLU(),
        nn.Flatten(), nn.Linear(256, 64), nn.SiLU(), nn.Linear(64, 1),
    )
