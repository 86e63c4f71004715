"""Plotting that draws nothing: a stand-in for matplotlib while a submission is graded.

Nobody looks at a graded notebook's figures, yet building them was a third of a notebook's
grading, and importing matplotlib doubled the memory every fork of a student process copies.
So a plain notebook (one that imports nothing beyond the standard library, numpy, matplotlib and
IPython, see `suits`) gets this stand-in: `import matplotlib.pyplot as plt` succeeds, every plot
cell still runs line by line (its computations and their effects on the student's variables are
as written), and every plotting call returns `ANY`, an object that accepts whatever is done with
it. `subplots` and `subplot_mosaic` give Axes in the shape matplotlib gives them, so that loops
over them run as often as they would. A notebook that imports other libraries (which may use
matplotlib themselves) gets the real matplotlib.
"""
import ast
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import opcode
import os
import pkgutil
import re
import sys
import types

PACKAGES = ("matplotlib", "mpl_toolkits", "pylab")
# What a plain notebook may import: nothing else there can depend on the real matplotlib.
PLAIN = frozenset(sys.stdlib_module_names) | {"numpy", "matplotlib", "mpl_toolkits", "pylab",
                                              "IPython", "grader", "__future__"}
_UNPACK_SEQUENCE = opcode.opmap["UNPACK_SEQUENCE"]
_UNPACK_EX = opcode.opmap["UNPACK_EX"]
_EXTENDED_ARG = opcode.opmap["EXTENDED_ARG"]


def _dunder(name):
    """Protocol names (copy, pickle, numpy's) find nothing on the stand-in's objects."""
    return name[:2] == "__" == name[-2:]


class Anything:
    """What every plotting call gives: any attribute, call, item or arithmetic on it gives ANY
    again; it is true, 0 as a number, empty as a container, and unpacks into as many names as
    the code asks for (`fig, ax = ...`, `line, = ax.plot(...)`)."""

    __slots__ = ()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):  # np.exp(ANY), array * ANY
        return ANY

    def __array_function__(self, func, types, args, kwargs):
        """numpy's own function, ANY taken as one object (np.atleast_1d(ax) holds ax); ANY
        where that fails (np.linspace(ANY, ...))."""
        try:
            return func._implementation(*args, **kwargs)
        except Exception:
            return ANY

    def __array__(self, dtype=None, copy=None):  # one object, not an empty sequence
        import numpy as np
        out = np.empty((), dtype=object)
        out[()] = ANY
        return out

    def __init__(self, *args, **kwargs):  # also what `class C(ANY)` calls
        pass

    def __getattr__(self, name):
        if _dunder(name):
            raise AttributeError(name)
        return ANY

    def __setattr__(self, name, value):
        pass

    def __delattr__(self, name):
        pass

    def __call__(self, *args, **kwargs):
        return ANY

    def __getitem__(self, key):
        return ANY

    def __setitem__(self, key, value):
        pass

    def __delitem__(self, key):
        pass

    def __iter__(self):
        """As many items as the unpacking that asked for them wants; none for a loop."""
        caller = sys._getframe(1)
        code, at = caller.f_code.co_code, caller.f_lasti
        if at < 0 or code[at] not in (_UNPACK_SEQUENCE, _UNPACK_EX):
            return iter(())
        arg, before = code[at + 1], at - 2
        while before >= 0 and code[before] == _EXTENDED_ARG:
            arg |= code[before + 1] << (8 * (at - before) // 2)
            before -= 2
        if code[at] == _UNPACK_EX:  # a, *rest, b = ...: arg holds the counts before and after
            arg = (arg & 0xFF) + (arg >> 8)
        return iter((ANY,) * arg)

    def __len__(self):
        return 0

    def __contains__(self, item):
        return False

    def __bool__(self):
        return True

    def __float__(self):
        return 0.0

    def __int__(self):
        return 0

    __index__ = __int__

    def __complex__(self):
        return 0j

    def __format__(self, spec):
        try:
            return format(0.0, spec)
        except ValueError:
            return ""

    def __repr__(self):
        return "<plot>"

    def __instancecheck__(self, obj):  # isinstance(fig, matplotlib.figure.Figure)
        return isinstance(obj, Anything)

    def __subclasscheck__(self, cls):
        return isinstance(cls, Anything) or (isinstance(cls, type) and issubclass(cls, Anything))

    def __enter__(self):
        return ANY

    def __exit__(self, *exc):
        return False

    def __eq__(self, other):
        return self is other

    __hash__ = object.__hash__

    def __lt__(self, other):
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def _same(self, *args):
        return ANY

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = _same
    __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = _same
    __rpow__ = __matmul__ = __rmatmul__ = __and__ = __rand__ = __or__ = __ror__ = _same
    __xor__ = __rxor__ = __lshift__ = __rshift__ = __neg__ = __pos__ = __abs__ = _same
    __invert__ = __round__ = _same

    # What code may use as values: a Figure's Axes shaped as matplotlib shapes them, limits
    # as pairs of numbers, a histogram's counts and edges as numpy computes them.
    def subplots(self, nrows=1, ncols=1, *, squeeze=True, **kwargs):
        return axes_grid(nrows, ncols, squeeze)

    def subplot_mosaic(self, mosaic, **kwargs):
        return mosaic_axes(mosaic)

    def get_xlim(self, *args, **kwargs):
        return (0.0, 1.0)

    get_ylim = get_zlim = get_xbound = get_ybound = get_clim = xlim = ylim = get_xlim

    def axis(self, *args, **kwargs):
        return (0.0, 1.0, 0.0, 1.0)

    def hist(self, x, bins=None, range=None, density=False, weights=None, **kwargs):
        return histogram(x, bins, range, density, weights, kwargs)

    def get_cmap(self, name=None, *args, **kwargs):
        return Colormap(name)


ANY = Anything()


def histogram(x, bins, range, density, weights, options):
    """(counts, edges, ANY) of `hist` for one dataset, as numpy computes them (matplotlib's
    own way for a 1-D x); ANY for what this does not cover (several datasets, cumulative...)."""
    import numpy as np
    if options.keys() - {"histtype", "color", "alpha", "label", "edgecolor", "linewidth",
                         "align", "rwidth", "log", "orientation", "ec", "lw", "fc",
                         "facecolor", "zorder", "fill", "linestyle", "ls", "hatch"}:
        return ANY
    try:
        values = np.asarray(x, dtype=float)
        if values.ndim != 1:
            return ANY
        counts, edges = np.histogram(values, 10 if bins is None else bins, range=range,
                                     density=density, weights=weights)
        return counts.astype(float), edges, ANY
    except Exception:
        return ANY


class Colormap(Anything):
    """A colormap: called on an array, an RGBA row per value (black); on a number, one RGBA
    tuple. `.colors` has as many colours as matplotlib's map of that name."""

    __slots__ = ("name",)
    LISTED = {"tab10": 10, "tab20": 20, "tab20b": 20, "tab20c": 20, "Set1": 9, "Set2": 8,
              "Set3": 12, "Pastel1": 9, "Pastel2": 8, "Paired": 12, "Accent": 8, "Dark2": 8}

    def __init__(self, name=None, *args, **kwargs):
        object.__setattr__(self, "name", name if isinstance(name, str) else "viridis")

    def __call__(self, x=None, *args, **kwargs):
        import numpy as np
        if x is None:
            return ANY
        try:
            shape = () if isinstance(x, Anything) else np.shape(x)  # norm(v) is ANY
            if shape == ():
                return (0.0, 0.0, 0.0, 1.0)
            out = np.zeros(shape + (4,))
            out[..., 3] = 1.0
            return out
        except Exception:
            return ANY

    @property
    def N(self):
        return self.LISTED.get(self.name.removesuffix("_r"), 256)

    @property
    def colors(self):
        return ((0.0, 0.0, 0.0),) * self.N

    def resampled(self, n):
        return Colormap(self.name)


class Colormaps(Anything):
    """matplotlib.colormaps: a colormap for every name."""

    __slots__ = ()

    def __getitem__(self, name):
        return Colormap(name)

    def __call__(self, *args, **kwargs):  # pyplot.colormaps(): the names
        return sorted(Colormap.LISTED) + ["viridis", "plasma", "inferno", "magma", "gray"]


TABLEAU = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]


class Cycler(Anything):
    """rcParams["axes.prop_cycle"]: the ten default colours."""

    __slots__ = ()

    def by_key(self):
        return {"color": list(TABLEAU)}

    def __iter__(self):
        return iter([{"color": c} for c in TABLEAU])

    def __len__(self):
        return len(TABLEAU)


class RcParams(dict):
    """rcParams: what code sets is kept; the default colour cycle and figure size are there;
    anything else is ANY."""

    def __missing__(self, key):
        return ANY

    def __getattr__(self, name):
        if _dunder(name):
            raise AttributeError(name)
        return ANY


def rc_params():
    return RcParams({"axes.prop_cycle": Cycler(), "figure.figsize": [6.4, 4.8],
                     "figure.dpi": 100.0, "hist.bins": 10, "lines.linewidth": 1.5,
                     "font.size": 10.0})


def axes_grid(nrows, ncols, squeeze):
    """The Axes `subplots(nrows, ncols, squeeze=...)` returns: one, or an array of them."""
    import numpy as np
    grid = np.empty((nrows, ncols), dtype=object)
    grid.fill(ANY)
    if not squeeze:
        return grid
    return ANY if grid.size == 1 else grid.ravel() if 1 in grid.shape else grid


def mosaic_axes(mosaic):
    """{label: Axes} for a subplot_mosaic layout ("AB;CC" or nested lists of labels)."""
    if isinstance(mosaic, str):
        labels = [c for row in mosaic.replace(";", "\n").split("\n") for c in row.strip()]
    else:
        labels, todo = [], [mosaic]
        while todo:
            item = todo.pop()
            if isinstance(item, (list, tuple)) or type(item).__name__ == "ndarray":
                todo.extend(reversed(item))  # in reading order, as matplotlib gives them
            else:
                labels.append(item)
    return {label: ANY for label in labels if label != "."}


class Module(types.ModuleType):
    """A module of the stand-in: its submodules are stand-ins too, its warning and error
    classes are classes, the rest is ANY (in matplotlib.cm, a colormap)."""

    def __getattr__(self, name):
        if _dunder(name):
            if name == "__version__":
                return _real_version()
            raise AttributeError(name)
        full = f"{self.__name__}.{name}"
        if full in submodules():
            return importlib.import_module(full)
        if name.endswith(("Warning", "Error", "Exception")):
            return _class_named(name)
        if self.__name__ == "matplotlib.cm":
            return Colormap(name)
        return ANY


def _class_named(name, made={}):
    """A class for `category=matplotlib.MatplotlibDeprecationWarning` or `except ...Error`."""
    if name not in made:
        base = UserWarning if name.endswith("Warning") else Exception
        made[name] = type(name, (base,), {})
    return made[name]


def _subplots(nrows=1, ncols=1, *, squeeze=True, **kwargs):
    return ANY, axes_grid(nrows, ncols, squeeze)


def _subplot_mosaic(mosaic, **kwargs):
    return ANY, mosaic_axes(mosaic)


BASE_COLORS = {"b": (0, 0, 1), "g": (0, 0.5, 0), "r": (1, 0, 0), "c": (0, 0.75, 0.75),
               "m": (0.75, 0, 0.75), "y": (0.75, 0.75, 0), "k": (0, 0, 0), "w": (1, 1, 1)}
TABLEAU_NAMES = ["blue", "orange", "green", "red", "purple", "brown", "pink", "gray", "olive",
                 "cyan"]


class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of matplotlib, its submodules and mpl_toolkits give stand-in modules."""

    def __init__(self):
        self.rc = rc_params()  # one for matplotlib and pyplot, as in matplotlib

    def find_spec(self, name, path=None, target=None):
        if name.split(".", 1)[0] in PACKAGES:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = Module(spec.name)
        module.__path__ = []
        if spec.name in ("matplotlib", "matplotlib.pyplot", "pylab", "matplotlib.cm"):
            module.get_cmap = ANY.get_cmap
        if spec.name in ("matplotlib", "matplotlib.pyplot", "pylab"):
            module.rcParams, module.colormaps = self.rc, Colormaps()
        if spec.name in ("matplotlib.pyplot", "pylab"):
            module.subplots, module.subplot_mosaic = _subplots, _subplot_mosaic
            module.xlim = module.ylim = ANY.get_xlim
            module.axis, module.hist = ANY.axis, ANY.hist
            module.cm = importlib.import_module("matplotlib.cm")
        if spec.name == "matplotlib.colors":
            module.BASE_COLORS = dict(BASE_COLORS)
            module.TABLEAU_COLORS = {f"tab:{n}": c for n, c in zip(TABLEAU_NAMES, TABLEAU)}
        return module

    def exec_module(self, module):
        pass


def submodules():
    """Names of matplotlib's (and mpl_toolkits') modules, read off the disk without importing
    them (once, in the zygote): `matplotlib.cm` is then a module of the stand-in,
    `matplotlib.foo` is ANY."""
    global _submodules
    if _submodules is None:
        _submodules = _list_submodules()
    return _submodules


_submodules = None


def _list_submodules():
    names = set()
    for package in ("matplotlib", "mpl_toolkits"):
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        todo = [(package, list(spec.submodule_search_locations or []))] if spec else []
        while todo:  # pkgutil.walk_packages would import every subpackage to look inside
            prefix, path = todo.pop()
            for info in pkgutil.iter_modules(path, prefix + "."):
                names.add(info.name)
                if info.ispkg:
                    todo.append((info.name, [os.path.join(info.module_finder.path,
                                                          info.name.rsplit(".", 1)[1])]))
    return frozenset(names)


@functools.cache
def _real_version():
    try:
        from importlib.metadata import version
        return version("matplotlib")
    except Exception:
        return "0"


IMPORT_LINE = re.compile(r"^.*\bimport\b.*$", re.M)


def imports_of(source):
    """Top-level names of the modules `source` imports (None if it does not parse). Each line
    that mentions `import` is parsed alone (a cell's whole tree costs 50x more); the whole cell
    only where such a line is not a statement by itself (an import over several lines)."""
    names = set()
    for line in IMPORT_LINE.findall(source):
        try:
            names |= _imported(ast.parse(line.strip()))
        except (SyntaxError, ValueError):
            try:
                return _imported(ast.parse(source))
            except (SyntaxError, ValueError):
                return None
    return names


def _imported(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".", 1)[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".", 1)[0])
            if any(alias.name == "*" for alias in node.names):
                names.add("*")  # every name of pyplot: only the real one has them all
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") in MAGICS:
            for arg in node.args:  # the code of %time ... and %%capture cells
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names |= imports_of(arg.value) or {"*"}
    return names


MAGICS = ("run_cell_magic", "run_line_magic")
# Calls whose results are data, not drawings (an image read from a file or drawn into memory,
# the frames of an animation): code that makes them gets the real matplotlib.
NEEDS_REAL = re.compile(r"\b(imread|imsave|FuncAnimation|ArtistAnimation|animation|"
                        r"buffer_rgba|tostring_rgb|tostring_argb|print_to_buffer)\b")


def suits(sources):
    """Whether code made of these sources gets the stand-in: it imports only PLAIN modules
    (a cell that does not parse imports nothing: it fails before running), imports no `*`
    from matplotlib, and reads no image nor makes an animation with it. Decided in the grader
    (for the zygote's preload and for the load request: the same answer, remembered)."""
    return _suits(tuple(sources))


@functools.lru_cache(maxsize=8)
def _suits(sources):
    for source in sources:
        names = imports_of(source)
        if names and not names <= PLAIN or NEEDS_REAL.search(source):
            return False
    return True


def install_stand_in():
    """From now on, importing matplotlib in this process gives the stand-in. A real matplotlib
    the zygote preloaded (for an earlier submission that needed it) stays in memory, unused."""
    for name in list(sys.modules):
        if name.split(".", 1)[0] in PACKAGES:
            del sys.modules[name]
    submodules()  # read off the real package, before its imports lead here
    sys.meta_path.insert(0, Finder())


# -- the real matplotlib, for code that needs it ---------------------------------------------------

def quiet_plots():
    """Plot cells still run (their effects on the student's variables stay), but no figure is
    ever drawn, shown or saved: rendering is the costly part, and nobody looks. Done once in the
    zygote when it preloads pyplot (every student process then starts quiet), and again after
    a submission's cells only if they imported pyplot themselves. (Only for the real
    matplotlib: see install_stand_in.)"""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None or getattr(pyplot.show, "quiet", False):
        return
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.figure import Figure
    nothing = lambda *args, **kwargs: None  # noqa: E731
    nothing.quiet = True
    pyplot.show = pyplot.savefig = pyplot.draw = pyplot.pause = pyplot.tight_layout = nothing
    Figure.savefig = Figure.show = Figure.draw = Figure.tight_layout = nothing  # layout renders
    FigureCanvasBase.draw = FigureCanvasBase.draw_idle = FigureCanvasBase.print_figure = nothing
    from matplotlib.axes import Axes
    if hasattr(Axes, "_update_patch_limits"):  # autoscaling for a drawing that never happens
        Axes._update_patch_limits = nothing
    from matplotlib.axis import Axis
    if not getattr(Axis.set_clip_path, "lazy_ticks", False):
        Axis.set_clip_path = leaving_ticks_unmade(Axis.set_clip_path)
        Axis.set_tick_params = leaving_ticks_unmade(Axis.set_tick_params)


def leaving_ticks_unmade(method):
    """`method` of a matplotlib Axis, without making the ticks it would only restyle. Every Axes
    makes its first ticks this way (a quarter of a plot cell's time); ticks are otherwise made
    when a figure is drawn, and then take the style the Axis keeps for them."""
    def wrapper(self, *args, **kwargs):
        unmade = [name for name in ("majorTicks", "minorTicks") if name not in vars(self)]
        for name in unmade:
            setattr(self, name, [])
        try:
            return method(self, *args, **kwargs)
        finally:
            for name in unmade:
                if vars(self).get(name) == []:
                    delattr(self, name)
    wrapper.lazy_ticks = True
    return wrapper
