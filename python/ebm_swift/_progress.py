"""Progress bars for long native calls and training loops: tqdm when installed, else a plain
line on stderr."""

from __future__ import annotations

import sys
import time


class _TextBar:
    def __init__(self, desc, total, steps):
        self.desc, self.total, self.steps = desc, total, steps
        self.count, self.shown, self.last = 0, -1, 0.0

    def update_to(self, fraction):
        percent = int(100 * fraction)
        if percent != self.shown:
            self.shown = percent
            sys.stderr.write(f"\r{self.desc}: {percent:3d}%")
            sys.stderr.flush()

    def advance(self, record):
        self.count += 1
        now = time.monotonic()
        if now - self.last >= 0.5 or self.count == self.total:
            self.last = now
            sys.stderr.write(f"\r{self.desc}: {self.count}/{self.total} loss {record['loss']:+.4f} "
                             f"E(data) {record['e_data']:+.3f} E(model) {record['e_model']:+.3f}")
            sys.stderr.flush()

    def close(self):
        if not self.steps:
            self.update_to(1.0)
        sys.stderr.write("\n")


class _TqdmBar:
    def __init__(self, tqdm, desc, total, steps):
        self.steps = steps
        self.bar = tqdm(total=total if steps else 1000, desc=desc, leave=True)

    def update_to(self, fraction):
        self.bar.update(max(0, int(1000 * fraction) - self.bar.n))

    def advance(self, record):
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{record['loss']:+.4f}", e_data=f"{record['e_data']:+.3f}",
                             e_model=f"{record['e_model']:+.3f}", refresh=False)

    def close(self):
        if not self.steps:
            self.update_to(1.0)
        self.bar.close()


def progress_bar(enabled: bool, desc: str, total: int = 1000, steps: bool = False):
    """A bar, or ``None`` when not ``enabled``. Fraction bars (``steps=False``) take
    ``update_to(fraction)``; step bars take ``advance(record)`` once per training step."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _TextBar(desc, total, steps)
    return _TqdmBar(tqdm, desc, total, steps)
