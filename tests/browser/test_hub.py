"""A term on a real JupyterHub (``deploy/jupyterhub/``), driven in Chromium through the
hub's own login page on loopback: PAM logins of real Unix accounts, one server per user,
nbgrader's exchange with one folder per course, graders sharing one formgrader service.

The tests run in order and share one hub (one module): students fetch, answer, validate
and submit; the TA and the students meet the hub's permissions; one student tries to
read another's work; the instructor collects, grades in the sandbox and by hand, releases
feedback; the grades are exported; the hub restarts mid-term. Runs as root (the hub
starts servers as other users); the accounts come from ``ci/provision.sh``. Screenshots
of each step go to ``build/tour-hub/``.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
import tempfile
from pathlib import Path

import hub as H
import jlab
import nbformat
import pytest
from classroom import ASSIGNMENT, GOOD_AFFINE, ROOT, WRONG_AFFINE
from hub_pages import UserLab, manual_grade, read_as, server_pids
from playwright.sync_api import expect
from test_lab_instructor import ANSWER, FAILING, WRITTEN, _points
from test_lab_student import _nbgrader_menu

from autograder.course_build import demo

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the hub must run as root to "
                                "start servers as other users (CI runs as root)")

ADA, GRACE, ALAN = H.STUDENTS  # ada answers right, grace has dW wrong, alan snoops
AFFINE = {ADA: GOOD_AFFINE, GRACE: WRONG_AFFINE}
MANUAL = {ADA: 2.0, GRACE: 1.5}
COURSE_NB = f"dfnn/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"  # path_includes_course


SETUP = """
import sys
from nbgrader.apps import NbGraderAPI
from nbgrader.apps.nbgraderapp import NbGraderApp

app = NbGraderApp()
app.initialize([])
api = NbGraderAPI(config=app.config)
assignment, students = sys.argv[1], sys.argv[2:]
for step in (api.generate_assignment, api.release_assignment):
    result = step(assignment)
    assert result["success"], result
with api.gradebook as gb:
    for student in students:
        gb.update_or_create_student(student)
"""


@pytest.fixture(scope="module")
def shots(screens_dir):
    return screens_dir("tour-hub")


@pytest.fixture(scope="module")
def hub(shots):
    missing = H.missing_accounts()
    assert not missing, f"accounts {missing} are missing: run `sh ci/provision.sh` as root"
    base = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="dfnn-hub-"))
    try:
        with H.running_hub(base) as running:
            # nbgrader generate_assignment, release_assignment, db student add: in one
            # process of the instructor's, through nbgrader's API
            H.as_user(H.PROF, str(H.BIN / "python"), "-c", SETUP, ASSIGNMENT, *H.STUDENTS,
                      cwd=running.course, srv=running.srv)
            yield running
    finally:
        logs = shots / "logs"
        logs.mkdir(exist_ok=True)
        for log in (base / "state").glob("*.log"):
            shutil.copy(log, logs)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def pages(hub, chromium):
    """One logged-in browser context per account, kept for the whole term."""
    from conftest import watch

    contexts, out = [], {}
    for user in H.ACCOUNTS:  # everyone signs in, then the hub starts the servers at once
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        out[user] = context.new_page()
        watch(out[user])
        hub.submit_login(out[user], user)
    for user, page in out.items():
        hub.wait_for_lab(page, user)
    yield out
    for context in contexts:
        context.close()


def lab(hub, user) -> UserLab:
    return UserLab(hub, user)


# ----------------------------------------------------------------- 1. students at work

def test_students_log_in_and_see_only_the_assignment_list(hub, pages, shots):
    for user in H.STUDENTS:
        page = pages[user]
        items = _nbgrader_menu(page, lab(hub, user))
        page.screenshot(path=shots / f"1-{user}-nbgrader-menu.png")
        page.keyboard.press("Escape")
        assert items == {"nbgrader:open-assignment-list": "Assignment List"}, user
    pids = server_pids(H.ACCOUNTS)
    # One server per account, run as that account; the instructor's account also runs the
    # course's shared formgrader.
    assert {u: len(p) for u, p in pids.items()} == {**{u: 1 for u in H.ACCOUNTS}, H.PROF: 2}


@pytest.fixture(scope="module")
def submitted(hub, pages, shots):
    """ada and grace fetch a3, type their affine layer, run Validate and submit; every other
    answer is the instructor's solution (written into the fetched notebook), the written
    answer a sentence. Returns {student: Validate's dialog text}."""
    source = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    dialogs = {}
    for user, affine in AFFINE.items():
        page, user_lab = pages[user], lab(hub, user)
        jlab.open_lab(page, user_lab)
        jlab.open_assignment_list(page)
        jlab.fetch_assignment(page, ASSIGNMENT)
        page.screenshot(path=shots / f"1-{user}-fetched.png")
        path = H.home(user) / COURSE_NB
        answers = {**demo.answers(source), WRITTEN: ANSWER}
        answers.pop("affine_layer")
        nb = demo.fill(nbformat.read(path, as_version=4), answers)
        nbformat.write(nb, path)  # root writes it; the owner stays the student's
        notebook = jlab.open_notebook(page, user_lab, COURSE_NB)
        jlab.set_source(jlab.cell_by_text(notebook, "def affine_backward(dout, cache)"), affine)
        jlab.save(page)
        jlab.current_panel(page).locator("jp-button.validate-button").click()
        dialog = page.locator(".nbgrader-ErrorDialog, .jp-Dialog").filter(
            has_text="Validation Results")
        expect(dialog.locator(".validation-failed, .validation-success")).to_have_count(
            1, timeout=jlab.RUN)
        page.screenshot(path=shots / f"1-{user}-validate.png")
        dialogs[user] = dialog.inner_text()
        dialog.locator("button.jp-Dialog-button").first.click()
        jlab.open_lab(page, user_lab)
        jlab.open_assignment_list(page)
        jlab.submit_assignment(page, ASSIGNMENT)
        page.screenshot(path=shots / f"1-{user}-submitted.png")
    return dialogs


def test_validate_passes_the_right_layer_and_names_dW_for_the_wrong_one(submitted):
    assert "Success! Your notebook passes all the tests." in submitted[ADA]
    assert "dW is wrong" in submitted[GRACE]
    assert "checks.affine_backward(" in submitted[GRACE]


def test_submissions_are_in_the_exchange_under_the_course(hub, submitted):
    inbound = hub.exchange / "dfnn" / "inbound"
    names = [p.name for p in inbound.iterdir()]
    for user in AFFINE:
        mine = [n for n in names if n.startswith(f"{user}+{ASSIGNMENT}+")]
        assert len(mine) == 1, names
        assert (inbound / mine[0]).owner() == user
    assert not any(n.startswith(f"{ALAN}+") for n in names)


# ----------------------------------------------------------------- 2. who sees what

def test_ta_sees_formgrader_and_students_get_403(hub, pages, shots, submitted):
    ta = pages[H.TA]
    resp = ta.goto(f"{hub.url}services/dfnn/formgrader/manage_assignments")
    assert resp.ok
    expect(ta.locator("#main_table, table").first).to_contain_text(ASSIGNMENT,
                                                                 timeout=jlab.LOAD)
    ta.screenshot(path=shots / "2-ta-formgrader.png")

    alan = pages[ALAN]
    resp = alan.goto(f"{hub.url}services/dfnn/formgrader/manage_assignments")
    assert resp.status == 403
    alan.screenshot(path=shots / "2-student-formgrader-403.png")
    own = alan.request.get(hub.user_url(ALAN, "formgrader"))
    assert own.status == 404, "the formgrader extension is off in a student's own server"
    for path in ("lab", f"files/{COURSE_NB}", f"api/contents/{COURSE_NB}"):
        resp = alan.goto(hub.user_url(ADA, path))
        assert resp.status == 403, f"{ALAN} asked for {ADA}'s {path}: {resp.status}"
    alan.screenshot(path=shots / "2-student-other-server-403.png")


# ----------------------------------------------------------------- 3. nobody reads another's work

def test_a_student_cannot_read_another_students_submission(hub, pages, submitted, shots):
    inbound = hub.exchange / "dfnn" / "inbound"
    ada_home = H.home(ADA)
    sub = next(p for p in inbound.iterdir() if p.name.startswith(f"{ADA}+"))
    # The name of a submission ends with a random string: without it, no path to guess.
    guess = sub.name.rsplit(" ", 1)[0]
    results = read_as(ALAN, hub.srv, {
        "list inbound": ("listdir", str(inbound)),
        "find ada's submission": ("find", str(inbound / f"{ADA}+*" / f"{ASSIGNMENT}.ipynb")),
        "guess the submission": ("read", str(inbound / guess / f"{ASSIGNMENT}.ipynb")),
        "list ada's home": ("listdir", str(ada_home)),
        "read ada's notebook": ("read", str(ada_home / COURSE_NB)),
        "read ada's cache": ("listdir", str(ada_home / ".local/share/jupyter")),
    })
    assert all(r in ("PermissionError", "FileNotFoundError") for r in results.values()), results
    alan = pages[ALAN]
    own = alan.request.get(hub.user_url(ALAN, f"api/contents/../{ADA}"))
    assert own.status in (400, 403, 404), "the contents API stays inside alan's home"
    other = alan.goto(hub.user_url(ADA, f"api/contents/{COURSE_NB}?content=1"))
    assert other.status == 403
    alan.screenshot(path=shots / "3-student-contents-api-403.png")
    # The hub's page that starts a server: for another user's, the hub answers as if
    # there were no such user.
    spawn = alan.goto(f"{hub.url}hub/spawn/{ADA}")
    assert spawn.status == 404, "a student cannot start (or stop) another's server"


# ----------------------------------------------------------------- 4. grading and feedback

@pytest.fixture(scope="module")
def graded(hub, submitted):
    H.as_user(H.PROF, str(H.BIN / "nbgrader"), "collect", ASSIGNMENT, cwd=hub.course,
              srv=hub.srv)
    for user in AFFINE:
        assert (hub.course / "submitted" / user / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    H.run_as_root(sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--no-progress",
                  cwd=hub.course, srv=hub.srv, timeout=600)


def test_instructor_grades_the_written_answer_in_formgrader(hub, pages, graded, shots):
    page = pages[H.PROF]
    for user, score in MANUAL.items():
        manual_grade(page, hub, user, WRITTEN, score, f"Graded by hand for {user}.")
        page.screenshot(path=shots / f"4-formgrader-manual-{user}.png")


@pytest.fixture(scope="module")
def feedback(hub, pages, graded, shots):
    H.run_as_root(sys.executable, "-m", "autograder", "feedback", ASSIGNMENT,
                  cwd=hub.course, srv=hub.srv)
    H.as_user(H.PROF, str(H.BIN / "nbgrader"), "release_feedback", ASSIGNMENT,
              cwd=hub.course, srv=hub.srv)
    for user in AFFINE:
        page = pages[user]
        jlab.open_lab(page, lab(hub, user))
        jlab.open_assignment_list(page)
        row = jlab.assignment_rows(page, "submitted").filter(has_text=ASSIGNMENT)
        expect(row).to_contain_text("feedback available to fetch", timeout=jlab.LOAD)
        row.locator('button:text("Fetch Feedback")').click()
        expect(row.locator("a", has_text="view feedback")).to_have_count(1, timeout=jlab.LOAD)
        page.screenshot(path=shots / f"4-{user}-feedback-fetched.png")
    return {user: sorted((H.home(user) / "dfnn" / ASSIGNMENT / "feedback").rglob("*.html"))
            for user in H.STUDENTS}


def test_each_student_fetches_their_own_feedback_only(hub, feedback):
    assert feedback[ALAN] == []
    for user in AFFINE:
        assert len(feedback[user]) == 1, feedback[user]
        text = feedback[user][0].read_text()
        assert f"Graded by hand for {user}." in text
        other = next(u for u in AFFINE if u != user)
        assert f"Graded by hand for {other}." not in text
    assert "dW is wrong" in feedback[GRACE][0].read_text()
    assert "dW is wrong" not in feedback[ADA][0].read_text()
    listing = read_as(ALAN, hub.srv, {"list feedback": (
        "listdir", str(hub.exchange / "dfnn" / "feedback"))})
    assert listing == {"list feedback": "PermissionError"}


# ----------------------------------------------------------------- 5. the grades

def _export(hub) -> dict[str, tuple[float, float]]:
    H.as_user(H.PROF, str(H.BIN / "nbgrader"), "export", cwd=hub.course, srv=hub.srv)
    with open(hub.course / "grades.csv", newline="") as f:
        return {r["student_id"]: (float(r["score"]), float(r["max_score"]))
                for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT}


def test_export_has_what_each_student_earned(hub, pages, feedback, shots):
    auto, manual = _points(ASSIGNMENT)
    total = sum(auto.values()) + sum(manual.values())
    earned = {ADA: sum(auto.values()) + MANUAL[ADA],
              GRACE: sum(auto.values()) - sum(auto[g] for g in FAILING) + MANUAL[GRACE],
              ALAN: 0.0}
    rows = _export(hub)
    assert rows == {u: (pytest.approx(s), pytest.approx(total)) for u, s in earned.items()}
    page = pages[H.PROF]
    page.goto(f"{hub.url}services/dfnn/formgrader/manage_students")
    for user in H.STUDENTS:
        expect(page.locator("tr", has_text=user)).to_have_count(1, timeout=jlab.LOAD)
    page.screenshot(path=shots / "5-formgrader-students.png")


# ----------------------------------------------------------------- 6. the hub restarts

def test_hub_restart_keeps_servers_users_and_the_course(hub, chromium, feedback, shots):
    users = (H.TA, *H.STUDENTS)  # the instructor's formgrader service restarts with the hub
    before_pids, before_grades = server_pids(users), _export(hub)
    hub.stop()
    assert server_pids(users) == before_pids, "servers outlive the hub process"
    hub.start()
    assert server_pids(users) == before_pids
    from conftest import watched_page_of

    for user in AFFINE:
        with watched_page_of(chromium) as page:
            hub.login(page, user)
            jlab.open_assignment_list(page)
            expect(jlab.assignment_rows(page, "fetched").filter(has_text=ASSIGNMENT)
                   ).to_have_count(1, timeout=jlab.LOAD)
            row = jlab.assignment_rows(page, "submitted").filter(has_text=ASSIGNMENT)
            expect(row.locator("a", has_text="view feedback")).to_have_count(
                1, timeout=jlab.LOAD)
            page.screenshot(path=shots / f"6-{user}-after-restart.png")
    assert _export(hub) == before_grades
    assert any("jupyterhub_idle_culler" in cmd for _, cmd in H.all_processes().values())


def test_no_page_needed_the_internet_or_failed(pages):
    """Over the whole term, no page of any account (formgrader's included) asked another
    host for anything or logged an error."""
    problems = {u: p.log.problems() for u, p in pages.items()}
    # alan was refused on purpose (formgrader, ada's server, the spawn page): the browser
    # logs each refusal (403, and the spawn page's 404).
    problems[ALAN] = [p for p in problems[ALAN] if "status of 403 (Forbidden)" not in p
                      and "status of 404 (Not Found)" not in p]
    assert problems == {u: [] for u in pages}
