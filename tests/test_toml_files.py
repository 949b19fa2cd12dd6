"""kit.toml_files: one reader for the kit's TOML files, naming the file and the line."""

from __future__ import annotations

import pytest

from kit.toml_files import TomlError, read_toml


def test_a_good_file_gives_its_tables(tmp_path):
    """Does read_toml return the tables of a UTF-8 file, Korean text included?"""
    path = tmp_path / "good.toml"
    path.write_text('[class]\ntokens = 5\nnote = "한국어"\n', encoding="utf-8")
    assert read_toml(path) == {"class": {"tokens": 5, "note": "한국어"}}
    assert read_toml(str(path)) == read_toml(path)


def test_a_syntax_error_names_the_file_and_the_line(tmp_path):
    """Is a broken file a TomlError whose text names the file and the broken line?"""
    path = tmp_path / "broken.toml"
    path.write_text("[class]\ntokens = 5\n[students\n", encoding="utf-8")
    with pytest.raises(TomlError) as caught:
        read_toml(path)
    assert caught.value.path == path and "line 3" in caught.value.detail
    assert str(path) in str(caught.value) and isinstance(caught.value, ValueError)


def test_a_file_not_in_utf8_is_a_toml_error(tmp_path):
    """Is a file saved in another encoding (CP949) a TomlError, not a crash?"""
    path = tmp_path / "cp949.toml"
    path.write_bytes('note = "한국어"\n'.encode("cp949"))
    with pytest.raises(TomlError, match="cp949.toml"):
        read_toml(path)
