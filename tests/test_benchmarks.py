"""The benchmark scripts still run (their figures are not judged here: they are for people)."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_class_benchmark_runs_end_to_end():
    """Two students (one buggy) through every part but nbgrader: the class through `grader
    grade`, the floor, and the sample with and without the sandbox. A part that breaks (as the
    floor's did once, unnoticed) fails here; so does a buggy notebook with full marks or a score
    that differs between the sandbox and in-process, which the script reports as warnings."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "class.py"), "--students", "2", "--buggy",
         "0.5", "--runs", "1", "--floor-students", "2", "--nbgrader-sample", "0", "--seed", "1"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "warning:" not in out, out
    for part in ("run 1 of 1:", "speed reference just before", "floor (16 notebooks)",
                 "with the sandbox (-j 1", "target 300 x 8 notebooks"):
        assert part in out, (part, out)
    assert "1 students buggy" in out, out
