"""The example notebook in docs/ runs top to bottom (nbclient, no network), and an
Animation shows itself there as the player, with the GIF inside for viewers without scripts."""
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "watch_maxpool.ipynb"


def test_example_notebook_runs_and_shows_the_player(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[test]' (nbformat)")
    nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[test]' (nbclient)")
    pytest.importorskip("ipykernel", reason="pip install -e '.[test]' (ipykernel)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(html) == 1
    page = html[0]
    assert 'class="ndl-player"' in page and 'class="ndl-data"' in page
    assert '<img class="ndl-fallback" src="data:image/gif;base64,' in page
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "tour 1 / 3" in text and "maxpool.html" in text
    last = nb.cells[-1].outputs[-1]["data"]["text/plain"]
    assert "maxpool_tour_0001.png" in last and "maxpool_tour_0200.png" in last
