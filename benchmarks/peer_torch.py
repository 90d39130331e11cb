"""PyTorch eager, what most EBM code uses. Optional: imported only when torch is installed
(PyPI's default torch is a multi-gigabyte CUDA build)."""

import math

import torch

from workload import ALPHA, BUFFER, ETA, LR, REINIT, TRAIN_LANGEVIN_STEPS


class TorchPeer:
    name = "torch"

    def __init__(self, params, d, b, seed=0):
        torch.manual_seed(seed)
        h = params["layers.1.weight"].shape[0]
        self.net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.SiLU(), torch.nn.Linear(h, h), torch.nn.SiLU(),
                                       torch.nn.Linear(h, 1))
        with torch.no_grad():
            for i, layer in zip((0, 1, 2), (0, 2, 4)):
                self.net[layer].weight.copy_(torch.from_numpy(params[f"layers.{i}.weight"]))
                self.net[layer].bias.copy_(torch.from_numpy(params[f"layers.{i}.bias"]))
        self.opt = torch.optim.Adam(self.net.parameters(), lr=LR)
        self.buffer = torch.rand(BUFFER, d) * 2 - 1

    def _langevin(self, x, steps):
        for p in self.net.parameters():
            p.requires_grad_(False)
        sigma = math.sqrt(2 * ETA)
        for _ in range(steps):
            x = x.detach().requires_grad_(True)
            g, = torch.autograd.grad(self.net(x).sum(), x)
            x = x - ETA * g + sigma * torch.randn_like(x)
        for p in self.net.parameters():
            p.requires_grad_(True)
        return x.detach()

    def langevin(self, x, steps):
        return self._langevin(torch.from_numpy(x), steps)

    def train_step(self, pos):
        persistent_step(self.net, self.opt, self.buffer, torch.from_numpy(pos), self._langevin, TRAIN_LANGEVIN_STEPS,
                        REINIT, ALPHA)


def persistent_step(net, opt, buffer, pos, langevin, steps, reinit, alpha):
    """One maximum-likelihood step with persistent chains, in place: draw a chain per data row from
    `buffer` (a fraction `reinit` re-initialised from U(−1, 1)), run `langevin(neg, steps)`, write
    them back, and take an optimiser step on mean E(pos) − mean E(neg) + alpha·(E(pos)² + E(neg)²)."""
    b = pos.shape[0]
    idx = torch.randperm(buffer.shape[0])[:b]
    neg = buffer[idx]
    fresh = torch.rand(b) < reinit
    neg[fresh] = torch.rand(int(fresh.sum()), *neg.shape[1:]) * 2 - 1
    neg = langevin(neg, steps)
    buffer[idx] = neg
    ep, en = net(pos)[:, 0], net(neg)[:, 0]
    loss = ep.mean() - en.mean() + alpha * ((ep**2).mean() + (en**2).mean())
    opt.zero_grad()
    loss.backward()
    opt.step()
