"""Data sets: the shipped ones are sound, and bad files get a clear ko/en message."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from kit import datasets
from kit.datasets import DatasetError

HANGUL = re.compile(r"[\uac00-\ud7a3]")
SHIPPED = [
    "finance_support",
    "healthcare_triage",
    "manufacturing_defects",
    "movie_genres",
]
LABELS = {
    "movie_genres": {"comedy", "horror", "romance", "scifi"},
    "finance_support": {"lost_card", "balance", "transfer", "loan", "fraud"},
    "manufacturing_defects": {"electrical", "mechanical", "cosmetic", "safety"},
    "healthcare_triage": {"appointment", "prescription", "test_results", "urgent"},
}


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """Messages in English unless a test asks for Korean."""
    monkeypatch.setenv("KIT_LANG", "en")


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def error_of(source, **kwargs) -> DatasetError:
    with pytest.raises(DatasetError) as caught:
        datasets.load(source, **kwargs)
    return caught.value


# --- shipped data sets ---------------------------------------------------------


def test_available_lists_the_four_shipped_sets():
    """Does available() name exactly the shipped sets, each with a catalogue entry?"""
    assert datasets.available() == SHIPPED
    for name in SHIPPED:
        entry = datasets.describe(name)
        assert set(entry["labels"]) == LABELS[name]
        assert entry["track"] in {"school", "finance", "manufacturing", "healthcare"}
        for part in [entry["title"], entry["task"], *entry["labels"].values()]:
            assert part["en"] and HANGUL.search(part["ko"]) or part["ko"] == "SF"


def test_describe_returns_a_copy():
    """Can a student change what describe() returns without changing the kit?"""
    datasets.describe("movie_genres")["labels"].clear()
    assert datasets.describe("movie_genres")["labels"]


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_set_is_balanced_clean_and_in_its_language(name, lang):
    """Does each set load with 80 distinct rows, equal label counts, right language?"""
    data = datasets.load(name, lang=lang)
    assert len(data) == 80 and data.name == name and data.lang == lang
    assert set(data.labels) == LABELS[name]
    assert len(set(data.counts().values())) == 1  # balanced
    assert len(set(data.texts)) == 80  # no duplicates
    for text in data.texts:
        assert 6 <= len(text.split()) <= 30, text
        assert bool(HANGUL.search(text)) == (lang == "ko"), text
    assert data.task and set(data.label_names) == LABELS[name]


@pytest.mark.parametrize("name", SHIPPED)
def test_label_ids_are_the_same_in_english_and_korean(name):
    """Can one code cell serve both lessons: same label ids and counts in en and ko?"""
    en, ko = datasets.load(name, lang="en"), datasets.load(name, lang="ko")
    assert en.counts() == ko.counts()


@pytest.mark.parametrize("name", SHIPPED)
def test_label_word_rarely_gives_the_answer_away(name):
    """Must a model learn from the wording, not spot the label id in the text?"""
    data = datasets.load(name, lang="en")
    leaks = [r for r in data if r["label"].replace("_", " ") in r["text"].lower()]
    assert len(leaks) <= 0.1 * len(data)


def test_shipped_set_follows_kit_lang(monkeypatch):
    """Without lang=, is the shipped set loaded in the student's language?"""
    monkeypatch.setenv("KIT_LANG", "ko")
    data = datasets.load("healthcare_triage")
    assert data.lang == "ko" and HANGUL.search(data[0]["text"])
    assert data.label_names["urgent"] == "응급"
    assert HANGUL.search(data.task)


def test_shipped_files_are_utf8_jsonl_with_text_and_label_only():
    """Is each shipped line one UTF-8 object with exactly "text" and "label"?"""
    for path in sorted(datasets.DATA.glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 80
        assert all(set(json.loads(line)) == {"text", "label"} for line in lines)
    assert "CC0-1.0" in (datasets.DATA / "README.md").read_text(encoding="utf-8")


# --- split, sample, fingerprint ----------------------------------------------------


def test_split_is_stratified_disjoint_and_complete():
    """Does split keep each label's share, share no row, and lose no row?"""
    data = datasets.load("movie_genres", lang="en")
    train, test = data.split(test=0.2, seed=0)
    assert (len(train), len(test)) == (64, 16)
    assert test.counts() == {label: 4 for label in LABELS["movie_genres"]}
    assert not set(train.texts) & set(test.texts)
    assert Counter(train.texts + test.texts) == Counter(data.texts)
    assert train.name == test.name == "movie_genres" and test.lang == "en"


def test_split_rounds_to_the_asked_size_with_uneven_labels():
    """With 16 rows a label, does test=0.2 still give 16 of 80 rows, 3 or 4 each?"""
    train, test = datasets.load("finance_support", lang="en").split(0.2)
    assert len(test) == 16 and set(test.counts().values()) <= {3, 4}
    assert set(train.labels) == set(test.labels) == LABELS["finance_support"]


def test_split_is_deterministic_for_a_seed():
    """Does the same seed give the same split, and another seed a different one?"""
    data = datasets.load("manufacturing_defects", lang="ko")
    first, again, other = data.split(seed=1), data.split(seed=1), data.split(seed=2)
    assert first[1].texts == again[1].texts and first[0].texts == again[0].texts
    assert first[1].texts != other[1].texts


@pytest.mark.parametrize("test", [0, 1, -0.2, 1.5, "0.2", True, None])
def test_split_rejects_a_test_share_outside_0_and_1(test):
    """Is a test share that is not a number between 0 and 1 a clear error?"""
    with pytest.raises(DatasetError, match="between 0 and 1"):
        datasets.load("movie_genres").split(test=test)


def test_split_that_leaves_a_part_empty_is_an_error():
    """Does splitting too few rows say that one part would be empty?"""
    data = datasets.load([{"text": "a", "label": "x"}, {"text": "b", "label": "y"}])
    with pytest.raises(DatasetError, match="empty"):
        data.split(test=0.1)
    with pytest.raises(ValueError):  # a DatasetError is also a ValueError
        data.split(test=0.9)


def test_sample_is_deterministic_and_checked():
    """Does sample(n) give n rows, the same for a seed, and refuse a bad n?"""
    data = datasets.load("movie_genres")
    assert len(data.sample(10)) == 10
    assert data.sample(10, seed=3).texts == data.sample(10, seed=3).texts
    for bad in (0, 81, 2.5):
        with pytest.raises(DatasetError, match="1 to 80"):
            data.sample(bad)


def test_fingerprint_is_stable_and_sensitive_to_a_change():
    """Does the same data give the same hash, and one changed label a new one?"""
    rows = [{"text": "a b c", "label": "x"}, {"text": "d e f", "label": "y"}]
    first = datasets.load(rows).fingerprint()
    assert first == datasets.load([dict(r) for r in rows]).fingerprint()
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    rows[1]["label"] = "x"
    assert datasets.load(rows).fingerprint() != first
    assert (
        datasets.load("movie_genres", lang="ko").fingerprint()
        == datasets.load("movie_genres", lang="ko").fingerprint()
    )


# --- your own data -------------------------------------------------------------------


def test_list_of_dicts_with_own_field_names():
    """Does a list of dicts load, with text_field/label_field naming the columns?"""
    rows = [
        {"review": "Great!", "stars": "5", "id": 1},
        {"review": "Meh", "stars": "2"},
    ]
    data = datasets.load(rows, text_field="review", label_field="stars")
    assert data.texts == ["Great!", "Meh"] and data.targets == ["5", "2"]
    assert data[0] == {"id": 1, "text": "Great!", "label": "5"}
    assert data.labels == ["2", "5"] and data.label_names == {"2": "2", "5": "5"}
    assert data.task == "" and isinstance(data[:1], datasets.Dataset)
    assert rows[0] == {"review": "Great!", "stars": "5", "id": 1}  # input untouched


def test_unlabelled_data_loads_with_label_field_none():
    """Can text without labels be loaded, counted and split?"""
    data = datasets.load([{"text": f"row {i}"} for i in range(10)], label_field=None)
    assert data.labels == [] and data.counts() == {}
    train, test = data.split(test=0.3)
    assert (len(train), len(test)) == (7, 3)


def test_json_and_bom_csv_files_load(tmp_path):
    """Do a .json list and a UTF-8 CSV with a BOM (Excel's 'CSV UTF-8') load?"""
    rows = [{"text": "좋은 영화예요", "label": "pos"}, {"text": "별로", "label": "neg"}]
    data = datasets.load(write(tmp_path, "r.json", json.dumps(rows, indent=1)))
    assert data.texts == ["좋은 영화예요", "별로"] and data.name == "r.json"
    path = tmp_path / "excel.csv"
    path.write_bytes(
        b"\xef\xbb\xbf" + "text,label\n좋아요,pos\n별로예요,neg\n".encode()
    )
    data = datasets.load(path)
    assert data.rows == [{"text": "좋아요", "label": "pos"},
                         {"text": "별로예요", "label": "neg"}]  # fmt: skip


def test_malformed_jsonl_line_names_file_and_line(tmp_path):
    """Does a broken JSONL line give the file name, its line number and the fix?"""
    text = '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n{"text": "c",\n'
    message = str(error_of(write(tmp_path, "mine.jsonl", text)))
    assert "mine.jsonl, line 3" in message and "not valid JSON" in message


def test_missing_field_names_the_field_line_and_fields_present(tmp_path):
    """Does a row without a label say which field, which line, and what it has?"""
    text = '{"text": "a", "label": "x"}\n\n{"text": "b", "category": "y"}\n'
    message = str(error_of(write(tmp_path, "mine.jsonl", text)))
    assert "mine.jsonl, line 3" in message and "'label' is missing" in message
    assert "'text', 'category'" in message


def test_json_list_errors_point_at_the_item_line(tmp_path):
    """In a .json list, is the line of the first bad item named?"""
    text = '[\n  {"text": "a", "label": "x"},\n  {"text": "b"}\n]\n'
    assert "j.json, line 3" in str(error_of(write(tmp_path, "j.json", text)))


@pytest.mark.parametrize("text", ["", "\n  \n", "text,label\n"])
def test_empty_file_is_an_error(tmp_path, text):
    """Is an empty file (or only blank lines, or only a header) reported as empty?"""
    suffix = ".csv" if "," in text else ".jsonl"
    assert "empty" in str(error_of(write(tmp_path, "e" + suffix, text)))


def test_excel_cp949_csv_says_save_as_utf8(tmp_path):
    """Does a CSV saved by Excel in CP949 get told to save as 'CSV UTF-8'?"""
    path = tmp_path / "excel.csv"
    path.write_bytes("text,label\n배송이 빨라요,pos\n".encode("cp949"))
    message = str(error_of(str(path)))
    assert "excel.csv" in message and "UTF-8" in message and "line 2" in message


def test_unquoted_comma_in_csv_is_explained(tmp_path):
    """Does a CSV row with an extra value name its line and suggest quotes?"""
    path = write(tmp_path, "c.csv", "text,label\nfine,pos\nI liked it, a lot,pos\n")
    message = str(error_of(path))
    assert "c.csv, line 3" in message and "double quotes" in message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("notes.txt", "cannot read"),
        ("movie_genre", "movie_genres"),  # unknown name: lists what is there
        ("missing.csv", "no file"),
        (42, "not int"),
    ],
)
def test_unreadable_sources_are_explained(tmp_path, monkeypatch, source, expected):
    """Do a .txt file, an unknown name, a missing file and a number get clear errors?"""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    assert expected in str(error_of(source))


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"text": "a", "label": "x"}, ["b", "y"]], "item 1 of the list"),
        ([{"text": "a", "label": 1}], "must be text"),
        ([{"text": "  ", "label": "x"}], "'text' is empty"),
        ([], "empty"),
    ],
)
def test_bad_rows_in_a_list_are_explained(rows, expected):
    """Are a non-object row, a number label, blank text and an empty list errors?"""
    assert expected in str(error_of(rows))


def test_not_an_object_row_in_a_file(tmp_path):
    """Is a JSONL line that holds a list, not an object, named with its line?"""
    path = write(tmp_path, "o.jsonl", '{"text": "a", "label": "x"}\n["b", "y"]\n')
    message = str(error_of(path))
    assert "o.jsonl, line 2" in message and "object" in message


def test_messages_are_korean_when_kit_lang_is_ko(tmp_path, monkeypatch):
    """With KIT_LANG=ko, are the errors in Korean, and still available in English?"""
    monkeypatch.setenv("KIT_LANG", "ko")
    path = write(tmp_path, "mine.jsonl", '{"text": "a", "label": "x"}\n{"text": "b"}\n')
    error = error_of(path)
    assert "mine.jsonl의 2번째 줄" in str(error) and "필드가 없어요" in str(error)
    assert "mine.jsonl, line 2" in error.in_language("en")
    assert "데이터 세트" in str(error_of("nothing_here"))
    assert "개 행" in repr(datasets.load("movie_genres"))


# --- display -------------------------------------------------------------------------


def test_preview_escapes_html_and_shows_size_and_counts():
    """Does the preview show rows escaped, with name, size and label counts?"""
    rows = [{"text": "<b>bold</b> & <script>", "label": "x"}]
    rows += [{"text": f"plain {i}", "label": "y"} for i in range(6)]
    data = datasets.load(rows)
    page = data.preview(3)._repr_html_()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in page
    assert "<script>" not in page and "plain 1" in page and "plain 2" not in page
    assert "data: 7 rows" in page and "x 1, y 6" in page
    text = repr(data)
    assert "<b>bold</b>" in text and "Labels: x 1, y 6" in text and "2 more" in text
    assert data._repr_html_().count("<tr>") == 6  # header + the first five rows


def test_preview_names_a_label_once_unless_its_name_differs():
    """Is an id with no other display name shown once, a translated one with both?"""
    own = datasets.load([{"text": "card gone", "label": "lost_card"}])
    assert "lost_card (" not in repr(own) and "lost_card" in repr(own)
    korean = datasets.load("finance_support", lang="ko").preview(80)
    assert "lost_card (" in repr(korean)  # the Korean name follows the id


def test_plot_counts_draws_one_bar_per_label():
    """Does plot_counts draw one bar per label, as tall as its count?"""
    import matplotlib.pyplot as plt

    data = datasets.load("finance_support", lang="ko")
    ax = data.plot_counts()
    try:
        assert len(ax.patches) == 5
        assert [bar.get_height() for bar in ax.patches] == [16] * 5
        labels = [tick.get_text() for tick in ax.get_xticklabels()]
        assert "카드 분실" in labels
    finally:
        plt.close(ax.figure)
