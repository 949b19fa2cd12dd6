"""Widgets: the playground answers into its output area; the explorer clicks tokens."""

from __future__ import annotations

import html

import pytest

import kit
from kit import messages, quota, widgets
from kit.errors import SettingError
from kit.results import visible


def test_playground_run_shows_the_answer_and_a_status_line(tiny_model, fresh_quota):
    """Does Run put the answer in the output and tokens, speed, quota in the status?"""
    pg = widgets.playground(tiny_model, prompt="Hello there", max_new_tokens=8)
    reply = pg.run()
    assert reply is not None and reply.tokens >= 1
    assert html.escape(reply) in pg.output.value
    assert f"{reply.tokens} tokens" in pg.status.value
    assert "tokens/s" in pg.status.value
    assert html.escape(quota.current().summary()) in pg.status.value
    assert not pg.button.disabled


def test_playground_streams_and_disables_the_button_while_running(
    real_model, monkeypatch
):
    """Does the output fill in piece by piece, with Run disabled until the end?"""
    pg = widgets.playground(real_model, prompt="Name three colours.", temperature=0)
    pg.max_new_tokens.value = 16
    seen: list[str] = []
    pg.output.observe(lambda change: seen.append(change["new"]), names="value")
    disabled_during: list[bool] = []
    chat = real_model.chat

    def spy(*args, **kwargs):
        disabled_during.append(pg.button.disabled)
        return chat(*args, **kwargs)

    monkeypatch.setattr(real_model, "chat", spy)
    reply = pg.run()
    assert disabled_during == [True] and not pg.button.disabled
    partial = [value for value in seen if value and value != pg.output.value]
    assert len(partial) >= 2, "the answer should appear while it is generated"
    assert reply == real_model.chat("Name three colours.", max_new_tokens=16)


def test_playground_tries_a_prompt_with_its_examples(tiny_model, monkeypatch):
    """Does a kit.Prompt bring its system text, template and examples along?"""
    task = kit.Prompt(tiny_model, "Plot: {text}", system="Name the genre.",
                      examples=[{"text": "a ghost", "label": "horror"}])  # fmt: skip
    pg = widgets.playground(task, "a robot", max_new_tokens=4)
    assert pg.system.value == "Name the genre."
    sent = []
    monkeypatch.setattr(
        tiny_model, "chat", lambda convo, **kw: sent.append((convo, kw))
    )
    pg.run()
    convo, settings = sent[0]
    assert [m["content"] for m in convo] == ["Plot: a ghost", "horror", "Plot: a robot"]
    assert settings["system"] == "Name the genre."


def test_playground_passes_its_settings_to_chat(tiny_model):
    """Do the sliders, seed and system box become chat's keyword arguments?"""
    pg = widgets.playground(tiny_model, "Hi", system="  ", seed=None)
    pg.temperature.value, pg.top_p.value, pg.max_new_tokens.value = 1.3, 0.5, 40
    assert pg.settings() == dict(
        system=None, temperature=1.3, top_p=0.5, max_new_tokens=40, seed=None
    )
    pg.seed.value, pg.system.value = 7, "Be brief."
    assert pg.settings()["seed"] == 7 and pg.settings()["system"] == "Be brief."
    pg.seed.value = -5
    assert pg.settings()["seed"] is None


@pytest.mark.parametrize(("prompt", "seed"), [("   ", -1), ("Hi", 2**40)])
def test_a_bad_setting_shows_a_friendly_message_not_an_exception(
    tiny_model, prompt, seed
):
    """Does an empty prompt or a huge seed show the catalogue message in red?"""
    with pytest.raises(SettingError) as raised:
        tiny_model.chat(prompt, seed=None if seed < 0 else seed)
    pg = widgets.playground(tiny_model, prompt=prompt, seed=seed)
    assert pg.run() is None
    assert "color:#b91c1c" in pg.output.value
    assert html.escape(str(raised.value)) in pg.output.value
    assert "Traceback" not in pg.output.value and not pg.button.disabled


def test_an_exhausted_quota_is_explained_in_the_output(tiny_model, fresh_quota):
    """When today's generations are used up, does the output say so, kindly?"""
    fresh_quota.write_text("[class]\ngenerations = 0\n")
    pg = widgets.playground(tiny_model, prompt="Hello")
    assert pg.run() is None
    assert "color:#b91c1c" in pg.output.value
    assert "generations" in pg.output.value
    assert html.escape(quota.current().summary()) in pg.status.value


def test_a_clamped_answer_says_why_in_the_status_line(tiny_model, fresh_quota):
    """With 3 tokens left, is the answer cut to 3 and the note shown, not lost?"""
    fresh_quota.write_text("[class]\ntokens = 3\n")
    pg = widgets.playground(tiny_model, prompt="Hello", max_new_tokens=50)
    reply = pg.run()
    assert reply is not None and reply.tokens <= 3
    assert html.escape(messages.t("quota_clamped", left=3)) in pg.status.value


def test_labels_follow_the_language():
    """Are the labels Korean when the language is Korean?"""
    messages.set_language("ko")
    try:
        pg = widgets.playground(model=None)  # labels only: no model needed
        assert pg.button.description == "실행"
        assert pg.temperature.description == messages.t("widget_temperature", "ko")
    finally:
        messages.set_language(None)


def test_explorer_lists_top_tokens_as_buttons(tiny_model):
    """Does the explorer show exactly `top` tokens with visible spaces, best first?"""
    ex = widgets.next_token_explorer(tiny_model, "Hello world", top=5)
    expected = tiny_model.next_token_probs("Hello world", top=5)
    rows = zip(ex.buttons, ex.rows, strict=True)
    shown = [b.description for b, row in rows if row.layout.display is None]
    assert shown == [visible(p) or "∅" for p in expected.pieces]
    assert len(ex.buttons) == 5 and "%" in ex.bars[0].value


def test_clicking_a_token_appends_it_and_refreshes(tiny_model):
    """Does a click append the token, ask for the next ones, and Undo take it back?"""
    ex = widgets.next_token_explorer(tiny_model, "Once upon", top=8)
    index = next(i for i, b in enumerate(ex.buttons) if not b.disabled)
    piece = ex.probs.pieces[index]
    new_text = ex.click_token(index)
    assert new_text == ex.text.value == "Once upon" + piece
    assert ex.probs.text == new_text
    assert ex.probs == tiny_model.next_token_probs(new_text, top=8)
    assert not ex.undo.disabled
    assert ex.undo_click() == "Once upon" and ex.probs.text == "Once upon"
    assert ex.undo.disabled


def test_typing_by_hand_clears_the_undo_history(tiny_model):
    """After the student types, does Undo stay off instead of losing their words?"""
    ex = widgets.next_token_explorer(tiny_model, "Once upon", top=8)
    index = next(i for i, b in enumerate(ex.buttons) if not b.disabled)
    ex.click_token(index)
    ex.text.value = "A new start"
    assert ex.undo.disabled and ex.undo_click() == "A new start"


def test_explorer_with_empty_text_shows_no_tokens_and_no_error(tiny_model):
    """Does an empty box show nothing yet, and a bad `top` raise a friendly error?"""
    ex = widgets.next_token_explorer(tiny_model)
    assert ex.probs is None and ex.message.value == ""
    assert all(row.layout.display == "none" for row in ex.rows)
    with pytest.raises(SettingError):
        widgets.next_token_explorer(tiny_model, "Hi", top=0)


@pytest.mark.real_model
def test_explorer_puts_seoul_first_for_the_capital_of_korea(real_model):
    """With the real model, is ' Seoul' the most likely next token?"""
    ex = widgets.next_token_explorer(real_model, "The capital of Korea is")
    assert ex.probs.pieces[0] == " Seoul"
    assert ex.buttons[0].description == "␣Seoul"
    assert ex.click_token(0) == "The capital of Korea is Seoul"


@pytest.mark.real_model
def test_parts_of_a_hangul_character_cannot_be_clicked(real_model):
    """Are byte pieces of a Hangul character shown but not appendable?"""
    ex = widgets.next_token_explorer(real_model, "안녕하세", top=8)
    fragments = [i for i, p in enumerate(ex.probs.pieces) if "<0x" in p]
    assert fragments, "SmolLM2 splits Hangul into bytes"
    assert all(ex.buttons[i].disabled for i in fragments)
    assert ex.click_token(fragments[0]) == "안녕하세"
