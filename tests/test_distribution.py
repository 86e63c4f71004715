"""What students get (the grader wheel and the notebooks) holds no reference solution."""
import ast
import subprocess
import sys
import zipfile

import nbformat
import pytest

from conftest import ROOT


def solution_bodies():
    """Every function body of solutions/, as its non-blank code lines (docstrings dropped)."""
    out = {}
    for path in sorted((ROOT / "solutions").glob("*.py")):
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                body = node.body[1:] if isinstance(node.body[0], ast.Expr) else node.body
                code = [l.strip() for l in lines[body[0].lineno - 1:node.end_lineno]
                        if l.strip() and not l.strip().startswith("#")]
                out[f"{path.stem}.{node.name}"] = code
    return out


def contains_body(text, code):
    """True if the body's lines appear in order, consecutive (ignoring indentation and blank
    lines), in `text`."""
    lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
    n = len(code)
    return any(lines[i:i + n] == code for i in range(len(lines) - n + 1))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheels = list(out.glob("dl_fundamentals_grader-*.whl"))
    assert len(wheels) == 1
    return zipfile.ZipFile(wheels[0])


def test_the_wheel_ships_the_grader_and_no_solutions(wheel):
    names = wheel.namelist()
    assert "grader/cli.py" in names and "grader/checks/topics/batchnorm.py" in names
    assert not [n for n in names if n.startswith(("solutions/", "tests/", "examples/"))]
    assert not [n for n in names if "/solutions" in n]


def test_no_solution_body_is_in_the_wheel_or_the_notebooks(wheel):
    texts = {n: wheel.read(n).decode(errors="replace") for n in wheel.namelist()
             if n.endswith((".py", ".txt", ".json", ".ipynb"))}
    for path in sorted((ROOT / "assignments").glob("*.ipynb")):
        nb = nbformat.read(str(path), 4)
        texts[path.name] = "\n".join(c.source for c in nb.cells)
    bodies = solution_bodies()
    assert len(bodies) >= 25
    leaks = [(fn, where) for fn, code in bodies.items() for where, text in texts.items()
             if contains_body(text, code)]
    assert leaks == []


def test_the_leak_detector_detects_leaks():
    bodies = solution_bodies()
    text = "def softmax(z):\n    '''x'''\n" + "\n".join(
        "    " + line for line in bodies["cross_entropy.softmax"])
    assert contains_body(text, bodies["cross_entropy.softmax"])


DISTRIBUTION = "dl-fundamentals-grader"  # "grader" on PyPI is someone else's project


def test_one_distribution_name_everywhere():
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION
    assert project["scripts"] == {"grader": "grader.cli:main"}
    extras = project["optional-dependencies"]
    assert f"{DISTRIBUTION}[nbgrader]" in extras["test"]
    notebook = " ".join(extras["notebook"])
    assert "notebook" in notebook and "ipykernel" in notebook  # students can open assignments/
    workflow = (ROOT / "ci" / "course-validate.yml").read_text()
    installs = [line.strip() for line in workflow.splitlines() if "pip install" in line
                and "--upgrade pip" not in line]
    assert installs == [f'python -m pip install "{DISTRIBUTION}[nbgrader] @ $source"']
    readme = (ROOT / "README.md").read_text()
    assert DISTRIBUTION in readme and "pip install grader" not in readme
    assert "pip install -q -e '.[notebook]'" in readme


def test_nothing_in_the_repository_points_outside_it():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    offenders = []
    for name in tracked:
        path = ROOT / name
        if not path.is_file() or path.suffix not in (
                ".py", ".md", ".toml", ".yml", ".ipynb", "") or name.startswith("tests/corpus"):
            continue
        text = path.read_text(errors="replace")
        if "shared/" in text and name != "tests/test_distribution.py":
            offenders.append(name)
    assert offenders == []
    assert (ROOT / "docs" / "exercise-api.md").is_file()
