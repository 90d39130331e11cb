"""ebm_swift itself, through its public Python API."""

import ebm_swift
from workload import ALPHA, BUFFER, ETA, LR, REINIT, TRAIN_LANGEVIN_STEPS


class EbmSwiftPeer:
    name = "ebm_swift"

    def __init__(self, params, d, b, seed=0):
        self.model = ebm_swift.MLPEnergy(d, tuple(params["layers.1.weight"].shape), "swish", seed=0)
        self.model.set_parameters(params)
        self.trainer = ebm_swift.Trainer(self.model, lr=LR, n_steps=TRAIN_LANGEVIN_STEPS, step_size=ETA,
                                         buffer_size=BUFFER, reinit_prob=REINIT, init_range=(-1, 1), alpha=ALPHA,
                                         seed=seed)
        self.seed = seed

    def langevin(self, x, steps):
        self.seed += 1
        return ebm_swift.langevin(self.model, x, steps, ETA, seed=self.seed)

    def train_step(self, pos):
        self.trainer.step(pos)
