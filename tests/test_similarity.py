"""The similarity report (``python -m autograder similarity``) on hand-written submissions.

The class (tests/fixtures/similarity): ana's own solution; ben's copy of it in disguise;
chloe and dev, written independently; eli, who pasted the layers from the course package;
fay, ana's code in a notebook whose nbgrader metadata was stripped; gus and hal, who
handed in the release unchanged; ivy, whose notebook is not JSON; kim, whose code would
leave a file behind if anything ran it.

A second class (tests/fixtures/similarity/corpus.py): 60 students who wrote a3's short
first parts on their own, converging as students do, and 4 who copied one of them.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from fixtures.similarity import classroom as cr
from fixtures.similarity import corpus
from traitlets.config import Config

from autograder.config import Similarity, open_course
from autograder.similarity import compare as similarity

INDEPENDENT = ["ana", "chloe", "dev"]


def _kim(marker: Path) -> dict[str, str]:
    """Answers that write ``marker`` when run: at import of the cell and in every call."""
    code = cr.hand_written()["chloe"]
    leave = f"open({str(marker)!r}, 'w').write('student code ran')\n"
    return {gid: leave + src for gid, src in code.items()}


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    course = cr.new_course(tmp_path_factory.mktemp("similarity") / "course")
    written = cr.hand_written()
    for student, answers in written.items():
        cr.submit(course, student, answers)
    stripped = cr.submit(course, "fay", written["ana"])
    nb = nbformat.read(stripped, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            del cell.metadata["nbgrader"]
    nbformat.write(nb, stripped)
    cr.submit(course, "gus", {})
    cr.submit(course, "hal", {})
    cr.notebook_path(course, "ivy").parent.mkdir(parents=True)
    cr.notebook_path(course, "ivy").write_text("{ this is not a notebook")
    marker = course.parent / "student-code-ran"
    cr.submit(course, "kim", _kim(marker))
    gradebook = _gradebook(course)
    before = hashlib.sha256(gradebook.read_bytes()).hexdigest()
    report = similarity.run(cr.ASSIGNMENT, course)
    return {"course": course, "report": report, "marker": marker, "gradebook": gradebook,
            "gradebook_sha": before}


def _gradebook(course: Path) -> Path:
    from nbgrader.api import Gradebook

    path = course / "gradebook.db"
    with pytest.MonkeyPatch.context() as mp:  # nbgrader runs `alembic` of this environment
        mp.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        with Gradebook(f"sqlite:///{path}") as gb:
            gb.add_assignment(cr.ASSIGNMENT)
            for student in ("ana", "ben", "eli"):
                gb.add_student(student)
    return path


def pair(report, a: str, b: str) -> similarity.Pair | None:
    for p in report.pairs:
        if {p.a.name, p.b.name} == {a, b}:
            return p
    return None


def score(report, a: str, b: str) -> float:
    p = pair(report, a, b)
    return p.score if p else 0.0


# ------------------------------------------------------------------ what is flagged


def test_settings_come_from_nbgrader_config(klass, tmp_path):
    defaults = Similarity()
    rule = klass["report"].rule  # not set: the defaults
    assert (rule.threshold, rule.outlier, rule.min_tokens) == \
        (defaults.threshold, defaults.outlier, defaults.min_tokens)
    course = cr.new_course(tmp_path / "course")
    with open(course / "nbgrader_config.py", "a") as f:
        f.write("\nc.Similarity.threshold = 0.8\nc.Similarity.noise = 30\n"
                "c.Similarity.outlier = 5\nc.Similarity.min_tokens = 120\n"
                "c.Similarity.common_share = 0.3\nc.Similarity.common_min = 4\n"
                "c.Similarity.min_pairs = 20\n")
    conf = open_course(course).similarity
    assert (conf.threshold, conf.noise, conf.guarantee) == (0.8, 30, defaults.guarantee)
    assert (conf.outlier, conf.min_tokens, conf.common_share, conf.common_min,
            conf.min_pairs) == (5, 120, 0.3, 4, 20)
    conf = open_course(course, config=similarity.command_line_settings(
        ["--threshold", "0.6"], {"--threshold": "Similarity.threshold"})[1]).similarity
    assert (conf.threshold, conf.noise) == (0.6, 30)
    report = similarity.run(cr.ASSIGNMENT, course, out=tmp_path / "out",
                            config=Config({"Similarity": {"noise": 25}}))
    assert (report.rule.outlier, report.rule.min_tokens) == (5, 120)
    assert report.common_limit == 4  # 0 submissions: the least number rules


@pytest.mark.parametrize("line, hint", [
    ("c.Similarity.treshold = 0.8", "did you mean Similarity.threshold?"),
    ("c.Similarity.min_token = 50", "did you mean Similarity.min_tokens?"),
    ("c.Similarity.outliers = 3", "did you mean Similarity.outlier?")])
def test_a_misspelt_setting_stops_the_report(tmp_path, capsys, line, hint):
    course = cr.new_course(tmp_path / "course")
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\n{line}\n")
    assert similarity.main([cr.ASSIGNMENT, "--root", str(course)]) == 2
    assert hint in capsys.readouterr().out
    assert not (course / "similarity").exists()


def test_disguised_copy_is_flagged_first(klass):
    report = klass["report"]
    top = report.pairs[0]
    assert {top.a.name, top.b.name} in ({"ana", "ben"}, {"ana", "fay"}, {"ben", "fay"})
    p = pair(report, "ana", "ben")
    assert p.score >= 0.9 and p in report.flagged
    assert min(p.share_a, p.share_b) >= 0.9  # both ways: ben is ana's code, nothing more


def test_independent_solutions_score_low(klass):
    report = klass["report"]
    for i, a in enumerate(INDEPENDENT):
        for b in INDEPENDENT[i + 1:]:
            assert score(report, a, b) < 0.3, (a, b)
            assert pair(report, a, b) not in report.flagged
        assert score(report, a, "instructor's solution") < report.rule.threshold
        assert score(report, a, "course package") < 0.2


def test_copy_of_course_layers_is_flagged_against_the_course(klass):
    report = klass["report"]
    p = pair(report, "eli", "course package")
    assert p in report.flagged and p.a.name == "eli"
    # the matched regions of the course side lie in course/layers.py's affine pair
    layers = dict(p.b.parts)["course/layers.py"]
    start = p.b.code.index("def affine_forward", layers)
    end = p.b.code.index("# Element-wise activations", layers)
    assert _covered(p.slices_b, start, end) > 0.7 * (end - start)
    # eli's side: the pasted affine pair is matched, the MLP he wrote mostly is not
    code = p.a.code
    affine = code.index("def affine_forward"), code.index("def relu_forward")
    mlp = code.index("def mlp_forward"), code.index("def numerical_gradient")
    assert _covered(p.slices_a, *affine) > 0.9 * (affine[1] - affine[0])
    assert _covered(p.slices_a, *mlp) < 0.5 * (mlp[1] - mlp[0])


def _covered(slices, start: int, end: int) -> int:
    """Characters of [start, end) inside the matched regions."""
    return sum(max(0, min(e, end) - max(s, start)) for s, e in slices.T)


def test_stripped_metadata_does_not_hide_code(klass):
    report = klass["report"]
    assert score(report, "ana", "fay") >= 0.9


def test_blank_submissions_share_nothing(klass):
    report = klass["report"]
    for blank in ("gus", "hal"):
        assert not [p for p in report.pairs if blank in (p.a.name, p.b.name)], blank


def test_unreadable_notebook_is_reported_and_the_rest_compared(klass):
    report = klass["report"]
    assert set(report.problems) == {"ivy"}
    assert "unreadable notebook" in report.problems["ivy"]
    assert report.submissions == 9  # ana, ben, chloe, dev, eli, fay, gus, hal, kim


# ------------------------------------------------------------------ what it never does


def test_never_runs_student_code(klass):
    assert not klass["marker"].exists()
    kim = pair(klass["report"], "kim", "chloe")
    assert kim is not None and kim.score >= 0.9  # kim's code was read all the same


def test_never_touches_the_gradebook(klass):
    digest = hashlib.sha256(klass["gradebook"].read_bytes()).hexdigest()
    assert digest == klass["gradebook_sha"]


# ------------------------------------------------------------------ output files


def test_csv_ranks_every_pair_sharing_code(klass):
    report = klass["report"]
    assert report.csv == klass["course"] / "similarity" / cr.ASSIGNMENT / "pairs.csv"
    with open(report.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(report.pairs) > 10
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    rule = Similarity()  # flagged: high enough, unusual enough (or no distribution), long enough
    assert [int(r["flagged"]) for r in rows] == [
        int(float(r["score"]) >= rule.threshold and int(r["matched_tokens"]) >= rule.min_tokens
            and (r["robust_z"] == "" or float(r["robust_z"]) >= rule.outlier)) for r in rows]
    assert sum(int(r["flagged"]) for r in rows) == len(report.flagged) >= 5
    classmates = np.array([p.score for p in report.pairs if p.b.kind == "submission"])
    for p, r in zip(report.pairs, rows):  # percentile: the share of its distribution <= it
        if p.b.kind == "submission":
            assert p.percentile == pytest.approx(100 * np.mean(classmates <= p.score))
            assert float(r["percentile"]) == pytest.approx(p.percentile, abs=0.01)
    eli = next(r for r in rows if r["a"] == "eli" and r["b"] == "course package")
    assert eli["b_kind"] == "course" and eli["flagged"] == "1"


def test_html_report_is_self_contained_and_highlights_matches(klass):
    page = klass["report"].html.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page and "@import" not in page
    sections = re.findall(r'<details id="pair-(\d+)".*?</details>', page, flags=re.S)
    assert len(sections) >= len(klass["report"].flagged)
    details = [m.group(0) for m in re.finditer(r"<details.*?</details>", page, flags=re.S)]
    ben = next(d for d in details if "ana and ben" in d or "ben and ana" in d)
    assert ben.count('<span class="hl">') >= 4  # functions reordered: several regions
    eli = next(d for d in details if "eli and course package" in d)
    assert "<h4>course/layers.py</h4>" in eli
    assert "ivy: unreadable notebook" in page


def test_html_report_draws_each_distribution_and_marks_the_flagged_pairs(klass):
    report = klass["report"]
    page = report.html.read_text()
    figures = re.findall(r"<figure>.*?</figure>", page, flags=re.S)
    assert len(figures) == len(report.distributions) == 3  # classmates, solution, course
    for figure, dist in zip(figures, report.distributions.values()):
        bars = [int(n) for n in re.findall(r"%: (\d+) pairs</title>", figure)]
        assert sum(bars) == len(dist.scores)  # every pair sharing code is in a bar
        marks = re.findall(r'fill="#c0392b"><title>(.*?) ~ (.*?):', figure)
        assert sorted(marks) == sorted((p.a.name, p.b.name) for p in report.flagged
                                       if p.distribution == dist.name)
    classmates = figures[0]
    assert "Pairs of two submissions" in classmates and "median" in classmates


@pytest.mark.slow
def test_command_line(klass, tmp_path):
    course = klass["course"]
    r = subprocess.run([sys.executable, "-m", "autograder", "similarity", cr.ASSIGNMENT,
                        "--root", str(course), "--threshold", "0.95"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    flagged = re.findall(r"^\s+\d+%\s+(\S+)\s+~\s+(.+)$", r.stdout, flags=re.M)
    assert {frozenset(p) for p in flagged} == {
        frozenset(p) for p in [("ana", "ben"), ("ana", "fay"), ("ben", "fay"),
                               ("chloe", "kim")]}
    assert f"similarity/{cr.ASSIGNMENT}/report.html" in r.stdout
    missing = subprocess.run([sys.executable, "-m", "autograder", "similarity", "a9_nothing",
                              "--root", str(course)], capture_output=True, text=True)
    assert missing.returncode == 2 and "no notebook" in missing.stdout + missing.stderr


# ------------------------------------------------------------------ unit level


def test_solution_code_is_the_solution_cells_and_added_cells():
    release = cr.release_notebook()
    nb = nbformat.from_dict(release)
    test_cell = next(c for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code")
    test_cell.source += "\nedited_test_line = 1"
    nb.cells.append(nbformat.v4.new_code_cell("my_scratch = 42"))
    nb.cells.append(nbformat.v4.new_markdown_cell("my notes"))
    code = similarity.solution_code(nb, release_sources=frozenset(c.source for c in release.cells))
    assert "my_scratch = 42" in code
    assert "edited_test_line" not in code and "my notes" not in code
    assert "def affine_forward" in code and "def numerical_gradient" in code


def test_renaming_reordering_and_comments_keep_the_score():
    base = ("def f(a, b):\n    total = 0\n    for i in range(len(a)):\n"
            "        total = total + a[i] * b[i] - a[i] / (b[i] + 1)\n    return total\n\n\n"
            "def g(x):\n    out = [v * v + 3 * v for v in x if v > 0]\n    return sorted(out)\n")
    disguised = ("def g(values):\n    # squares and more\n\n    res = [q * q + 3 * q for q in"
                 " values if q > 0]\n    return sorted(res)\n\n\n\ndef f(p, q):\n"
                 "    acc = 0  # running sum\n    for k in range(len(p)):\n\n"
                 "        acc = acc + p[k] * q[k] - p[k] / (q[k] + 1)\n    return acc\n")
    other = ("import numpy as np\n\n\ndef f(a, b):\n    return float(np.dot(a, b))\n")
    docs = [similarity.Document(n, similarity.SUBMISSION, c)
            for n, c in [("base", base), ("disguised", disguised), ("other", other)]]
    pairs = {frozenset((p.a.name, p.b.name)): p for p in similarity.compare(docs, noise=15,
                                                                           guarantee=15)}
    assert pairs[frozenset(("base", "disguised"))].score > 0.9
    assert frozenset(("base", "other")) not in pairs or \
        pairs[frozenset(("base", "other"))].score < 0.3


def test_hand_written_solutions_are_correct():
    """ana, chloe, dev and eli are correct solutions (so 'independent' means 'correct too')."""
    reference, _ = similarity.instructor(open_course(cr.ROOT).config, cr.ASSIGNMENT)
    ref = {"np": np}
    exec(reference, ref)
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)
    params = {"W1": rng.normal(size=(3, 6)), "b1": rng.normal(size=6),
              "W2": rng.normal(size=(6, 2)), "b2": rng.normal(size=2)}
    dout = rng.normal(size=(4, 2))
    for student, cells in cr.hand_written().items():
        ns = {"np": np}
        exec("\n\n".join(cells.values()), ns)
        out, cache = ns["affine_forward"](x, W, b)
        np.testing.assert_allclose(out, ref["affine_forward"](x, W, b)[0], err_msg=student)
        for got, want in zip(ns["affine_backward"](out, cache),
                             ref["affine_backward"](out, ref["affine_forward"](x, W, b)[1])):
            np.testing.assert_allclose(got, want, err_msg=student)
        for act in ("relu", "sigmoid", "tanh"):
            scores, cache = ns["mlp_forward"](x, params, act)
            want_scores, want_cache = ref["mlp_forward"](x, params, act)
            np.testing.assert_allclose(scores, want_scores, err_msg=f"{student} {act}")
            grads, want = ns["mlp_backward"](dout, cache), ref["mlp_backward"](dout, want_cache)
            assert set(grads) == set(want)
            for k in want:
                np.testing.assert_allclose(grads[k], want[k], err_msg=f"{student} {act} {k}")
        v = rng.normal(size=(2, 3))
        np.testing.assert_allclose(ns["numerical_gradient"](lambda a: float(np.sum(a ** 3)), v),
                                   3 * v ** 2, rtol=1e-6, err_msg=student)


def test_matched_tokens_are_copydetects(klass):
    """The all-pairs counting gives copydetect's own compare_files numbers, pair by pair."""
    from copydetect import compare_files

    for p in klass["report"].pairs:
        tokens, (share_a, share_b), _ = compare_files(*p.prints)
        assert (tokens, share_a, share_b) == pytest.approx((p.tokens, p.share_a, p.share_b))


# ------------------------------------------------------------------ where a score sits


def test_robust_z_and_percentile_are_the_textbook_ones():
    from scipy.stats import percentileofscore

    from autograder.similarity import distribution

    rng = np.random.default_rng(3)
    scores = rng.beta(2, 8, size=300)
    dist = distribution.describe("classmates", scores, min_pairs=10)
    med = np.median(scores)
    mad = np.median(np.abs(scores - med))
    z = distribution.robust_z(dist, scores)
    np.testing.assert_allclose(z, 0.6745 * (scores - med) / mad, rtol=1e-4)  # Iglewicz-Hoaglin
    np.testing.assert_allclose(distribution.percentiles(dist, scores),
                               percentileofscore(scores, scores, kind="weak"))
    assert dist.score_at(3.5) == pytest.approx(med + 3.5 * mad / 0.6745, rel=1e-4)


def test_distribution_with_equal_scores_or_too_few_pairs():
    from autograder.similarity import distribution

    many_equal = np.r_[np.full(40, 0.2), [0.25, 0.3, 0.9]]  # MAD 0: the mean deviation
    dist = distribution.describe("d", many_equal, min_pairs=10)
    mean_dev = np.mean(np.abs(many_equal - 0.2))
    assert dist.spread == pytest.approx(mean_dev * 1.253314, rel=1e-6)
    z = distribution.robust_z(dist, many_equal)
    assert z[-1] == pytest.approx(0.7 / dist.spread) and z[-1] > z[-2] > 0 == z[0]
    all_equal = distribution.describe("d", np.full(12, 0.3), min_pairs=10)
    assert list(distribution.robust_z(all_equal, np.array([0.3, 0.5]))) == [0, np.inf]
    few = distribution.describe("d", np.array([0.1, 0.2, 0.9]), min_pairs=10)
    assert np.isnan(distribution.robust_z(few, np.array([0.9]))).all()


def _pair(score: float, tokens: int, z: float) -> similarity.Pair:
    a = similarity.Document("a", similarity.SUBMISSION, "")
    b = similarity.Document("b", similarity.SUBMISSION, "")
    return similarity.Pair(a, b, score, score, tokens, (None, None), z=z)


def test_flag_rule_needs_score_tokens_and_an_unusual_score():
    rule = similarity.FlagRule(threshold=0.45, outlier=3.5, min_tokens=60)
    assert rule.flags(_pair(0.8, 200, 6.0))
    assert not rule.flags(_pair(0.8, 200, 2.0))  # usual for this class
    assert not rule.flags(_pair(0.8, 40, 6.0))  # too little code matched
    assert not rule.flags(_pair(0.4, 200, 6.0))  # below the threshold
    assert rule.flags(_pair(0.8, 200, np.nan))  # no distribution: threshold and tokens


def test_common_code_is_set_aside_everywhere_and_only_it(klass):
    """The fingerprints found in more than `limit` submissions leave every document (the
    reference documents too); the others stay where they were; each document's coverage
    is that of what remains, so shares are shares of the code that is not common."""
    from collections import Counter

    from copydetect.utils import get_token_coverage

    config = open_course(klass["course"]).config
    codes, _ = similarity.submissions(config, cr.ASSIGNMENT)
    docs = [similarity.Document(n, similarity.SUBMISSION, c) for n, c in codes.items()]
    docs.append(similarity.course_package())
    plain, none = similarity.fingerprint(docs)
    held = Counter(h for fp, d in zip(plain, docs) if d.kind == similarity.SUBMISSION
                   for h in fp.hashes)
    common = {h for h, n in held.items() if n > 2}
    prints, count = similarity.fingerprint(docs, limit=2)
    assert none == 0 and count == len(common) > 0
    for before, after in zip(plain, prints):
        assert after.hashes == before.hashes - common
        assert after.hash_idx == {h: at for h, at in before.hash_idx.items() if h not in common}
        assert after.token_coverage == get_token_coverage(after.hash_idx, 25,
                                                          len(before.filtered_code))
        assert after.token_coverage <= before.token_coverage
    assert any(a.token_coverage < b.token_coverage for a, b in zip(prints, plain))


# ------------------------------------------------------------------ a class of short parts


@pytest.fixture(scope="module")
def convergent(tmp_path_factory):
    """60 students who wrote a3's first two parts on their own, and 4 who copied one of
    them (3 renamed, reordered and recommented; 1 also respelt every matrix product)."""
    students, copies = corpus.klass(60)
    course = cr.new_course(tmp_path_factory.mktemp("convergent") / "course")
    for student, answers in students.items():
        cr.submit(course, student, answers)
    report = similarity.run(cr.ASSIGNMENT, course)
    names = sorted(students)
    independent = {frozenset((a, b)) for i, a in enumerate(names) for b in names[i + 1:]}
    return {"course": course, "students": students, "copies": copies, "report": report,
            "independent": independent - copies}


def _random_case(rng, dtype):
    n, d, h = (int(k) for k in rng.integers(2, 7, size=3))
    shapes = [(n, d), (d, h), (h,), (n, h), (n, d)]  # x, W, b, dout, the gradient at x
    return [(rng.standard_normal(s) * 2).astype(dtype) for s in shapes]


def test_convergent_class_solutions_are_correct(convergent):
    """Every generated answer, copies included, gives the instructor's results on random
    inputs in float64 and float32: the class is of correct solutions."""
    reference, _ = similarity.instructor(open_course(cr.ROOT).config, cr.ASSIGNMENT)
    ref = {"np": np}
    exec(reference, ref)
    rng = np.random.default_rng(7)
    for student, answers in convergent["students"].items():
        assert set(answers) == set(corpus.PARTS)
        ns = {"np": np}
        exec("\n\n".join(answers.values()), ns)
        for dtype, tol in ((np.float64, 1e-10), (np.float32, 1e-4)):
            x, W, b, dout, dx = _random_case(rng, dtype)
            out, cache = ns["affine_forward"](x, W, b)
            want, want_cache = ref["affine_forward"](x, W, b)
            np.testing.assert_allclose(out, want, rtol=tol, atol=tol, err_msg=student)
            for got, exp in zip(ns["affine_backward"](dout, cache),
                                ref["affine_backward"](dout, want_cache)):
                np.testing.assert_allclose(got, exp, rtol=tol, atol=tol, err_msg=student)
            for layer in ("relu", "sigmoid", "tanh"):
                fwd, bwd = ns[f"{layer}_forward"], ns[f"{layer}_backward"]
                a, a_cache = fwd(x)
                want, want_cache = ref[f"{layer}_forward"](x)
                np.testing.assert_allclose(a, want, rtol=tol, atol=tol, err_msg=student)
                np.testing.assert_allclose(bwd(dx, a_cache), ref[f"{layer}_backward"](
                    dx, want_cache), rtol=tol, atol=tol, err_msg=f"{student} {layer}")


def test_convergent_class_defeats_a_fixed_share(convergent):
    """The problem: with nothing set aside as common code, a fixed share flags a large part
    of the independent pairs (the figure is in the failure message)."""
    config = open_course(convergent["course"]).config
    boilerplate, release_sources = similarity.release(config, cr.ASSIGNMENT)
    codes, _ = similarity.submissions(config, cr.ASSIGNMENT, (), release_sources)
    docs = [similarity.Document(n, similarity.SUBMISSION, c) for n, c in codes.items()]
    pairs = similarity.compare(docs, boilerplate)
    over = {frozenset((p.a.name, p.b.name)) for p in pairs if p.score >= Similarity().threshold}
    share = len(over & convergent["independent"]) / len(convergent["independent"])
    assert share > 0.25, f"{share:.1%} of independent pairs over the threshold"


def test_convergent_class_flags_the_copies_first_and_few_others(convergent):
    report, copies = convergent["report"], convergent["copies"]
    flagged = {frozenset((p.a.name, p.b.name)) for p in report.flagged}
    assert copies <= flagged
    plain = {corpus.copy_pair(o) for o, respelt in corpus.COPIES if not respelt}
    assert {frozenset((p.a.name, p.b.name)) for p in report.pairs[:len(plain)]} == plain
    wrong = flagged & convergent["independent"]
    assert len(wrong) < 0.02 * len(convergent["independent"]), len(wrong)
    against_references = [p for p in report.flagged if p.b.kind != similarity.SUBMISSION]
    assert len(against_references) <= 0.02 * 2 * len(convergent["students"])
    assert report.common_passages > 0 and report.common_limit == 0.2 * 64
    for p in report.pairs:
        if frozenset((p.a.name, p.b.name)) in copies:
            assert p.z >= report.rule.outlier and p.percentile >= 99
