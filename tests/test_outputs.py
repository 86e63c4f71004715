"""Feedback pages, the class report and the CSV built from results (no grading here: the
results are written out, so each rule is tested on exactly the case it is about)."""
import csv
import html.parser
import io

import pytest

from grader.course import classreport, feedback, roster, scoresheet


def check(name, passed, score, top, message="", function="f", hidden=False):
    c = {"name": name, "function": function, "score": score, "max_score": top,
         "passed": passed, "message": message}
    if hidden:
        c["hidden"] = True
    return c


def result(student, path, topic, checks=(), error=None, top=None, **extra):
    checks = list(checks)
    return {"submission": path, "student": student, "assignment": path.rsplit("/", 1)[-1],
            "topic": topic, "score": 0 if error else sum(c["score"] for c in checks),
            "max_score": top if top is not None else sum(c["max_score"] for c in checks),
            "error": error, "checks": checks, **extra}


EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture
def results():
    return [
        result("ann", "c/ann/relu.py", "relu", [check("forward: max", True, 2, 2),
                                                check("hidden: fresh", True, 1, 1, hidden=True)]),
        result("bob", "c/bob/relu.py", "relu", [
            check("forward: max", False, 0, 2, "relu_forward(x) with x of shape (3, 4): it uses "
                  "x >= 0 where the spec says x > 0: relu'(0) is 0", "relu_forward"),
            check("hidden: fresh", False, 0, 1, "relu_forward on random x of shape (5, 2): it "
                  "uses x >= 0 where the spec says x > 0: relu'(0) is 0", "relu_forward",
                  hidden=True)]),
        result("bob", "c/bob/06_batchnorm.ipynb", "batchnorm", error="06_batchnorm.ipynb is "
               "empty", top=10.0),
        # two files for one topic: the better one counts
        result("cat", "c/cat/a_relu.py", "relu", [check("forward: max", False, 0, 2, "wrong"),
                                                  check("hidden: fresh", True, 1, 1, hidden=True)]),
        result("cat", "c/cat/b_relu.py", "relu", [check("forward: max", True, 2, 2),
                                                  check("hidden: fresh", False, 0, 1, "x", hidden=True)]),
        result(EVIL, f"c/{EVIL}/relu.py", "relu", [
            check("forward: max", False, 0, 2, f"relu_forward raised ValueError: {EVIL}")],
            load_errors=[f"NameError: name '{EVIL}' is not defined (cell 1, line 1)"]),
        result("=cmd", "c/=cmd/notes.py", None, error="notes.py names no topic", top=0.0),
    ]


class Elements(html.parser.HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]

    def handle_data(self, data):
        self.text.append(data)


def assert_inert(page):
    """No element or attribute a student string could have smuggled in; no script, no
    external resource."""
    parsed = Elements(page)
    assert not {"img", "script", "iframe", "object", "link", "a"} & set(parsed.tags)
    assert not [a for a in parsed.attrs if a.startswith("on")]
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "src=" not in page.replace("src=x", "")
    return "".join(parsed.text)


def test_the_counted_result_is_the_best_and_totals_add_the_counted_ones(results):
    students = roster.by_student(results)
    assert list(students) == sorted(students)
    cat = students["cat"]["relu"]
    assert cat[0]["submission"] == "c/cat/b_relu.py" and len(cat) == 2
    assert roster.total(students["cat"]) == (2, 3)
    assert roster.total(students["bob"]) == (0, 13)  # relu 0/3 + an empty batchnorm 0/10
    assert list(students["bob"]) == ["relu", "batchnorm"]  # the course's topic order


def test_safe_names_are_plain_distinct_and_never_climb():
    names = roster.safe_names(["..", "a/b", "a_b", ".hidden", EVIL, ""])
    assert all(n and not n.startswith(".") and "/" not in n for n in names.values())
    assert len(set(n.lower() for n in names.values())) == len(names)


def test_csv_has_one_row_per_student_a_column_per_topic_and_the_total(results):
    rows = list(csv.reader(io.StringIO(scoresheet.as_csv(results))))
    assert rows[0] == ["student", "relu", "batchnorm", "total"]
    table = {r[0]: r[1:] for r in rows[1:]}
    assert table["ann"] == ["3", "", "3"]
    assert table["bob"] == ["0", "0", "0"]
    assert table["cat"] == ["2", "", "2"]
    assert table["'=cmd"] == ["", "", "0"]  # a spreadsheet must not run it as a formula
    assert len(rows) == 1 + 5


def test_feedback_pages_show_the_score_checks_and_messages_and_nothing_else(results, tmp_path):
    written = feedback.write(str(tmp_path), results)
    assert len(written) == 2 * 6
    page = (tmp_path / "bob" / "relu.html").read_text()
    text = assert_inert(page)
    assert "Score: 0 / 3" in text and "forward: max" in text
    assert "it uses x >= 0 where the spec says x > 0" in text
    md = (tmp_path / "bob" / "relu.md").read_text()
    assert "**Score: 0 / 3**" in md and "x >= 0 where the spec says x > 0" in md
    # an ungradable file gets a page that says why
    assert "06_batchnorm.ipynb is empty" in (tmp_path / "bob" / "batchnorm.html").read_text()
    # two files for one topic: the best counts, both are shown
    text = assert_inert((tmp_path / "cat" / "relu.html").read_text())
    assert "Score: 2 / 3 (the best of 2 files" in text and "a_relu.py" in text
    assert text.index("b_relu.py") < text.index("a_relu.py")


def test_feedback_shows_no_field_beyond_name_points_and_message(results, tmp_path):
    secret = result("dan", "c/dan/relu.py", "relu", [dict(
        check("hidden: fresh", False, 0, 1, "wrong sign", hidden=True),
        inputs="SECRET-INPUT-1234", expected="SECRET-EXPECTED-5678")], seed_used="SECRET-SEED")
    feedback.write(str(tmp_path), [secret])
    for page in (tmp_path / "dan").iterdir():
        text = page.read_text()
        assert "wrong sign" in text and "SECRET" not in text


def test_student_strings_are_escaped_in_html_and_markdown(results, tmp_path):
    feedback.write(str(tmp_path), results)
    folder = roster.safe_name(EVIL)
    page = (tmp_path / folder / "relu.html").read_text()
    text = assert_inert(page)
    assert EVIL in text  # shown as text, never as markup
    assert f"NameError: name '{EVIL}'" in text
    md = (tmp_path / folder / "relu.md").read_text()
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)>" in md
    report = classreport.as_html(results, None, {"seed": 0, "hidden_checks": True})
    assert EVIL in assert_inert(report)


def test_the_report_groups_mistakes_by_diagnosis_across_inputs(results):
    found = classreport.mistakes(results)
    top = found[0]
    # bob's public and hidden checks failed on different inputs with the same diagnosis
    assert top["text"].startswith("it uses x >= 0 where the spec says x > 0")
    assert top["students"] == ["bob"] and top["checks"] == 2
    assert classreport.diagnosis("dx: got 1.5, expected 2")[1] == "dx: got 1.5, expected 2"
    assert classreport.diagnosis("m with momentum 0.8: the weights are swapped: new = a. More.") \
        == ("the weights are swapped: new = a.", "the weights are swapped: new = a.")
    same = {classreport.diagnosis(f"x of shape ({n}, 3): it is exactly {n} times too large")[0]
            for n in (4, 6)}
    assert len(same) == 1


def test_grader_errors_are_not_mistakes_but_are_listed(results):
    broken = result("eve", "c/eve/relu.py", "relu", [dict(
        check("forward: max", False, 0, 2, "grader error (not a problem with your code): boom"),
        grader_error=True)])
    assert classreport.mistakes([broken]) == []
    text = assert_inert(classreport.as_html([broken]))
    assert "Errors in the grader itself" in text and "boom" in text


def test_the_report_has_distributions_ungradable_files_and_every_protection(results):
    protections = {"separate_process": True, "uid": "dropped to uid 63900",
                   "limits": {"memory_bytes": 1 << 30, "processes": 8},
                   "cgroup": {"memory_max": "512M", "pids_max": 16}}  # a key added later
    page = classreport.as_html(results, protections, {"seed": 3, "hidden_checks": True})
    text = assert_inert(page)
    assert page.count("<svg") == 2  # relu, batchnorm
    assert "ReLU: students per score band (4 students)" in text
    for line in ("06_batchnorm.ipynb is empty", "notes.py names no topic",
                 "dropped to uid 63900", "limits.memory_bytes", "cgroup.memory_max", "512M",
                 "cgroup.pids_max", "seed 3"):
        assert line in text, line


def test_histogram_bars_count_every_student():
    svg = classreport.histogram("relu", [(0, 10), (10, 10), (9.99, 10), (5, 10)])
    assert svg.count("<rect") == 10
    assert "0-10%: 1<" in svg and "90-100%: 2<" in svg and "50-60%: 1<" in svg


def test_markdown_escapes_only_what_would_be_markup():
    assert feedback.md("7.5 / 10") == "7.5 / 10"
    assert feedback.md("x > 0 and a_b") == "x > 0 and a\\_b"
    assert feedback.md("- item\n# title") == "- item  \n\\# title"  # a later line starts a line
    assert feedback.md("- item\n3. x", block=True) == "\\- item  \n3\\. x"
    assert feedback.md("<b>&") == "&lt;b>&amp;"


def test_names_and_messages_that_are_not_valid_text_never_stop_the_files(tmp_path):
    # a file name with bytes that are not UTF-8 (Python keeps them as lone surrogates), and a
    # message carrying a lone surrogate from a student's exception
    odd = "p\udcff_relu"
    results = [result(odd, f"c/{odd}.py", "relu",
                      [check("forward: max", False, 0, 2, "raised ValueError: \ud800")])]
    feedback.write(str(tmp_path / "fb"), results)
    classreport.write(str(tmp_path / "class.html"), results, {}, {"seed": 0})
    scoresheet.write(str(tmp_path / "scores.csv"), results)
    assert "\\udcff" in (tmp_path / "scores.csv").read_text()
    assert "\\ud800" in (tmp_path / "class.html").read_text()


def test_the_json_document_has_one_line_per_result_and_reads_back_whole():
    import json
    from grader.course.report import as_json
    results = [result("ada", "ada/relu.py", "relu", [check("c", True, 1, 1, EVIL + "\n\x1b[2J")]),
               result("bob", "bob/relu.py", "relu", error="no topic")]
    meta, protections = {"seed": 3, "hidden_checks": True}, {"uid": "own", "list": [1, 2]}
    text = as_json(results, protections, meta)
    assert json.loads(text) == {"results": results, **meta, "isolation": protections}
    lines = text.splitlines()
    assert [json.loads(line.strip().rstrip(",")) for line in lines[2:4]] == results
    assert json.loads(as_json([], None, None)) == {"results": []}
