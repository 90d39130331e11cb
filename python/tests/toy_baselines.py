"""What the toy-density quality tests share: the documented maximum-likelihood settings and the
baseline every trained model must beat, the Gaussian fitted to the training data."""

import numpy as np

# Settings documented in docs/training.md ("Quality, measured exactly").
SETTINGS = dict(lr=2e-3, betas=(0.0, 0.999), n_steps=20, step_size=0.01, init_range=(-4.5, 4.5), alpha=0.1)


def gaussian_log_likelihood(train, test):
    """Mean log-likelihood of ``test`` under the Gaussian fitted to ``train`` (both ``(n, 2)``)."""
    mu, cov = train.mean(0), np.cov(train.T.astype(np.float64))
    d = test - mu
    return float(np.mean(-0.5 * np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d))
                 - np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(cov)[1])
