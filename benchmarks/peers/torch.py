"""PyTorch, what most EBM code uses: eager, and `torch.compile` (inductor) with `compiled=True`.
PyPI's torch is its CUDA build, some gigabytes; its CPU kernels are what is measured."""

import torch


def network(spec, params):
    """`spec` (a `workloads.Network`) as a `torch.nn.Sequential` holding `params`."""
    build = {"linear": torch.nn.Linear, "silu": torch.nn.SiLU, "flatten": torch.nn.Flatten,
             "conv2d": lambda i, o, k, s, p: torch.nn.Conv2d(i, o, k, stride=s, padding=p)}
    net = torch.nn.Sequential(*(build[layer[0]](*layer[1:]) for layer in spec.layers))
    net.load_state_dict({k: torch.from_numpy(v) for k, v in params.items()})
    return net


def _setup(threads, seed):
    torch.set_num_threads(threads or 1)
    torch.manual_seed(seed)


class Sampler:
    def __init__(self, network_spec, params, langevin, training, threads=1, seed=0, compiled=False):
        _setup(threads, seed)
        self.net = network(network_spec, params)
        self.energy = torch.compile(self.net) if compiled else self.net
        self.settings, self.training = langevin, training
        if training is not None:
            self.opt = torch.optim.Adam(self.net.parameters(), lr=training.lr, betas=training.betas)
            lo, hi = training.init_range
            self.buffer = torch.rand(training.buffer_size, *network_spec.input_shape) * (hi - lo) + lo

    def _langevin(self, x, steps):
        s = self.settings
        for p in self.net.parameters():
            p.requires_grad_(False)
        for _ in range(steps):
            x = x.detach().requires_grad_(True)
            g, = torch.autograd.grad(self.energy(x).sum(), x)
            if s.grad_clip is not None:
                g = g.clamp(-s.grad_clip, s.grad_clip)
            x = x - s.step_size * g + s.noise * torch.randn_like(x)
            if s.clamp is not None:
                x = x.clamp(*s.clamp)
        for p in self.net.parameters():
            p.requires_grad_(True)
        return x.detach()

    def langevin(self, x, steps):
        return self._langevin(torch.from_numpy(x), steps)

    def train_step(self, pos):
        tr, pos = self.training, torch.from_numpy(pos)
        b = pos.shape[0]
        idx = torch.randperm(tr.buffer_size)[:b]
        neg = self.buffer[idx]
        fresh = torch.rand(b) < tr.reinit
        lo, hi = tr.init_range
        neg[fresh] = torch.rand(int(fresh.sum()), *neg.shape[1:]) * (hi - lo) + lo
        neg = self._langevin(neg, tr.n_steps)
        self.buffer[idx] = neg
        ep, en = self.energy(pos)[:, 0], self.energy(neg)[:, 0]
        loss = ep.mean() - en.mean() + tr.alpha * ((ep**2).mean() + (en**2).mean())
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


class ScoreTrainer:
    """Denoising (`dsm`) or sliced (`ssm`) score matching by double backward
    (`autograd.grad(create_graph=True)`; SSM's Hessian-vector product by a second one)."""

    def __init__(self, network_spec, params, objective, sigma, lr, threads=1, compiled=False):
        _setup(threads, 0)
        self.net = network(network_spec, params)
        self.energy = torch.compile(self.net) if compiled else self.net
        self.objective, self.sigma = objective, sigma
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr)

    def step(self, x):
        x = torch.from_numpy(x)
        if self.objective == "dsm":
            eps = torch.randn_like(x)
            xt = (x + self.sigma * eps).requires_grad_(True)
            g, = torch.autograd.grad(self.energy(xt).sum(), xt, create_graph=True)
            loss = 0.5 * ((eps - self.sigma * g) ** 2).flatten(1).sum(1).mean()
        else:
            x = x.requires_grad_(True)
            v = torch.randint(0, 2, x.shape, dtype=x.dtype) * 2 - 1
            g, = torch.autograd.grad(self.energy(x).sum(), x, create_graph=True)
            gv = (g * v).flatten(1).sum(1)
            hv, = torch.autograd.grad(gv.sum(), x, create_graph=True)
            loss = (-(hv * v).flatten(1).sum(1) + 0.5 * gv**2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def runtime(threads):
    return {"threads": threads, "torch": torch.__version__}
