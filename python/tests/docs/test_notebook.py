"""examples/quickstart.ipynb runs top to bottom in a real Jupyter kernel without a cell error."""

import os

import pytest
from hangs import HANG_SECONDS

pytestmark = pytest.mark.slow  # a long run: `make test-fast` skips it

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_quickstart_notebook_executes():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(os.path.join(ROOT, "examples", "quickstart.ipynb"), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=HANG_SECONDS, kernel_name="python3",
                                     resources={"metadata": {"path": os.path.join(ROOT, "examples")}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3, "the toy plots, the digit grid and the Fashion-MNIST figure should be displayed"
    text = "".join(o.get("text", "") for o in outputs)
    assert "nats/point" in text and "log Z: AIS" in text
    assert "AUROC test images vs uniform noise" in text and "76,993 parameters" in text
