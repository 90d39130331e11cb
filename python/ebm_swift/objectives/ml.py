"""Maximum likelihood with negatives from the model — the objective ``"ml"``."""

from ._record import ContrastiveObjective, register

__all__ = ["MaximumLikelihood"]


@register
class MaximumLikelihood(ContrastiveObjective):
    __doc__ = """Contrastive divergence (Bishop, *Deep Learning*, §14.3.2): a step descends
    ``L = mean E(x_data) − mean E(x_model) + alpha·(mean E(x_data)² + mean E(x_model)²)`` with the
    negatives ``x_model`` held constant; without the regulariser ``∇w L`` is minus the estimate of
    ``∇w ln p(x|w)``.

""" + ContrastiveObjective.__doc__.split("\n\n", 1)[1]

    kind = "ml"
