"""The class report and a feedback page rendered by headless Chromium: the page shows the
expected text, the browser logs no console error (a script error or a resource the page's
Content Security Policy refused would be one), and the screenshot is not blank."""
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser",
                                                 "google-chrome") if shutil.which(name)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium; "
                             ".ci/run installs it), so the pages were not rendered")


def chromium(page, user_dir, *args):
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={user_dir}", "--enable-logging=stderr", "--v=0",
         *args, page.as_uri()], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def console_errors(stderr):
    return [line for line in stderr.splitlines() if "Uncaught" in line or "CONSOLE" in line]


def render(page, tmp_path, width=1200, height=1800):
    """(DOM as Chromium built it, console errors, screenshot path)."""
    dom = chromium(page, tmp_path / "profile-dom", "--dump-dom")
    shot = tmp_path / f"{page.stem}.png"
    pic = chromium(page, tmp_path / "profile-shot", f"--screenshot={shot}",
                   f"--window-size={width},{height}", "--hide-scrollbars")
    return dom.stdout, console_errors(dom.stderr + pic.stderr), shot


def assert_not_blank(png, width, height):
    import matplotlib.image
    pixels = matplotlib.image.imread(str(png))
    assert pixels.shape[:2] == (height, width)
    ink = (pixels[..., :3] < 0.5).any(axis=-1).mean()
    assert 0.005 < ink < 0.5, ink  # text and bars on a white page


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("pages")
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--feedback",
                           out / "feedback", "--report", out / "class.html", ROOT / "examples"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_console_check_sees_script_errors(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>console.error('boom'); "
                    "undefined_function();</script>")
    _, errors, _ = render(page, tmp_path, 400, 300)
    assert any("boom" in e for e in errors) and any("Uncaught" in e for e in errors)


def test_the_class_report_renders_with_its_text_and_no_console_error(pages, tmp_path):
    dom, errors, shot = render(pages / "class.html", tmp_path)
    assert errors == []
    for text in ("Class report", "Score distribution per topic", "Most common mistakes",
                 "Could not be graded", "06_batchnorm.ipynb is empty", "Protections in force",
                 "Scores per student", "it is in bits; cross_entropy is in nats"):
        assert text in dom, text
    assert dom.count("<svg") == 8  # one histogram per topic of the demo class
    assert_not_blank(shot, 1200, 1800)


def test_a_feedback_page_renders_with_its_text_and_no_console_error(pages, tmp_path):
    dom, errors, shot = render(pages / "feedback" / "ben" / "batchnorm.html", tmp_path, 1000,
                               1400)
    assert errors == []
    for text in ("Batch normalization", "Feedback for <strong>ben</strong>",
                 "Score: 5.25 / 10", "What to fix", "the weights are swapped"):
        assert text in dom, text
    assert_not_blank(shot, 1000, 1400)
