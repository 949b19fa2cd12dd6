"""kit.finetune and adapters: LoRA on every architecture, quotas, atomic saves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest
import torch

import kit
from kit import quota
from kit.errors import KitError, QuotaExceeded, SettingError
from tests.conftest import make_tiny

ROWS = [
    {"text": f"{word} story number {i}", "label": label}
    for i in range(6)
    for word, label in (("ghost", "horror"), ("kiss", "romance"), ("robot", "scifi"))
]


def lora_names(module: torch.nn.Module) -> list[str]:
    return [n for n, _ in module.named_parameters() if "lora_" in n]


def test_finetune_leaves_the_base_model_untouched(tiny_model, fresh_quota):
    """Does fine-tuning return an adapter while the base keeps its exact behaviour?"""
    ids = tiny_model.tokenizer("ghost story", return_tensors="pt").input_ids

    def logits(model):
        with torch.inference_mode():
            return model.hf(input_ids=ids).logits

    before = logits(tiny_model)
    adapter = kit.finetune(tiny_model, ROWS, steps=3, progress=False)
    assert isinstance(adapter, kit.Adapter) and len(adapter.losses) == 3
    assert lora_names(adapter.hf) and not lora_names(tiny_model.hf)
    assert torch.equal(logits(tiny_model), before)
    assert not torch.allclose(logits(adapter), before)
    assert quota.current().usage()["finetune_steps"] == 3


def test_finetune_is_deterministic_with_a_seed(tiny_model, fresh_quota):
    """Do two runs with the same seed give the same losses, another seed others?"""
    a = kit.finetune(tiny_model, ROWS, steps=4, seed=1, progress=False).losses
    b = kit.finetune(tiny_model, ROWS, steps=4, seed=1, progress=False).losses
    c = kit.finetune(tiny_model, ROWS, steps=4, seed=2, progress=False).losses
    assert a == b and a != c


@pytest.mark.parametrize("arch", ["llama", "qwen2", "qwen3", "mistral", "gemma3",
                                  "exaone4"])  # fmt: skip
def test_lora_works_on_every_catalogue_architecture(arch, tmp_path, bundled_folder,
                                                    fresh_quota):  # fmt: skip
    """Does the kit pick target modules for each architecture and train them?"""
    model = kit.load_model(str(make_tiny(arch, tmp_path / arch, bundled_folder)))
    adapter = kit.finetune(model, ROWS, steps=2, progress=False)
    assert adapter.manifest["target_modules"]
    assert all(torch.isfinite(torch.tensor(adapter.losses)))
    assert lora_names(adapter.hf)


@pytest.mark.parametrize("arch", ["llama", "gemma3", "exaone4"])
def test_answer_only_loss_equals_the_full_pass(arch, tmp_path, bundled_folder):
    """Does the fast loss (left padding, last logits only) match the textbook one?"""
    from peft import LoraConfig, get_peft_model

    from kit.adapters import shared_copy
    from kit.finetune import _answer_loss, _batches, training_examples
    from kit.prompt import training_prompt

    model = kit.load_model(str(make_tiny(arch, tmp_path / arch, bundled_folder)))
    rows = [{"text": "ghost " * n, "label": label}
            for n, label in ((1, "horror"), (9, "romance"), (4, "scifi"))]  # fmt: skip
    examples = training_examples(model, training_prompt(model, ["horror", "romance", "scifi"]),
                         rows)  # fmt: skip
    torch.manual_seed(0)
    config = LoraConfig(
        r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    peft_model = get_peft_model(shared_copy(model.hf), config)
    pad = model.tokenizer.pad_token_id

    def loss_and_grads(loss):
        loss.backward()
        grads = [p.grad.clone() for p in peft_model.parameters() if p.requires_grad]
        peft_model.zero_grad()
        return loss.item(), grads

    ids, mask, labels = next(_batches(examples, 3, 0, pad))
    full = loss_and_grads(
        peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss
    )
    fast = loss_and_grads(_answer_loss(peft_model, *next(_batches(examples, 3, 0, pad,
                                                                  left=True))))  # fmt: skip
    assert fast[0] == pytest.approx(full[0], rel=1e-5)
    for a, b in zip(fast[1], full[1]):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_data_the_model_can_hardly_read_gets_a_warning(lang, tiny_model, fresh_quota,
                                                       capsys, monkeypatch):  # fmt: skip
    """Is a trainee told when their data's language is mostly byte pieces to the model?"""
    monkeypatch.setenv("KIT_LANG", lang)
    korean = [{"text": text, "label": label} for text, label in (
        ("밤마다 거울 속에서 낯선 사람이 웃는다.", "horror"),
        ("첫사랑과 십 년 만에 기차역에서 다시 만난다.", "romance"),
        ("화성 기지의 로봇이 스스로 생각하기 시작한다.", "scifi"))]  # fmt: skip
    kit.finetune(tiny_model, korean, steps=1, plot=False)
    warned = capsys.readouterr().err
    assert "kit.models()" in warned and "korean" in warned
    assert ("tokens per letter" if lang == "en" else "토큰") in warned
    # The text under another field name (a trainee's own file) is read all the same.
    renamed = kit.datasets.load([{"message": r["text"], "label": r["label"]}
                                 for r in korean], text_field="message")  # fmt: skip
    kit.finetune(tiny_model, renamed, steps=1, plot=False)
    assert "kit.models()" in capsys.readouterr().err
    kit.finetune(tiny_model, ROWS, steps=1, plot=False)  # English rows: no warning
    assert "kit.models()" not in capsys.readouterr().err


def test_an_adapter_is_evaluated_the_way_it_was_trained(tiny_model, tmp_path,
                                                        fresh_quota, monkeypatch):  # fmt: skip
    """Does evaluate ask a trained (and a reloaded) adapter with its own template?"""
    taught = kit.Prompt(tiny_model, "Plot: {text}", system="Genre?",
                        examples=ROWS[:1], max_new_tokens=5)  # fmt: skip
    adapter = kit.finetune(tiny_model, ROWS, prompt=taught, steps=1, batch_size=3,
                           progress=False)  # fmt: skip
    again = kit.load_model(adapter=adapter.save(tmp_path / "a"))
    assert again.manifest["batch_size"] == 3
    for model in (adapter, again):
        sent = []

        def spy(conversations, *, sent=sent, **settings):
            sent.append((conversations, settings))
            return ["horror"] * len(conversations)

        monkeypatch.setattr(model, "chat_batch", spy)
        kit.evaluate(model, ROWS[3:4], progress=False)
        conversation, settings = sent[0][0][0], sent[0][1]
        assert conversation == taught.messages(ROWS[3])
        assert settings["max_new_tokens"] == 5


def test_save_and_load_round_trip(tiny_model, tmp_path, fresh_quota):
    """Does a saved adapter load back by path and answer exactly as before?"""
    adapter = kit.finetune(tiny_model, ROWS, steps=3, progress=False)
    kit.evaluate(adapter, ROWS[:3], progress=False)
    folder = tmp_path / "adapters"
    saved = adapter.save(folder / "my-adapter")
    manifest = json.loads((saved / "kit-adapter.json").read_text())
    assert manifest["steps"] == 3 and manifest["dataset_fingerprint"]
    assert "data" in manifest["scores"]
    again = kit.load_model(adapter=folder / "my-adapter")
    prompt = "ghost story number 9"
    assert again.generate(prompt, max_new_tokens=4) == adapter.generate(
        prompt, max_new_tokens=4
    )
    adapter.save(folder / "my-adapter")  # overwrite: still one visible folder
    visible = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
    assert visible == ["my-adapter"]
    assert len(list(folder.iterdir())) == 2  # the link and the one version it names


def test_students_see_no_library_warnings_and_a_parameter_count(tiny_model, tmp_path,
                                                                fresh_quota):  # fmt: skip
    """Do training, saving and reloading stay free of warnings, and is the size told?"""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        adapter = kit.finetune(tiny_model, ROWS, steps=2, progress=False)
        again = kit.load_model(adapter=adapter.save(tmp_path / "a"))
    assert [str(w.message) for w in seen] == []
    counted = sum(p.numel() for n, p in adapter.hf.named_parameters() if "lora_" in n)
    assert adapter.trainable_parameters() == again.trainable_parameters() == counted > 0
    ax = adapter.plot_loss()
    assert all(float(x).is_integer() for x in ax.get_xticks())


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_adapter_for_another_base_is_refused(lang, tiny_model, real_model, tmp_path,
                                             fresh_quota, monkeypatch):  # fmt: skip
    """Is an adapter refused on a different base model, with a clear message?"""
    kit.finetune(tiny_model, ROWS, steps=1, progress=False).save(tmp_path / "a")
    monkeypatch.setenv("KIT_LANG", lang)
    with pytest.raises(KitError) as caught:
        kit.adapters.attach(real_model, tmp_path / "a")
    assert caught.value.key == "adapter_wrong_base"
    assert ("원래 모델" in str(caught.value)) == (lang == "ko")
    with pytest.raises(KitError) as missing:
        kit.load_model(adapter=tmp_path / "nothing-here")
    assert missing.value.key == "adapter_missing"


@pytest.mark.parametrize(
    ("setting", "value"),
    [("steps", 0), ("steps", 10**6), ("learning_rate", 5.0), ("learning_rate", 0),
     ("batch_size", 0), ("rank", 0)],
)  # fmt: skip
def test_absurd_training_settings_are_refused(tiny_model, fresh_quota, setting, value):
    """Does each absurd setting name itself, before any step is charged?"""
    with pytest.raises(SettingError) as caught:
        kit.finetune(tiny_model, ROWS, progress=False, **{setting: value})
    assert setting in str(caught.value)
    assert quota.current().usage()["finetune_steps"] == 0


def test_unknown_target_module_lists_the_real_ones(tiny_model, fresh_quota):
    """Is a wrong target module refused with the modules LoRA could use?"""
    with pytest.raises(SettingError) as caught:
        kit.finetune(tiny_model, ROWS, steps=2, target_modules=["attention"],
                     progress=False)  # fmt: skip
    assert caught.value.key == "lora_unknown_module"
    assert "q_proj" in str(caught.value)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_more_steps_than_the_quota_is_refused_up_front(lang, tiny_model, fresh_quota,
                                                       monkeypatch):  # fmt: skip
    """Asking for more steps than are left today: refused before training, ko/en."""
    fresh_quota.write_text("[class]\nfinetune_steps = 5\n")
    quota.reset_current()
    monkeypatch.setenv("KIT_LANG", lang)
    with pytest.raises(QuotaExceeded) as caught:
        kit.finetune(tiny_model, ROWS, steps=20, progress=False)
    assert "5" in str(caught.value) and "20" in str(caught.value)
    assert ("파인튜닝" in str(caught.value)) == (lang == "ko")


def test_running_out_mid_training_keeps_the_steps_done(tiny_model, fresh_quota,
                                                       monkeypatch, capsys):  # fmt: skip
    """If the quota runs out mid-way, is the adapter kept at the last whole step?"""
    fresh_quota.write_text("[class]\nfinetune_steps = 10\n")
    quota.reset_current()
    account = quota.current()
    real_charge = account.charge
    calls = []

    def charge(**amounts):  # another kernel spends the rest after our 4th step
        calls.append(1)
        if len(calls) == 5:
            raise QuotaExceeded("quota_exceeded", kind="fine-tune steps", used=10,
                                limit=10, reset="midnight")  # fmt: skip
        return real_charge(**amounts)

    monkeypatch.setattr(account, "charge", charge)
    adapter = kit.finetune(tiny_model, ROWS, steps=8, progress=False)
    assert adapter.manifest["steps"] == 4 and adapter.manifest["steps_asked"] == 8
    assert "4" in capsys.readouterr().err


def test_a_killed_save_leaves_the_previous_adapter(tiny_folder, tmp_path):
    """Kill a process while it saves: the old adapter still loads, nothing half-written."""
    target = tmp_path / "adapter"
    script = textwrap.dedent(f"""
        import sys, time, peft.peft_model, kit
        model = kit.load_model({str(tiny_folder)!r})
        rows = [{{"text": "ghost", "label": "horror"}}, {{"text": "kiss", "label": "romance"}}]
        adapter = kit.finetune(model, rows, steps=int(sys.argv[1]), progress=False)
        if sys.argv[2] == "slow":  # a very slow disk: half a file, then a long wait
            def slow_save(tensors, path, metadata=None):
                open(path, "wb").write(b"half-written")
                open({str(tmp_path / "saving")!r}, "w").write("now")
                time.sleep(600)
            peft.peft_model.safe_save_file = slow_save
        adapter.save({str(target)!r})
    """)  # fmt: skip
    env = {**os.environ, "KIT_QUOTA_DB": str(tmp_path / "q.sqlite")}
    run = [sys.executable, "-c", script]
    subprocess.run([*run, "2", "fast"], check=True, env=env, timeout=300)
    first = json.loads((target / "kit-adapter.json").read_text())
    child = subprocess.Popen([*run, "3", "slow"], env=env)
    deadline = time.time() + 300
    while not (tmp_path / "saving").exists() and time.time() < deadline:
        assert child.poll() is None, "the saving process ended early"
        time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert json.loads((target / "kit-adapter.json").read_text()) == first
    loaded = kit.load_model(adapter=target)
    assert loaded.manifest["steps"] == 2
    visible = {p.name for p in tmp_path.iterdir() if not p.name.startswith(".")}
    assert visible - {"q.sqlite", "q.sqlite-wal", "q.sqlite-shm", "saving"} == {
        "adapter"
    }


def test_a_base_model_without_a_chat_template_fine_tunes_and_chats(tiny_folder):
    """A teacher's base-model folder (no chat template) trains and answers, no trace."""
    model = kit.load_model(str(tiny_folder))
    model.tokenizer.chat_template = None
    data = kit.datasets.load("movie_genres").sample(8)
    adapter = kit.finetune(model, data, steps=2, progress=False, plot=False)
    assert len(adapter.losses) == 2 and all(loss == loss for loss in adapter.losses)
    assert isinstance(adapter.chat("A ghost in the attic.", max_new_tokens=3), str)
    assert model.chat_text("Hi").endswith("Assistant:")  # the plain transcript
