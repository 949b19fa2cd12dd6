"""Model: chat, generate, next-token probabilities, tokens, settings and quota charges."""

from __future__ import annotations

import pytest
import torch

from kit import quota
from kit.errors import KitError, QuotaExceeded, SettingError
from kit.results import Reply


def test_greedy_chat_is_reproducible(real_model):
    """Does temperature=0 give the same answer every time (what grading relies on)?"""
    first = real_model.chat("Name three colours.", max_new_tokens=24)
    second = real_model.chat("Name three colours.", max_new_tokens=24)
    assert first == second and first.strip() == first


def test_seeded_sampling_is_reproducible_and_private(tiny_model):
    """Same seed, same sample; another seed differs; the caller's RNG is untouched."""
    settings = dict(max_new_tokens=12, temperature=1.5, top_k=0)
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = tiny_model.generate("Once", seed=7, **settings)
    b = tiny_model.generate("Once", seed=7, **settings)
    others = {tiny_model.generate("Once", seed=s, **settings) for s in range(8, 12)}
    assert torch.equal(torch.rand(3), expected_next)
    assert a == b
    assert others - {a}


def test_next_token_probs_reads_like_a_distribution(real_model):
    """Are the top tokens sorted, probabilities valid, and ' Seoul' first for Korea?"""
    probs = real_model.next_token_probs("The capital of Korea is", top=5)
    assert len(probs) == 5
    assert probs.pieces[0] == " Seoul"
    assert probs.probs == sorted(probs.probs, reverse=True)
    assert 0 < sum(probs.probs) <= 1.0001
    assert " Seoul" in probs._repr_html_() or "Seoul" in probs._repr_html_()
    assert "Seoul" in repr(probs)


def test_next_token_probs_of_named_candidates(real_model):
    """Are asked-for candidates scored in their order, with the top list's numbers?"""
    top = real_model.next_token_probs("The capital of Korea is", top=3).as_dict()
    asked = real_model.next_token_probs("The capital of Korea is",
                                        tokens=[" Tokyo", " Seoul", " Busan"])  # fmt: skip
    # A word of several tokens is scored by its first one, and shown as that piece.
    assert asked.pieces == [" Tokyo", " Seoul", " Bus"]
    assert asked.probs[1] == top[" Seoul"] and asked.probs[0] < asked.probs[1]
    for bad in ([], "Seoul", [""], [3]):
        with pytest.raises(SettingError):
            real_model.next_token_probs("The capital of Korea is", tokens=bad)


def test_probability_plot_renders_hangul(real_model):
    """Does the bar chart draw one bar per token with a Hangul-capable font?"""
    import matplotlib

    ax = real_model.next_token_probs("한국의 수도는", top=4).plot()
    assert len(ax.patches) == 4
    assert "NanumGothic" in matplotlib.rcParams["font.family"]
    matplotlib.pyplot.close("all")


def test_korean_costs_more_tokens_than_english(real_model):
    """Does the bundled tokenizer need more tokens for Korean than for the same English?"""
    english = real_model.tokenize("I am a student. I like science.")
    korean = real_model.tokenize("저는 학생입니다. 저는 과학을 좋아합니다.")
    assert len(korean) > 2 * len(english)
    assert "".join(english.pieces) == english.text
    assert real_model.tokenizer.decode(korean.ids) == korean.text
    assert any(piece.startswith("<0x") for piece in korean.pieces)  # bytes, shown


def test_chat_messages_and_system_prompt(tiny_model):
    """Is a system prompt put first, and are malformed messages refused clearly?"""
    from kit.checks import checked_conversation

    convo = checked_conversation([{"role": "user", "content": "hi"}], "Be brief.")
    assert convo[0] == {"role": "system", "content": "Be brief."}
    reply = tiny_model.chat(convo, max_new_tokens=2)
    assert isinstance(reply, Reply)
    for bad in ([], [{"role": "robot", "content": "x"}], [{"content": 3}], 42):
        with pytest.raises(SettingError) as caught:
            tiny_model.chat(bad)
        assert caught.value.key in {"bad_messages", "bad_type"}


@pytest.mark.parametrize(
    ("setting", "value", "key"),
    [
        ("temperature", -1, "bad_number"),
        ("temperature", 9, "bad_number"),
        ("top_p", 0, "bad_number"),
        ("top_k", 2.5, "bad_type"),
        ("max_new_tokens", 0, "bad_number"),
        ("max_new_tokens", "ten", "bad_type"),
        ("seed", -3, "bad_number"),
    ],
)
def test_absurd_settings_get_friendly_errors(tiny_model, setting, value, key):
    """Does each out-of-range setting name itself and the allowed range?"""
    with pytest.raises(SettingError) as caught:
        tiny_model.chat("hi", **{setting: value})
    assert caught.value.key == key and setting in str(caught.value)


def test_errors_speak_korean_and_hide_the_stack_trace(tiny_model, monkeypatch):
    """With KIT_LANG=ko, is the message Korean, rendered without a traceback?"""
    monkeypatch.setenv("KIT_LANG", "ko")
    with pytest.raises(SettingError) as caught:
        tiny_model.chat("   ")
    assert "프롬프트가 비어" in str(caught.value)
    shown = caught.value._render_traceback_()
    assert len(shown) == 1 and "Traceback" not in shown[0]
    assert "empty" in caught.value.in_language("en")


def test_prompt_longer_than_the_context_is_refused(tiny_model):
    """Is a prompt over the model's context length refused before any work?"""
    with pytest.raises(SettingError) as caught:
        tiny_model.generate("word " * 400)
    assert caught.value.key == "prompt_too_long"


def test_streaming_prints_once(tiny_model, capsys):
    """Does stream=True print tokens as they come, and the reply not print again?"""
    reply = tiny_model.generate("Hello", max_new_tokens=5, stream=True)
    printed = capsys.readouterr().out
    assert reply and reply in printed
    reply._ipython_display_()
    assert capsys.readouterr().out == ""
    reply._ipython_display_()  # shown again later on purpose: prints
    assert capsys.readouterr().out.strip() == reply.strip()


def test_generation_is_charged_to_the_quota(tiny_model, fresh_quota):
    """Is each generation charged as 1 generation plus the tokens actually made?"""
    reply = tiny_model.generate("Hello", max_new_tokens=6)
    used = quota.current().usage()
    assert used["generations"] == 1
    assert used["tokens"] == reply.tokens


def test_over_quota_stops_before_generating(tiny_model, fresh_quota, monkeypatch):
    """When today's generations are used up, is the request refused with the reset time?"""
    fresh_quota.write_text("[class]\ngenerations = 1\n")
    quota.reset_current()
    tiny_model.generate("Hello", max_new_tokens=2)
    calls = []
    monkeypatch.setattr(tiny_model.hf, "generate", lambda *a, **k: calls.append(1))
    with pytest.raises(QuotaExceeded) as caught:
        tiny_model.generate("Hello", max_new_tokens=2)
    assert not calls
    assert "1" in str(caught.value) and ":" in str(caught.value)  # used/limit, time


def test_answer_is_cut_to_the_tokens_left(tiny_model, fresh_quota, capsys):
    """With 3 tokens left, does the answer stop at 3 tokens and say so?"""
    fresh_quota.write_text("[class]\ntokens = 3\n")
    quota.reset_current()
    reply = tiny_model.generate("Hello", max_new_tokens=50)
    assert reply.tokens <= 3
    assert "3" in capsys.readouterr().err
    assert quota.current().usage()["tokens"] == reply.tokens


def test_exempt_mode_charges_nothing(tiny_model, fresh_quota):
    """Is grading in exempt mode neither charged nor blocked?"""
    fresh_quota.write_text("[class]\ngenerations = 1\n")
    quota.reset_current()
    with quota.exempt():
        for _ in range(3):
            tiny_model.generate("Hello", max_new_tokens=2)
    assert quota.current().usage()["generations"] == 0


def test_kit_error_is_an_exception_students_can_catch():
    """Can a notebook catch every friendly error as kit.KitError?"""
    assert issubclass(QuotaExceeded, KitError) and issubclass(SettingError, ValueError)


def test_a_cut_korean_reply_never_ends_in_half_a_character(real_model):
    """Does a reply cut mid-character drop the broken bytes instead of showing '�'?"""
    # Hangul takes 3 byte tokens here: most lengths cut a character in half.
    cut = [
        real_model.generate("오늘 날씨가 정말", max_new_tokens=n) for n in range(1, 10)
    ]
    full = str(real_model.generate("오늘 날씨가 정말", max_new_tokens=10))
    assert any("\uac00" <= ch <= "\ud7a3" for ch in full)
    assert not any("\ufffd" in str(c) for c in cut)
    assert all(full.startswith(str(c)) for c in cut)
