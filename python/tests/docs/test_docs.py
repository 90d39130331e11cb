"""The documentation: the Sphinx site builds with no warning, and its code blocks run.

Every ```python block of a page in ``docs/`` runs, in order, in one namespace per page (a page is
one session, as a reader would type it), in a temporary directory. So does the README's
quickstart. A block that raises or asserts fails the test.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hangs import HANG_SECONDS

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
PAGES = sorted(p.name for p in DOCS.glob("*.md"))


def python_blocks(path):
    return re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.M | re.S)


def run_blocks(blocks, tmp_path, monkeypatch, source):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{source}, block {i + 1}", "exec"), namespace)
        except Exception as exc:  # name the block in the failure
            raise AssertionError(f"{source}, block {i + 1} failed: {exc!r}\n{block}") from exc


# scale.md starts a Dask cluster and Ray: slow to start, not to run.
@pytest.mark.parametrize("page", [pytest.param(p, marks=pytest.mark.slow) if p == "scale.md" else p for p in PAGES])
def test_code_blocks_of_the_docs_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(DOCS / page)
    if page in ("sampling.md", "training.md"):
        assert blocks, f"{page} should show code"
    run_blocks(blocks, tmp_path, monkeypatch, page)


def test_the_readme_quickstart_runs(tmp_path, monkeypatch):
    blocks = python_blocks(ROOT / "README.md")
    run_blocks(blocks[:1], tmp_path, monkeypatch, "README.md")


def test_docs_build_without_warnings(tmp_path):
    result = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html",
                             str(DOCS), str(tmp_path / "html")], capture_output=True, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=HANG_SECONDS)
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "html" / "api" / "training.html").exists()
