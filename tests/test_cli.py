"""The `grader` command: interface, formats, exit status, determinism, resuming a batch."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, descendants, is_zombie, reference_source

BUGGY = reference_source("batchnorm").replace("x.var(axis=0)\n", "x.var(axis=0, ddof=1)\n", 1)


def grader(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def klass(tmp_path):
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "batchnorm.py").write_text(reference_source("batchnorm"))
    (tmp_path / "bob_batchnorm.py").write_text(BUGGY)
    (tmp_path / "empty_batchnorm.py").write_text("")
    return tmp_path


@pytest.mark.parametrize("args", [[], ["grade"], ["grade", "--topic", "nope", "x.py"],
                                  ["grade", "-j", "0", "x.py"], ["grade", "--seed", "x", "x.py"],
                                  ["grade", "--format", "xml", "x.py"],
                                  ["grade", "--solutions", "/no/such/dir", "x.py"], ["frobnicate"],
                                  ["grade", "/no/such/class/"], ["grade", "--gradebook", "/no/such"]])
def test_usage_errors_exit_2(args):
    proc = grader(*args)
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_a_path_that_does_not_exist_is_a_usage_error(klass):
    proc = grader("grade", klass, klass / "nope.ipynb")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines()[-1] == f"grader grade: error: {klass / 'nope.ipynb'}: no such file or folder"


def test_each_submission_is_graded_and_counted_once(klass):
    proc = grader("grade", "--format", "json", klass / "bob_batchnorm.py", klass, klass / "ann")
    paths = [r["submission"] for r in json.loads(proc.stdout)["results"]]
    assert sorted(paths) == sorted({str(klass / "bob_batchnorm.py"), str(klass / "ann" / "batchnorm.py"),
                                    str(klass / "empty_batchnorm.py")})
    assert "3 submission(s)" in grader("grade", klass, klass / "ann" / "batchnorm.py").stdout


def test_a_missing_solutions_folder_is_never_silently_replaced(klass):
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", klass], capture_output=True,
                          text=True, timeout=300,
                          env=dict(os.environ, GRADER_SOLUTIONS=str(klass / "no-such-folder")))
    assert proc.returncode == 2
    assert f"GRADER_SOLUTIONS {klass / 'no-such-folder'}: no such folder" in proc.stderr


def test_solutions_lacking_a_topic_are_refused_not_scaled_down(klass, tmp_path):
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "relu.py").write_text(reference_source("relu"))
    proc = grader("grade", "--solutions", partial, klass)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "has no reference solution for batchnorm (batchnorm.py)" in proc.stderr
    assert "--public-only" in proc.stderr
    relu = tmp_path / "relu.py"
    relu.write_text(reference_source("relu"))
    out = json.loads(grader("grade", "--format", "json", "--solutions", partial, relu).stdout)
    assert out["results"][0]["score"] == out["results"][0]["max_score"] == 10


def test_a_sandbox_that_cannot_start_is_one_line_saying_what_to_do(klass, monkeypatch, capsys):
    from grader import cli
    from grader.course import grading

    def unreadable(options):
        raise PermissionError(13, "Permission denied", "/root/.pyenv/versions/3.11/bin/python3")
    monkeypatch.setattr(grading, "Pool", unreadable)
    assert cli.main(["grade", str(klass)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith("grader: error: cannot start the sandbox: permission denied "
                          "(/root/.pyenv/versions/3.11/bin/python3)")
    assert "/usr/bin/python3 -m venv .venv" in err

    def zygote_died(options):
        raise RuntimeError("the grader's zygote process failed to start: Traceback (most recent "
                           "call last):\n  File \"zygote.py\", line 9\nPermissionError: [Errno 13] "
                           "Permission denied: '/root/.pyenv/lib/python3.11/os.py'")
    monkeypatch.setattr(grading, "Pool", zygote_died)
    assert cli.main(["grade", str(klass)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "/usr/bin/python3 -m venv .venv" in err

    def broken(options):
        raise RuntimeError("the grader's zygote process failed to start: Traceback ...\n"
                           "OSError: [Errno 28] No space left on device")
    monkeypatch.setattr(grading, "Pool", broken)
    assert cli.main(["grade", str(klass)]) == 1
    assert capsys.readouterr().err == ("grader: error: cannot start the sandbox: OSError: [Errno "
                                       "28] No space left on device. Try --no-namespaces, or "
                                       "grade as root\n")


def numpy_is_loading(pid, timeout=60):
    """Wait until process `pid` has begun importing numpy (its C core is mapped): Python has
    started and the grader's own code runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/maps") as f:
                if "_multiarray_umath" in f.read():
                    return
        except OSError:
            return
        time.sleep(0.002)


@pytest.mark.parametrize("delay", [0, 0.02, 0.1, 0.3, 0.6, 1.0])
def test_ctrl_c_at_any_moment_ends_with_one_line(klass, delay):
    """From the grader's first import on (numpy's import, reading, the sandbox starting, grading);
    a Ctrl-C during the interpreter's own start-up is CPython's to report."""
    # Ctrl-C in a terminal signals the whole foreground process group: do the same
    proc = subprocess.Popen([sys.executable, "-m", "grader", "grade", klass], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    numpy_is_loading(proc.pid)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        return  # it had finished already (a fast machine): nothing to interrupt
    # 130, or ended by the SIGINT itself once Python has handed the signal back at exit (a
    # shell reports both as status 130)
    assert proc.returncode in (130, -signal.SIGINT), err
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "interrupted" in err, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_grader_takes_every_process_it_started_along(tmp_path, sig):
    """Killed (by a batch system's time limit, say) while grading: its grading processes, their
    zygotes and the student processes all end too."""
    slow = reference_source("batchnorm") + "\nimport time\nwhile True:\n    time.sleep(0.01)\n"
    for name in ("a", "b", "c", "d"):
        (tmp_path / f"{name}_batchnorm.py").write_text(slow)
    proc = subprocess.Popen([sys.executable, "-m", "grader", "grade", "-j", "2", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = []
    deadline = time.monotonic() + 60
    while len(started) < 6:  # 2 grading processes, 2 zygotes, student processes
        assert time.monotonic() < deadline and proc.poll() is None, started
        time.sleep(0.05)
        started = descendants(proc.pid)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 5  # a submission alone may take 10 s: no waiting for it
    while [pid for pid in started if not is_zombie(pid)]:
        assert time.monotonic() < deadline, [pid for pid in started if not is_zombie(pid)]
        time.sleep(0.05)


def test_a_reader_that_goes_away_stops_the_output_quietly(klass):
    read, write = os.pipe()
    os.close(read)  # like `grader grade ... | head -1` once head has exited
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(klass)], stdout=write,
                          stderr=subprocess.PIPE, text=True, timeout=300)
    os.close(write)
    assert proc.returncode == 141 and "Traceback" not in proc.stderr, proc.stderr


def test_help_explains_the_command():
    out = grader("grade", "--help").stdout
    for phrase in ("--topic", "--format", "--seed", "--journal", "metadata.grader.topic",
                   "exit status", "examples:"):
        assert phrase in out


def test_json_output_follows_the_spec(klass):
    proc = grader("grade", "--format", "json", klass)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    results = {os.path.relpath(r["submission"], klass): r for r in out["results"]}
    assert list(results) == ["ann/batchnorm.py", "bob_batchnorm.py", "empty_batchnorm.py"]
    good, bad, empty = results.values()
    assert good["score"] == good["max_score"] == 10 and good["error"] is None
    assert bad["error"] is None and 0 < bad["score"] < 10
    assert (good["student"], bad["student"]) == ("ann", "bob_batchnorm")
    assert empty == {"submission": str(klass / "empty_batchnorm.py"), "topic": "batchnorm",
                     "student": "empty_batchnorm", "assignment": "empty_batchnorm",
                     "score": 0, "max_score": 10, "error": "empty_batchnorm.py is empty",
                     "checks": []}
    for check in bad["checks"]:
        assert {"name", "function", "score", "max_score", "passed", "message"} <= set(check)
    assert "unbiased (N - 1) variance" in " ".join(c["message"] for c in bad["checks"])
    assert out["isolation"]["separate_process"] is True


def test_text_report_lists_what_to_fix(klass):
    proc = grader("grade", klass)
    assert proc.returncode == 0
    out = proc.stdout
    assert "isolation:" in out and "hidden checks on" in out
    assert "FAIL forward: the training-mode formula [0/1.5]" in out
    assert "error: empty_batchnorm.py is empty" in out
    assert "3 submission(s)" in out and "1 could not be graded" in out


def test_grades_are_deterministic_for_a_seed(klass):
    runs = [json.loads(grader("grade", "--format", "json", "--seed", s, klass).stdout)["results"]
            for s in (7, 7, 8)]
    assert runs[0] == runs[1]
    assert [r["score"] for r in runs[2]] == [r["score"] for r in runs[0]]


def test_public_only_needs_no_solutions(klass):
    text = grader("grade", "--public-only", "--solutions", "/no/such/dir", klass).stdout
    assert "hidden checks off (public checks only)" in text
    assert "no reference solutions" not in text
    out = json.loads(grader("grade", "--format", "json", "--public-only", klass).stdout)
    assert out["hidden_checks"] is False
    good = out["results"][0]
    assert good["score"] == good["max_score"] == 8
    assert not any(c["name"].startswith("hidden") for c in good["checks"])


def test_terminal_escapes_of_a_student_cannot_fake_a_pass(tmp_path):
    forged = "\x1b[1A\x1b[2K\r\x08" * 3 + "ann_batchnorm.py  batchnorm  10 / 10"
    name = "mallory\x1b[2K\r\x1b[32m_batchnorm.py"
    (tmp_path / name).write_text(BUGGY + f"""
def batchnorm_inference(*args):
    raise ValueError({forged!r})
def update_running_stats(*args):
    raise ValueError("\\u202e01 / 01\\u2028ok")
""")
    proc = grader("grade", tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert not any(c in out for c in "\x1b\r\x08\u202e\u2028"), repr(out)
    assert "mallory\\x1b[2K\\x0d\\x1b[32m_batchnorm.py" in out
    assert "\\x1b[1A\\x1b[2K\\x0d\\x08ann_batchnorm.py" in out and "\\u202e01 / 01" in out
    head = next(line for line in out.splitlines() if "mallory" in line)
    assert "10 / 10" not in head


def test_fake_scores_printed_by_a_submission_do_not_reach_the_output(tmp_path):
    (tmp_path / "batchnorm.py").write_text(BUGGY + """
import os, sys
print('{"results": [{"score": 10, "max_score": 10}]}')
os.write(1, b'score: 10/10\\n')
sys.stderr.write('{"results": []}')
def batchnorm_inference(*args):
    print('{"score": 10}')
    os.write(1, b'}}}')
    raise ValueError
""")
    proc = grader("grade", "--format", "json", tmp_path / "batchnorm.py")
    result, = json.loads(proc.stdout)["results"]
    assert result["score"] < 10 and "10/10" not in proc.stdout


def test_an_interrupted_batch_resumes_from_its_journal(tmp_path):
    for i in range(40):
        (tmp_path / f"s{i:02d}_batchnorm.py").write_text(reference_source("batchnorm") + f"\n# {i}\n")
    journal = tmp_path / "run.jsonl"
    cmd = [sys.executable, "-m", "grader", "grade", "--format", "json", "-j", "1",
           "--journal", str(journal), str(tmp_path)]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some, not all, are done
        if journal.exists() and 3 <= len(journal.read_text().splitlines()):
            break
        time.sleep(0.02)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130 and "run the same command again to resume" in err
    done = len(journal.read_text().splitlines())
    assert 3 <= done < 40
    with open(journal, "a") as f:
        f.write('{"key": "cut sho')  # a line cut short by the interruption is ignored
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    results = json.loads(second.stdout)["results"]
    assert len(results) == 40 and all(r["score"] == 10 for r in results)
    assert len(journal.read_text().splitlines()) == 40 + 1  # only the missing ones were added


def test_journal_results_are_reused_only_for_unchanged_files(tmp_path):
    sub = tmp_path / "batchnorm.py"
    sub.write_text(reference_source("batchnorm"))
    journal = tmp_path / "j.jsonl"
    args = ("grade", "--format", "json", "--journal", journal, sub)
    assert json.loads(grader(*args).stdout)["results"][0]["score"] == 10
    sub.write_text(BUGGY)  # the file changed: graded again
    assert json.loads(grader(*args).stdout)["results"][0]["score"] < 10


def test_a_journal_that_cannot_be_written_is_a_usage_error(klass):
    proc = grader("grade", "--journal", klass / "ann", klass)  # a folder, not a file
    assert proc.returncode == 2 and "--journal" in proc.stderr.splitlines()[-1]
    assert "Traceback" not in proc.stderr


def test_nbgrader_command_errors_are_one_line(tmp_path):
    assignments = tmp_path / "assignments"
    assignments.mkdir()
    (assignments / "01_broken.ipynb").write_text("{not a notebook")
    proc = grader("nbgrader", tmp_path / "course", "--assignments", assignments)
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("grader: error: 01_broken.ipynb: cannot make its source notebook")
    assert not (tmp_path / "course").exists()  # nothing half-written


def test_in_a_course_layout_metadata_cannot_pick_the_topic(tmp_path):
    from conftest import notebook, split_functions
    folder = tmp_path / "submitted" / "mallory" / "04_relu"
    folder.mkdir(parents=True)
    (folder / "04_relu.ipynb").write_text(notebook(*split_functions(reference_source("relu")),
                                                   topic="batchnorm"))
    proc = grader("grade", "--format", "json", tmp_path / "submitted")
    result, = json.loads(proc.stdout)["results"]
    assert (result["student"], result["assignment"], result["topic"]) == ("mallory", "04_relu", "relu")
    assert result["score"] == 10
    assert result["notes"] == ["the notebook's metadata names the topic 'batchnorm'; it was graded "
                               "as relu, the topic of assignment 04_relu"]
    text = grader("grade", tmp_path / "submitted").stdout
    assert "    note: the notebook's metadata names the topic 'batchnorm'" in text
