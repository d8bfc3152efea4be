"""scripts/walkthrough.ipynb: stored without outputs, and every cell runs, drawing its figures, in a kernel."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "scripts" / "walkthrough.ipynb"


def test_the_walkthrough_is_stored_without_outputs():
    import nbformat  # imported in the tests: a test process that runs neither does not pay for it

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert any('main(["check"' in c.source for c in nb.cells)  # the learner's view: xsq check on the question


def test_the_walkthrough_runs_and_draws(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import xsq\nprint('xsq from', xsq.__file__)"))
    # the kernel runs in tmp_path (where the notebook's files go) and imports this xsq, whatever PYTHONPATH says
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)  # a cell that fails raises CellExecutionError, naming it
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "first non-finite value at step 1167" in text and "update == lr x gradient, two samples: False" in text
    assert "With one sample: consistent" in text and "not_summed" in text and "exit status 1" in text
    assert f"xsq from {ROOT / 'xsq' / '__init__.py'}" in text
