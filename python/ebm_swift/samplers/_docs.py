"""Docstring parts the Metropolis samplers share."""

ADAPTATION_DOC = """adapt_step_size : bool
        Tune the step size during the first ``n_warmup`` steps, then freeze it; ``step_size`` is
        the starting value (100× too large or too small is fine). The first 80 % of warm-up run
        dual averaging (Hoffman & Gelman 2014, as in Stan and BlackJAX); the last 20 % refine its
        averaged step by a Robbins–Monro search with a 1/k gain, because one chain's acceptance
        is noisy enough that dual averaging's averaged step alone overshoots the target
        acceptance by up to 0.07 (measured on a trained MLP energy); refined, the acceptance after
        warm-up lands within 0.01 of the target on the tests' targets. Each
        chain adapts its own step size from its own acceptance probabilities: a chain's numbers
        then depend only on the seed and its index — not on the thread count, the other chains,
        or how a run is split (``chain_offset``) — and chains in different modes of a
        multimodal target each get the step their region needs. The price is noise: give each
        chain a few hundred warm-up steps.
    n_warmup : int, optional
        Warm-up steps (default ``n_steps // 2``); they are part of ``n_steps`` and must be fewer.
        Acceptance rates and divergences in ``info`` count the steps after warm-up; a trajectory
        includes the warm-up.
    target_accept : float, optional
        The acceptance probability adaptation aims at, in (0, 1). Default {default}: {reason}"""


# The end of the Metropolis samplers' parameters and the head of their returns.
RETURNS_DOC = """    seed, thin, return_trajectory, diagnostics, chain_offset, progress
        As in :func:`langevin`.
    return_info : bool, default True
        Return ``(samples, info)``; ``False`` returns the samples alone.

    Returns
    -------
    samples : ndarray, shape of x0, float32
    info : dict"""


