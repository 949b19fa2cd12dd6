"""Students who game the grading itself: each gets exactly what its honest content earns.

Beside test_assignment_cheating.py (its own file, so the two share the xdist workers).
"""

from __future__ import annotations

from tests.test_assignment_cheating import A1, edited, index_of
from tests.test_assignments import Course, answered, read


def test_subclasses_and_kernel_patches_earn_only_their_honest_points(tmp_path):
    """Does a Prompt subclass score 0, and grading patched in the kernel change nothing?"""
    course = Course(tmp_path / "course", "en", timeout=60)
    release = course.release(A1)
    reference = answered(release, read(A1, "en"))
    submissions = {}
    solution = reference.cells[index_of(release, "q1-extractor")].source
    weak = '\nextractor = kit.Prompt(model, "{text}", max_new_tokens=8)\n'
    # Answers without a model: a Prompt subclass whose __call__ is a regular expression.
    submissions["subclasser"] = edited(reference, "q1-extractor", solution + (
        "\nimport re\n\n\nclass Regex(kit.Prompt):\n"
        "    def __call__(self, row, **settings):\n"
        "        text = row['text'] if isinstance(row, dict) else row\n"
        "        name = re.search(r'[A-Z][a-z]+(?:-[a-z]+)?', text).group(0)\n"
        "        age = int(re.search(r'\\d+', text).group(0))\n"
        "        return '{\"name\": \"%s\", \"age\": %d}' % (name, age)\n\n\n"
        "extractor = Regex(model, 'Sentence: {text}')\n"
    ))  # fmt: skip
    # A weak prompt, and the grading functions patched in the kernel to give 4 points;
    # its honest twin hands in the same weak prompt without the patches.
    submissions["patcher"] = edited(reference, "q1-extractor", solution + (
        "\nfrom kit import grading\n"
        "grading.Marks.total = lambda self: 4.0\n"
        "grading.regenerate = lambda *a, **k: '{\"name\": \"Mina\", \"age\": 15}'\n"
    ) + weak)  # fmt: skip
    submissions["twin"] = edited(reference, "q1-extractor", solution + weak)
    for student, notebook in submissions.items():
        course.submit(A1, student, notebook)
    course.grade(A1)

    # Grades mean what they say: the checks ran in a fresh process on the handed-in
    # data, so the subclass is refused (0, with the fix in the feedback) and the
    # patches change nothing: the patcher scores exactly what its honest twin does.
    assert course.points(A1, "subclasser") == {"q1-test": 0.0, "q2-test": 3.0}
    refused = (course.root / "feedback" / "subclasser" / A1 / "en.html").read_text()
    assert "a class of your own made from kit.Prompt" in refused
    assert course.points(A1, "patcher") == course.points(A1, "twin")
    assert course.points(A1, "twin")["q1-test"] < 4.0
