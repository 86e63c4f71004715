"""The README a newcomer reads first: title, one paragraph, the two set-up commands that CI runs
as written, then how students open the notebooks."""
import os
import re
import shlex
import subprocess

from conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_title_paragraph_then_the_two_commands_then_students():
    blocks = README.split("\n\n")
    assert blocks[0].startswith("# ") and "\n" not in blocks[0]
    assert not blocks[1].startswith(("#", "```", "    "))  # one paragraph
    fence = blocks[2].splitlines()
    assert fence[0].startswith("```") and fence[-1] == "```" and len(fence) == 4
    demo, tests = fence[1:3]
    assert demo.endswith("grader grade examples/") and "pip install" in demo
    assert tests.endswith("python -m pytest -q") and "'.[test]'" in tests
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings[0] == "For students"
    students = README.split("## For students")[1].split("\n## ")[0]
    assert "'.[notebook]'" in students and "jupyter notebook assignments/" in students
    assert "docs/exercise-api.md" in students
    assert re.search(r"about \d+(-\d+)?\s+minutes", blocks[3])


def test_ci_runs_the_readme_commands_as_written():
    proc = subprocess.run([str(ROOT / ".ci" / "run"), "--commands"], capture_output=True,
                          text=True, check=True)
    fence = README.split("```")[1].splitlines()[1:]
    assert proc.stdout.splitlines() == fence
    assert "PATH=" not in (ROOT / ".ci" / "run").read_text()  # no help the README does not give


def test_the_commands_name_an_interpreter_every_user_can_read():
    for command in README.split("```")[1].splitlines()[1:]:
        interpreter = shlex.split(command)[0]
        assert os.path.isabs(interpreter), command
        if os.path.exists(interpreter):  # on this machine: readable and runnable by others
            path = os.path.realpath(interpreter)
            assert os.stat(path).st_mode & 0o005 == 0o005
            folder = os.path.dirname(path)
            while folder != "/":
                assert os.stat(folder).st_mode & 0o001, folder
                folder = os.path.dirname(folder)
