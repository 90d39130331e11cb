"""Progress bars for long native calls: tqdm when installed, else a plain line on stderr."""

from __future__ import annotations

import sys


class _TextBar:
    def __init__(self, desc):
        self.desc, self.shown = desc, -1

    def update_to(self, fraction):
        percent = int(100 * fraction)
        if percent != self.shown:
            self.shown = percent
            sys.stderr.write(f"\r{self.desc}: {percent:3d}%")
            sys.stderr.flush()

    def close(self):
        self.update_to(1.0)
        sys.stderr.write("\n")


class _TqdmBar:
    def __init__(self, tqdm, desc):
        self.bar = tqdm(total=1000, desc=desc, unit="‰", leave=True)

    def update_to(self, fraction):
        self.bar.update(max(0, int(1000 * fraction) - self.bar.n))

    def close(self):
        self.update_to(1.0)
        self.bar.close()


def progress_bar(enabled: bool, desc: str):
    """A bar with ``update_to(fraction)`` and ``close()``, or ``None`` when not ``enabled``."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _TextBar(desc)
    return _TqdmBar(tqdm, desc)
