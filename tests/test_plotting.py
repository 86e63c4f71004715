"""The matplotlib stand-in of student processes (grader.sandbox.plotting): plot cells run as
written and leave the same variables behind, without matplotlib drawing or even loading."""
import copy
import pickle
import re

import numpy as np
import pytest

from conftest import ROOT, filled_notebook, reference_source
from grader.course import submissions
from grader.sandbox import plotting
from grader.sandbox.plotting import ANY, Anything, axes_grid, mosaic_axes
from grader.sandbox.process import Limits, Sandbox
from grader.sandbox.student import Student

LIMITS = Limits(call_seconds=5, cell_seconds=5, submission_seconds=60, memory_mb=512)
PLOTTING = [p for p in sorted((ROOT / "assignments").glob("0*.ipynb"))
            if "plt.subplots" in p.read_text()]  # the released notebooks that plot
GRADED_CELL = re.compile(r"^(check|test)\(", re.M)  # self-check and autograded test cells


def test_anything_unpacks_into_as_many_names_as_asked():
    fig, ax = ANY
    line, = ANY
    n, bins, patches = ANY
    first, *middle, last = ANY
    *rest, = ANY
    assert all(x is ANY for x in (fig, ax, line, n, bins, patches, first, last))
    assert middle == [] and rest == []
    assert list(ANY) == [] and [x for x in ANY] == []


def test_anything_takes_what_plotting_code_does_with_return_values():
    ax = ANY.plot([1, 2], [3, 4])[0].axes
    ax.xaxis.label.color = "red"
    ANY.rcParams["lines.linewidth"] = 2
    del ANY.rcParams["x"]
    with ANY.style.context("ggplot") as style:
        assert style is ANY
    top = ax.get_offset()
    assert (np.arange(3) * top) is ANY and (top * np.arange(3)) is ANY
    assert (1 + top) is ANY and ("x" + top) is ANY and -top is ANY and abs(top) is ANY
    assert f"{top:.2f}" == "0.00" and f"{top}" == "0.0" and f"{top:>5s}" == ""
    assert float(top) == 0.0 and int(top) == 0 and range(10)[top] == 0
    assert bool(ax) and len(ax) == 0 and 3 not in ax
    assert not (top < 1) and not (top > 1) and top == top and top != 1
    assert isinstance(ax, ANY.figure.Figure) and not isinstance(1.0, ANY)
    assert np.exp(top) is ANY and np.linspace(top, 1, 5) is ANY
    assert [a for a in np.atleast_1d(ax)] == [ax]  # one Axes, not an empty sequence

    class Mine(ANY.axes.Axes):
        pass
    assert Mine().anything() is ANY
    assert copy.deepcopy(ax) is not None and pickle.loads(pickle.dumps(ax)) is not None


def test_values_plotting_code_computes_with_are_real():
    """Limits are pairs of numbers, a histogram's counts and edges are numpy's, colormaps give
    an RGBA row per value, the colour cycle has its ten colours."""
    low, high = ANY.get_xlim()
    assert max(ANY.get_ylim()) == high and np.linspace(*ANY.get_xlim(), 3).shape == (3,)
    data = np.random.default_rng(0).normal(size=500)
    for kwargs in ({}, {"bins": 30, "density": True}, {"bins": "auto", "range": (-1, 1)},
                   {"bins": np.linspace(-3, 3, 7), "weights": np.ones(500), "alpha": 0.5}):
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib import pyplot
        real_counts, real_edges, _ = pyplot.hist(data, **kwargs)
        pyplot.close("all")
        counts, edges, patches = ANY.hist(data, **kwargs)
        np.testing.assert_allclose(counts, real_counts)
        np.testing.assert_allclose(edges, real_edges)
    assert ANY.hist(data, cumulative=True) is ANY  # not covered: ANY, which unpacks as asked
    cmap = plotting.Colormap("viridis")
    assert cmap(np.linspace(0, 1, 5)).shape == (5, 4) and len(cmap(0.5)) == 4
    assert len(plotting.Colormap("tab10").colors) == 10 and plotting.Colormap("Set1").N == 9
    rc = plotting.rc_params()
    colors = rc["axes.prop_cycle"].by_key()["color"]
    assert len(colors) == 10 and colors[3 % len(colors)] == colors[3]
    assert len(list(rc["axes.prop_cycle"])) == 10 and rc["no.such.key"] is ANY


@pytest.mark.parametrize("nrows, ncols, squeeze", [
    (1, 1, True), (1, 3, True), (3, 1, True), (2, 2, True), (1, 1, False), (1, 2, False),
    (2, 3, False)])
def test_subplots_are_shaped_as_matplotlib_shapes_them(nrows, ncols, squeeze):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot
    fig, real = pyplot.subplots(nrows, ncols, squeeze=squeeze)
    pyplot.close(fig)
    ours = axes_grid(nrows, ncols, squeeze)
    assert isinstance(ours, np.ndarray) == isinstance(real, np.ndarray)
    assert (ours.shape if isinstance(ours, np.ndarray) else ()) == np.shape(real)


@pytest.mark.parametrize("mosaic", ["AB;CC", "A.\nBB", [["left", "right"], ["low", "low"]]])
def test_a_mosaic_has_the_labels_matplotlib_gives(mosaic):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot
    fig, real = pyplot.subplot_mosaic(mosaic)
    pyplot.close(fig)
    assert sorted(mosaic_axes(mosaic)) == sorted(real)


def test_only_plain_code_gets_the_stand_in():
    assert plotting.suits(["import numpy as np\nimport matplotlib.pyplot as plt",
                           "from matplotlib import cm\nimport math, time",
                           "from IPython.display import display", "def f(:"])
    assert not plotting.suits(["import numpy as np", "import seaborn as sns"])
    assert not plotting.suits(["from pandas.plotting import scatter_matrix"])
    assert not plotting.suits(["def f():\n    import scipy.signal\n"])
    assert not plotting.suits(["x = 1; import seaborn"])
    assert not plotting.suits(["from matplotlib import (pyplot,\n    cm)\nimport pandas as pd"])
    assert not plotting.suits(["try:\n    import torch\nexcept ImportError:\n    pass"])
    assert not plotting.suits(["from matplotlib.pyplot import *"])  # every name of pyplot
    assert not plotting.suits(["get_ipython().run_cell_magic('time', '', 'import pandas\\n')"])
    assert not plotting.suits(["import matplotlib.pyplot as plt\nimage = plt.imread('a.png')"])
    assert not plotting.suits(["from matplotlib.animation import FuncAnimation"])


def probe_cell():
    """probe(): the names (as bytes) and values of the globals that are numbers or arrays, and
    whether pyplot is the stand-in and the real matplotlib was never loaded (1.0 or 0.0)."""
    return submissions.Cell("probe", (
        "def probe():\n"
        "    import sys\n"
        "    names = sorted(k for k, v in globals().items() if not k.startswith('_')\n"
        "                   and (type(v) is float or isinstance(v, np.ndarray)\n"
        "                        and v.dtype.kind in 'biufc'))\n"
        "    pyplot = sys.modules.get('matplotlib.pyplot')\n"
        "    return [[np.frombuffer(k.encode(), dtype=np.uint8) for k in names],\n"
        "            [globals()[k] for k in names],\n"
        "            float(type(pyplot).__module__ == 'grader.sandbox.plotting'),\n"
        "            float('matplotlib.figure' not in sys.modules)]\n"))


def run_in_process(cells):
    """The cells run in this process with the real matplotlib (Agg), the global generators
    seeded as a student process seeds them: the numbers and arrays they leave behind."""
    import random
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot
    np.random.seed(0)
    random.seed(0)
    namespace = {"__name__": "__main__"}
    for cell in cells:
        exec(compile(cell.source, cell.file, "exec"), namespace)
    pyplot.close("all")
    return {k: v for k, v in namespace.items() if not k.startswith("_") and (
        type(v) is float or isinstance(v, np.ndarray) and v.dtype.kind in "biufc")}


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(LIMITS)
    yield box
    box.close()


def test_most_released_notebooks_plot():
    assert len(PLOTTING) >= 6


@pytest.mark.parametrize("path", PLOTTING, ids=lambda p: p.stem)
def test_plot_cells_leave_the_variables_they_leave_with_real_matplotlib(sandbox, path, tmp_path):
    """Each released notebook, solved: in the student process its plot cells run against the
    stand-in (the real matplotlib is never imported) and every number and array the cells
    leave behind is what they leave with the real matplotlib."""
    topic = path.stem[3:]
    nb = tmp_path / path.name
    nb.write_text(filled_notebook(path, reference_source(topic)))
    sub = submissions.load(str(nb))
    cells = [c for c in sub.cells if not GRADED_CELL.search(c.source)]
    assert sub.preload == set()
    expected = run_in_process(cells)
    again = run_in_process(cells)
    timings = {k for k in expected if not np.array_equal(expected[k], again[k])}  # clocks
    names = sorted(expected)
    assert len(names) >= 3
    student = Student(lambda: sandbox.start(0, sub.preload), cells + [probe_cell()], sub.module,
                      limits=sandbox.limits)
    try:
        got_names, got, stand_in, real_unloaded = student.call("probe")
    finally:
        student.close()
    assert student.load_errors == []
    assert stand_in == 1.0 and real_unloaded == 1.0
    assert [n.tobytes().decode() for n in got_names] == names
    for name, value in zip(names, got):
        if name in timings:
            continue
        # the same up to round-off: BLAS runs on one thread there and on several here
        np.testing.assert_allclose(value, expected[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_a_plot_cell_runs_to_its_end_and_loops_over_axes_run(sandbox):
    """Whatever a cell does with what plotting returns, the statements after it still run, and
    a loop over subplots' Axes runs once per Axes."""
    sub = submissions.Submission(path="p.py", topic="relu", cells=[submissions.Cell("p.py", """
import numpy as np
import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib import cm
from mpl_toolkits.mplot3d import Axes3D
mpl.rcParams["lines.linewidth"] = 2
fig, axes = plt.subplots(2, 3, figsize=(9, 6))
visits = 0
for ax in axes.flat:
    line, = ax.plot([0, 1], [1, 0])
    counts, edges, _ = ax.hist(np.ones(5))
    ax.set_title(f"{ax.get_ylim()[1]:.1f}")
    visits += 1
fig2, grid = plt.subplot_mosaic("AB;CC")
colors = cm.viridis(np.linspace(0, 1, 4))
low, high = plt.gca().get_xlim()
plt.tight_layout()
plt.savefig("figure.png")
plt.show()
def probe():
    import os
    return [visits, np.frombuffer("".join(sorted(grid)).encode(), dtype=np.uint8),
            os.path.exists("figure.png")]
""")])
    assert sub.preload == set()
    student = Student(lambda: sandbox.start(0, sub.preload), sub.cells, sub.module,
                      limits=sandbox.limits)
    try:
        visits, mosaic, saved = student.call("probe")
    finally:
        student.close()
    assert student.load_errors == []
    assert visits == 6 and mosaic.tobytes() == b"ABC" and not saved
    assert student.functions == ["display", "get_ipython", "probe"]  # no Axes, no figures
