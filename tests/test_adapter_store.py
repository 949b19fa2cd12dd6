"""AdapterStore: adapters per student on disk, who may open them, copies and sharing."""

from __future__ import annotations

import os

import pytest
import torch

import kit
from kit import quota
from kit.errors import NotAllowed, NotFound, SettingError
from kit.service.adapter_names import owner_folder
from kit.service.adapter_store import AdapterStore

ROWS = [
    {"text": f"{word} story number {i}", "label": label}
    for i in range(4)
    for word, label in (("ghost", "horror"), ("kiss", "romance"))
]


@pytest.fixture(scope="module")
def adapters(tiny_model) -> tuple[kit.Adapter, kit.Adapter]:
    """Two different adapters on the tiny model (1 and 2 steps)."""
    with quota.exempt():
        return (
            kit.finetune(tiny_model, ROWS, steps=1, batch_size=2, progress=False),
            kit.finetune(tiny_model, ROWS, steps=2, batch_size=2, seed=1,
                         progress=False),
        )  # fmt: skip


@pytest.fixture()
def store(tmp_path, tiny_model) -> AdapterStore:
    return AdapterStore(tmp_path / "adapters", tiny_model, cache_size=2)


def logits(model: kit.Model) -> torch.Tensor:
    ids = model.tokenizer("ghost story", return_tensors="pt").input_ids
    with torch.inference_mode():
        return model.hf(input_ids=ids).logits


def visible_files(root) -> set[str]:
    """Every path under root, relative (hidden temp folders would show up here)."""
    return {
        os.path.relpath(os.path.join(folder, name), root)
        for folder, dirs, files in os.walk(root)
        for name in dirs + files
    }


def test_saved_adapter_opens_with_its_weights_losses_and_manifest(store, adapters):
    """Does open() give back the same adapter, and info() its manifest and losses?"""
    first, _ = adapters
    assert store.save("kim", "genres", first) == "kim/genres"
    opened = store.open("kim", "kim/genres")
    assert isinstance(opened, kit.Adapter)
    assert torch.allclose(logits(opened), logits(first))
    assert opened.losses == first.losses
    info = store.info("kim", "kim/genres")
    assert (info["id"], info["owner"], info["name"], info["shared"]) == (
        "kim/genres", "kim", "genres", False)  # fmt: skip
    assert info["losses"] == first.losses and "losses" not in info["manifest"]
    assert info["manifest"]["steps"] == 1
    assert info["manifest"]["trainable_parameters"] == first.trainable_parameters()
    assert "losses" not in first.manifest  # the caller's adapter is left as it was


def test_who_may_open_what(store, adapters):
    """Owner and teacher: yes; another student: 403 until shared; unknown: 404."""
    store.save("kim", "genres", adapters[0])
    for call in (store.open, store.info):
        assert call("kim", "kim/genres")
        assert call("teacher", "kim/genres", teacher=True)
        with pytest.raises(NotAllowed) as caught:
            call("lee", "kim/genres")
        assert caught.value.key == "adapter_not_allowed"
        for asker in ("kim", "lee"):
            with pytest.raises(NotFound):
                call(asker, "kim/nothing")
    with pytest.raises(NotAllowed):
        store.share("lee", "kim/genres", True, teacher=False)
    assert store.share("kim", "kim/genres", True, teacher=False) == {
        "id": "kim/genres", "shared": True}  # fmt: skip
    assert store.info("lee", "kim/genres")["shared"] is True
    assert store.open("lee", "kim/genres")
    store.share("teacher", "kim/genres", False, teacher=True)
    with pytest.raises(NotAllowed):
        store.open("lee", "kim/genres")
    with pytest.raises(NotFound):
        store.share("kim", "kim/nothing", True, teacher=False)


@pytest.mark.parametrize(
    "name",
    ["../escape", "a/b", "..", ".hidden", "", "x" * 65, "a..b", "-dash", "tab\tname",
     None, 7],
)  # fmt: skip
def test_unsafe_names_are_refused_and_nothing_is_written(store, adapters, name):
    """Is every name outside the safe slug rule a SettingError naming the rule?"""
    with pytest.raises(SettingError) as caught:
        store.save("kim", name, adapters[0])
    assert caught.value.key == "adapter_bad_name"
    assert "64" in str(caught.value)
    assert not store.root.exists()


@pytest.mark.parametrize("bad_id", ["noslash", "/genres", "kim/", "kim/..", 3])
def test_malformed_ids_are_refused(store, bad_id):
    """Is an id that is not owner/name a SettingError, never a file lookup?"""
    with pytest.raises(SettingError):
        store.info("kim", bad_id)


def test_a_path_in_an_id_cannot_reach_another_students_adapter(store, adapters):
    """Is 'kim/../lee/x' one odd owner name (not found), never lee's adapter?"""
    store.save("lee", "x", adapters[0])
    with pytest.raises(NotFound):
        store.open("kim", "kim/../lee/x")


def test_hangul_names_and_unusual_owners_stay_inside_the_root(store, adapters):
    """Do Hangul names, e-mails and dotted owners map to safe, distinct folders?"""
    owners = [
        "kim.minji",
        "lee@school.kr",
        "../evil",
        ".hidden",
        "김민지",
        "a%2Fb",
        "a/b",
    ]
    folders = [owner_folder(o) for o in owners]
    assert len(set(folders)) == len(owners)
    assert all("/" not in f and not f.startswith(".") for f in folders)
    for owner in owners:
        store.save(owner, "영화-장르", adapters[0])
    assert {p.name for p in store.root.iterdir()} == set(folders)
    listed = store.list("teacher", teacher=True)
    assert sorted(e["owner"] for e in listed) == sorted(owners)  # reversible
    assert store.info("../evil", "../evil/영화-장르")["name"] == "영화-장르"


def test_copy_is_independent_of_the_original(store, adapters):
    """Does a copy keep the old weights when the original is saved again?"""
    first, second = adapters
    store.save("kim", "genres", first)
    assert store.copy("kim", "kim/genres", "genres-v1") == "kim/genres-v1"
    store.save("kim", "genres", second)
    assert store.info("kim", "kim/genres-v1")["manifest"]["steps"] == 1
    assert store.info("kim", "kim/genres")["manifest"]["steps"] == 2
    assert torch.allclose(logits(store.open("kim", "kim/genres-v1")), logits(first))
    with pytest.raises(SettingError) as caught:
        store.copy("kim", "kim/genres", "genres-v1")
    assert caught.value.key == "adapter_name_taken"
    store.share("kim", "kim/genres", True, teacher=False)
    with pytest.raises(NotAllowed):
        store.copy("lee", "kim/genres", "mine")
    assert not store.info("kim", "kim/genres-v1")["shared"]  # a copy starts private


def test_a_failed_copy_leaves_nothing_behind(store, adapters, monkeypatch):
    """If copying fails half-way, is there no new adapter and no temp folder?"""
    store.save("kim", "genres", adapters[0])
    before = visible_files(store.root)

    def broken_copy(source, target, **kw):
        (target / "adapter_config.json").write_text("{half")
        raise OSError("disk full")

    monkeypatch.setattr("kit.service.adapter_store.shutil.copytree", broken_copy)
    with pytest.raises(OSError):
        store.copy("kim", "kim/genres", "genres-v1")
    assert visible_files(store.root) == before
    with pytest.raises(NotFound):
        store.info("kim", "kim/genres-v1")


def test_open_sees_a_resave_and_caches_otherwise(store, adapters):
    """Is a re-saved adapter never served stale, and an unchanged one reused?"""
    first, second = adapters
    store.save("kim", "genres", first)
    opened = store.open("kim", "kim/genres")
    assert store.open("kim", "kim/genres") is opened
    store.save("kim", "genres", second)
    fresh = store.open("kim", "kim/genres")
    assert fresh is not opened and fresh.manifest["steps"] == 2
    assert torch.allclose(logits(fresh), logits(second))


def test_list_gives_own_then_shared_and_a_teacher_everything(store, adapters):
    """Is the list yours (by name), then shared ones (by owner, name), never private?"""
    for owner, name in [("kim", "b"), ("kim", "a"), ("lee", "z"), ("lee", "hidden"),
                        ("choi", "y")]:  # fmt: skip
        store.save(owner, name, adapters[0])
    store.share("lee", "lee/z", True, teacher=False)
    store.share("choi", "choi/y", True, teacher=False)
    ids = [e["id"] for e in store.list("kim")]
    assert ids == ["kim/a", "kim/b", "choi/y", "lee/z"]
    assert [e["id"] for e in store.list("park")] == ["choi/y", "lee/z"]
    everything = [e["id"] for e in store.list("teacher", teacher=True)]
    assert everything == ["choi/y", "kim/a", "kim/b", "lee/hidden", "lee/z"]
    entry = store.list("kim")[0]
    assert set(entry) == {"id", "owner", "name", "shared", "manifest"}
    assert "losses" not in entry["manifest"]
