"""In a real browser: lesson 04 shows the playground, and Run produces an answer."""

from __future__ import annotations

import re
import shutil

import pytest

from tests import browser

LESSON = browser.ROOT / "lessons" / "04-sampling" / "en.ipynb"


@pytest.mark.real_model
def test_lesson_04_playground_runs_in_jupyterlab(tmp_path):
    """Opened in JupyterLab in headless Chromium, does lesson 04's playground answer?"""
    assert LESSON.exists(), f"{LESSON} is missing: lesson 04 must call the playground"
    browser.require_chromium()
    index = browser.cell_index(LESSON, "playground(")
    # A copy, so that JupyterLab's autosave never writes outputs into the lesson.
    shutil.copytree(LESSON.parent, tmp_path / LESSON.parent.name)
    notebook = f"{LESSON.parent.name}/{LESSON.name}"
    with browser.jupyter_lab(tmp_path) as lab, browser.chromium_page() as page:
        try:
            browser.open_notebook(page, lab, notebook)
            # The cells up to the playground: later cells would keep the kernel busy.
            browser.run_through(page, index)
            browser.wait_for_widget(page, ".baeum-playground .baeum-run")
            playground = page.locator(".baeum-playground").first
            playground.locator(".baeum-prompt textarea").fill(
                "Write one sentence about the sea."
            )
            playground.locator(".baeum-run").click()
            page.wait_for_function(
                "el => el.innerText.includes('tokens/s')",
                arg=playground.locator(".baeum-status").element_handle(),
            )
            browser.screenshot(page, "lesson-04-playground", playground)
        except Exception:
            browser.screenshot(page, "lesson-04-failure")
            print(lab.log_tail())  # shown by pytest with the failure
            raise
        answer = playground.locator(".baeum-output").inner_text().strip()
        status = playground.locator(".baeum-status").inner_text()
        assert answer, "the output area stayed empty"
        assert playground.locator(".baeum-output [style*='b91c1c']").count() == 0, (
            answer
        )
        assert re.search(r"\d+ tokens · [\d.]+ tokens/s · Today left", status), status
        assert playground.locator(".baeum-run").is_enabled()
