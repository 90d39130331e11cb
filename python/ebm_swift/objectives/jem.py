"""A joint energy model — the objective ``"jem"``."""

from .._validation import flag, non_negative_float
from ._record import ContrastiveObjective, register

__all__ = ["JEM"]


@register
class JEM(ContrastiveObjective):
    __doc__ = """A joint energy model (Grathwohl et al. 2020): the energy is a classifier
    (``NetworkEnergy(..., n_classes=K)``, ``E(x) = −logsumexp f(x)``), every batch comes with
    labels, and a step descends maximum likelihood's ``L`` plus ``cross_entropy_weight`` × the
    cross-entropy of ``p(y|x) = softmax f(x)``.

    Parameters
    ----------
    cross_entropy_weight : float, default 1.0
        Weight of the classification loss.
    class_conditional : bool, default False
        The class-conditional buffer: the persistent chains are split into ``n_classes``
        partitions (slot ``s`` holds class ``s mod n_classes``), each data row's negative is drawn
        from its class's partition and moves on ``E(x, y) = −f(x)[y]``.
""" + ContrastiveObjective.__doc__.split("Parameters\n    ----------\n", 1)[1]

    kind = "jem"
    takes_labels = True

    def __init__(self, *, cross_entropy_weight=1.0, class_conditional=False, **negatives):
        super().__init__(**negatives)
        self.cross_entropy_weight = non_negative_float(cross_entropy_weight, "cross_entropy_weight")
        self.class_conditional = flag(class_conditional, "class_conditional")

    def check(self, energy) -> None:
        super().check(energy)
        k = getattr(energy, "n_classes", None)
        if k is None:
            raise ValueError("objective='jem' needs a classifier energy: NetworkEnergy(net, input_shape, n_classes=K)")
        if self.class_conditional and self.buffer_size < k:
            raise ValueError(f"class_conditional needs buffer_size >= n_classes ({k}); got {self.buffer_size}")

    def settings(self, energy) -> dict:
        return {**super().settings(energy), "cross_entropy_weight": self.cross_entropy_weight,
                "class_conditional": int(self.class_conditional)}
