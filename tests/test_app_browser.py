"""The standalone gradio chat page, driven in headless Chromium like a student would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

from tests.browser import chromium_page, free_port, require_chromium, screenshot


def wait_for_page(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert process.poll() is None, "`kit app` exited before serving the page"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"`kit app` did not answer at {url} within {timeout} s")


def test_standalone_chat_page_answers_a_message(tmp_path):
    """Does `kit app` serve a page where a typed message gets the model's answer?"""
    require_chromium()
    port = free_port()
    env = {**os.environ, "KIT_QUOTA_DB": str(tmp_path / "q.sqlite")}
    server = subprocess.Popen(
        [sys.executable, "-m", "kit.cli", "app", "--port", str(port),
         "--title", "Baeum test chat"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_page(url, server)
        with chromium_page() as page:
            page.goto(url)
            page.get_by_text("Baeum test chat").wait_for()
            box = page.get_by_role("textbox").first
            box.fill("What is the capital of France?")
            box.press("Enter")
            answer = page.locator(".bot, [data-testid='bot']").last
            answer.wait_for(timeout=120_000)
            deadline = time.time() + 120
            while "Paris" not in answer.inner_text() and time.time() < deadline:
                time.sleep(0.5)
            shot = screenshot(page, "gradio-chat")
            assert "Paris" in answer.inner_text(), answer.inner_text()
            assert shot.stat().st_size > 10_000
    finally:
        server.terminate()
        server.wait(timeout=30)
