"""In a real browser: a lesson's closing quiz answers a student's click at once."""

from __future__ import annotations

import nbformat

from tests import browser

LESSON = browser.ROOT / "lessons" / "00-start" / "ko.ipynb"


def test_lesson_00_quiz_gives_feedback_in_jupyterlab(tmp_path):
    """Opened in JupyterLab, does lesson 00's Korean quiz mark a wrong and a right pick?"""
    browser.require_chromium()
    cells = [c.source for c in nbformat.read(LESSON, as_version=4).cells
             if c.cell_type == "code"]  # fmt: skip
    quiz_cell = next(s for s in cells if "kit.widgets.quiz(" in s)
    # The lesson's own quiz cell, after its language line: no model is needed for it.
    notebook = browser.write_notebook(
        tmp_path / "quiz.ipynb", ['import kit\n\nkit.set_language("ko")', quiz_cell]
    )
    with browser.jupyter_lab(tmp_path) as lab, browser.chromium_page() as page:
        try:
            browser.open_notebook(page, lab, notebook.name)
            browser.run_all(page)
            browser.wait_for_widget(page, ".baeum-quiz .baeum-quiz-choices")
            quiz = page.locator(".baeum-quiz").first
            first = quiz.locator(".baeum-quiz-choices").first
            feedback = quiz.locator(".baeum-quiz-feedback").first
            first.locator("input[type=radio]").nth(0).check()  # wrong: 외국 서버
            page.wait_for_function("el => el.innerText.includes('아쉬워요')",
                                   arg=feedback.element_handle())  # fmt: skip
            first.locator("input[type=radio]").nth(1).check()  # right: this computer
            page.wait_for_function("el => el.innerText.includes('맞아요')",
                                   arg=feedback.element_handle())  # fmt: skip
            browser.screenshot(page, "lesson-00-quiz", quiz)
        except Exception:
            browser.screenshot(page, "lesson-00-quiz-failure")
            print(lab.log_tail())
            raise
        score = quiz.locator(".baeum-quiz-score").inner_text()
        assert "첫 시도에 4문제 중 0문제 맞혔어요" in score, score
        assert "4문제 중 1문제 답했어요" in score, score
