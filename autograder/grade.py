"""Grade a whole class with nbgrader, in parallel, in a sandbox, judged outside it.

For each student the grader runs nbgrader's own ``Autograde`` converter (so the
gradebook, ``autograded/``, late penalties, ``nbgrader export`` and formgrader work as
usual) with two preprocessors swapped in:

* :class:`SandboxedExecute` replaces nbgrader's ``Execute``: it ships the sanitized
  notebook to a worker (a local process pool, or a Dask cluster with ``--scheduler``),
  which runs it in a bubblewrap sandbox and judges the recorded outputs
  (:func:`autograder.sandbox.run_task`);
* :class:`JudgeScores` runs after ``SaveAutoGrades`` and sets the score of every test cell
  from the judge's verdict, whatever the notebook printed.

Before that, each submission is checked and repaired in a staging copy (invalid or
empty notebooks, renamed notebooks, deleted, duplicated, retyped or edited test cells),
each problem becoming a message for that student. Gradebook I/O happens in this process
only, one student at a time (a lock released while the sandbox runs), so SQLite and
PostgreSQL gradebooks see the same sequence of writes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import shutil
import sys
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    IgnorePattern,
    LimitOutput,
    NbGraderPreprocessor,
    SaveAutoGrades,
)
from sqlalchemy.exc import SAWarning, SQLAlchemyError
from traitlets import Unicode
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.cells import grade_id as _gid
from autograder.cells import is_test as _is_test
from autograder.sandbox import Limits, SandboxError, check_sandbox, run_task
from autograder.seeds import student_seed

STATE_DIR = ".autograder"


class GradingError(Exception):
    """Bad input (unknown assignment or student, missing gradebook...): stop, say why."""


@dataclass
class StudentResult:
    student: str
    status: str  # graded | skipped | failed
    score: float | None = None
    max_score: float | None = None
    tests_passed: int = 0
    tests_total: int = 0
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------- config


def find_course_root(start: Path | None = None) -> Path:
    """The directory holding ``nbgrader_config.py``: cwd or a parent, else the repository."""
    here = (start or Path.cwd()).resolve()
    for d in [here, *here.parents]:
        if (d / "nbgrader_config.py").is_file():
            return d
    return Path(__file__).resolve().parent.parent


def load_config(root: Path) -> Config:
    cfg = Config()
    if (root / "nbgrader_config.py").is_file():
        cfg.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    cfg.CourseDirectory.root = str(root)
    return cfg


def normalize_db_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 to SQLAlchemy >= 2.1; use psycopg2 if that is
    what is installed (the project depends on psycopg2-binary)."""
    if url.startswith("postgresql://"):
        import importlib.util

        if importlib.util.find_spec("psycopg") is None and \
                importlib.util.find_spec("psycopg2") is not None:
            return "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def _safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def limits_from_config(cfg: Config) -> Limits:
    lim = Limits()
    section = cfg.get("Autograder", {})
    for name in asdict(lim):
        if name in section:
            setattr(lim, name, type(getattr(lim, name))(section[name]))
    if "timeout" in cfg.get("Execute", {}) and "cell_timeout" not in section:
        lim.cell_timeout = int(cfg.Execute.timeout)
    return lim


# ------------------------------------------------------------------ preprocessors


class SandboxedExecute(NbGraderPreprocessor):
    """Execute the notebook in a sandbox on a worker and keep the judge's verdicts."""

    runner_id = Unicode("", help="key of this run's _Runner in RUNNERS").tag(config=True)

    @property
    def runner(self) -> "_Runner":
        return RUNNERS[self.runner_id]

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        result = self.runner.run(nb, info["student"], info["assignment"], info["notebook"])
        executed = nbformat.reads(result["notebook"], as_version=4)
        # Keep our own cells (metadata, sources) and take only what execution produced.
        if len(executed.cells) == len(nb.cells):
            for mine, theirs in zip(nb.cells, executed.cells):
                if mine.cell_type == "code":
                    mine.outputs = theirs.get("outputs", [])
                    mine.execution_count = theirs.get("execution_count")
        resources.setdefault("autograder", {})[info["notebook"]] = result
        self.runner.local.results[info["notebook"]] = result
        return nb, resources


class JudgeScores(NbGraderPreprocessor):
    """Score every test cell from the judge's verdict (after ``SaveAutoGrades``)."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        result = resources["autograder"][info["notebook"]]
        verdicts = result["verdicts"]
        if result.get("judge_error"):
            default = {"passed": False,
                       "message": f"the grader could not judge this notebook: "
                                  f"{result['judge_error']}"}
        else:
            default = {"passed": False, "message": "this test did not run (no result recorded)"}
        with Gradebook(info["db_url"]) as gb:
            source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            solutions = {c.name for c in source_nb.solution_cells}
            tests = {c.name for c in source_nb.grade_cells
                     if c.cell_type == "code" and c.name not in solutions}
            sub = gb.find_submission_notebook(info["notebook"], info["assignment"],
                                              info["student"])
            for grade in sub.grades:
                if grade.name in tests:
                    v = verdicts.get(grade.name, default)
                    grade.auto_score = grade.max_score if v["passed"] else 0.0
                    grade.needs_manual_grade = False
            gb.db.commit()
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in tests:
                cell.metadata["autograder"] = dict(verdicts.get(gid, default))
        result["tests"] = {gid: verdicts.get(gid, default) for gid in sorted(tests)}
        return nb, resources


AUTOGRADE_PREPROCESSORS = [
    SandboxedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    JudgeScores,
    AssignLatePenalties,
    CheckCellMetadata,
]


# ------------------------------------------------------------------------ staging


def submission_hash(path: Path) -> str:
    """sha256 over the relative paths and bytes of every file of a submission."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.is_symlink():
            h.update(str(p.relative_to(path)).encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _read_notebook(path: Path) -> tuple[Any | None, str | None]:
    data = path.read_bytes()
    if not data.strip():
        return None, "the file is empty"
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return None, f"the file is not valid JSON ({e})"
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return None, "the file is JSON but not a Jupyter notebook (no list of cells)"
    try:
        nb = nbformat.reads(data.decode(), as_version=4)
    except Exception as e:
        return None, f"the file is not a readable notebook ({type(e).__name__}: {e})"
    for cell in nb.cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return None, "the notebook has a cell of unknown type"
        if not isinstance(cell.get("source", ""), str):
            cell["source"] = "".join(cell.get("source") or [])
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.NotebookNode()
    return nb, None


def _released_source(cell: Any) -> str:
    c = copy.deepcopy(cell)
    ClearHiddenTests(enforce_metadata=False)._remove_hidden_test_region(c)
    return c.source


def repair_notebook(nb: Any, source: Any, name: str) -> list[str]:
    """Repair ``nb`` in place against its ``source`` notebook; return what was wrong."""
    msgs: list[str] = []
    src_cells = [c for c in source.cells if _gid(c)]
    src_by_id = {_gid(c): c for c in src_cells}
    seen: dict[str, int] = {}
    for cell in nb.cells:
        gid = _gid(cell)
        if gid:
            seen[gid] = seen.get(gid, 0) + 1
    for gid, n in seen.items():
        if n > 1 and gid in src_by_id:
            msgs.append(f"{name}: cell '{gid}' appears {n} times; only the first copy counts")
    for cell in nb.cells:  # nbgrader metadata the source does not know: plain cells
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is not None and _gid(cell) not in src_by_id:
            msgs.append(f"{name}: a cell carries grading metadata not in the assignment "
                        f"({_gid(cell) or 'no grade_id'}); it is graded as an ordinary cell")
            cell.metadata.pop("nbgrader")
    # Later copies of a test cell are dropped; of other cells, they become plain cells.
    first: set[str] = set()
    kept = []
    for cell in nb.cells:
        gid = _gid(cell)
        if gid in src_by_id and gid in first:
            if _is_test(src_by_id[gid]):
                continue
            cell.metadata.pop("nbgrader", None)
        elif gid:
            first.add(gid)
        kept.append(cell)
    nb.cells = kept
    done: set[str] = set()
    for cell in nb.cells:
        gid = _gid(cell)
        if gid not in src_by_id or gid in done:
            continue
        done.add(gid)
        src = src_by_id[gid]
        if cell.cell_type != src.cell_type:
            msgs.append(f"{name}: cell '{gid}' was changed from {src.cell_type} to "
                        f"{cell.cell_type}; restored as {src.cell_type}")
            cell.cell_type = src.cell_type
            if src.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            else:
                cell.pop("outputs", None)
                cell.pop("execution_count", None)
        if _is_test(src) and cell.source.strip() != _released_source(src).strip():
            msgs.append(f"{name}: test cell '{gid}' was edited; restored from the source")
        if cell.metadata["nbgrader"] != src.metadata["nbgrader"]:
            # points, grade/solution flags, schema: only the instructor's count
            cell.metadata["nbgrader"] = copy.deepcopy(src.metadata["nbgrader"])
    # Restore deleted test cells after the nearest earlier nbgrader cell that is present.
    for i, src in enumerate(src_cells):
        gid = _gid(src)
        if gid in done or not _is_test(src):
            if gid not in done and gid in src_by_id and not _is_test(src):
                msgs.append(f"{name}: cell '{gid}' was deleted")
            continue
        msgs.append(f"{name}: test cell '{gid}' was deleted; restored from the source")
        new = nbformat.v4.new_code_cell(_released_source(src),
                                        metadata=copy.deepcopy(src.metadata))
        pos = 0
        for prev in reversed(src_cells[:i]):
            idx = next((k for k, c in enumerate(nb.cells) if _gid(c) == _gid(prev)), None)
            if idx is not None:
                pos = idx + 1
                break
        nb.cells.insert(pos, new)
        done.add(gid)
    return msgs


def stage_submission(submitted: Path, stage: Path,
                     sources: dict[str, Any]) -> tuple[list[str], int]:
    """Copy a submission into ``stage``, repairing notebooks; return (messages, n_notebooks)."""
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    msgs: list[str] = []
    notebooks: dict[str, Path] = {}
    for p in sorted(submitted.rglob("*")):
        if p.is_symlink() or not p.is_file():
            continue
        rel = p.relative_to(submitted)
        if p.suffix == ".ipynb" and len(rel.parts) == 1:
            notebooks[p.stem] = p
        elif ".ipynb_checkpoints" not in rel.parts:
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, stage / rel)
    staged = 0
    loaded: dict[str, Any] = {}
    for name in sources:
        if name in notebooks:
            nb, err = _read_notebook(notebooks.pop(name))
            if err:
                msgs.append(f"{name}.ipynb: {err}; it scores zero")
                loaded[name] = False
            else:
                loaded[name] = nb
    for name in sources:
        if name in loaded:
            continue
        ids = {_gid(c) for c in sources[name].cells if _gid(c)}
        candidates = []
        for other, path in notebooks.items():
            nb, err = _read_notebook(path)
            if nb is not None and ids & {_gid(c) for c in nb.cells}:
                candidates.append((other, nb))
        if len(candidates) == 1:
            other, nb = candidates[0]
            notebooks.pop(other)
            msgs.append(f"{name}.ipynb was missing but '{other}.ipynb' holds its cells "
                        f"(renamed?); graded it as {name}.ipynb")
            loaded[name] = nb
        else:
            msgs.append(f"{name}.ipynb is missing from the submission; it scores zero")
    for other in notebooks:
        msgs.append(f"{other}.ipynb is not part of the assignment; ignored")
    for name, nb in loaded.items():
        if nb is False:
            continue
        msgs.extend(repair_notebook(nb, sources[name], name))
        nbformat.write(nb, stage / f"{name}.ipynb")
        staged += 1
    return msgs, staged


# ------------------------------------------------------------------------- runner


RUNNERS: dict[str, "_Runner"] = {}


class _Runner:
    """Sends notebooks to the workers; shared by the student threads of one run."""

    def __init__(self, grader: "Grader", submit: Callable):
        self.grader = grader
        self.submit = submit
        self.local = threading.local()
        self.key = f"runner-{id(self)}"
        RUNNERS[self.key] = self

    def run(self, nb, student: str, assignment: str, notebook: str) -> dict:
        g = self.grader
        work = Path(g.coursedir.format_path(g.coursedir.autograded_directory, student,
                                            assignment))
        files, budget = {}, 64 * 2**20
        for p in sorted(work.rglob("*")) if work.is_dir() else []:
            if p.is_file() and not p.is_symlink() and p.suffix != ".ipynb":
                data = p.read_bytes()
                budget -= len(data)
                if budget < 0:
                    break
                files[str(p.relative_to(work))] = data
        task = {
            "notebook": nbformat.writes(nb),
            "notebook_id": notebook,
            "source_notebook": g.source_notebooks_text[notebook],
            "files": files,
            "seed": student_seed(student, assignment),
            "limits": asdict(g.limits),
            "unsafe_no_sandbox": g.unsafe_no_sandbox,
            "judge": g.judge,
        }
        g.lock.release()
        try:
            return self.submit(run_task, task).result()
        except SandboxError as e:
            self.local.machine_error = str(e)
            raise
        except Exception as e:
            self.local.machine_error = f"worker failed: {type(e).__name__}: {e}"
            raise
        finally:
            g.lock.acquire()
            # nbgrader's utils.setenv deletes NBGRADER_EXECUTION when the execution block
            # ends (it never restores a previous value); another student's block may have
            # deleted it meanwhile, so put it back while we hold the lock.
            os.environ["NBGRADER_EXECUTION"] = "autograde"


class _LocalPool:
    """A process pool of trusted workers on this machine, renewed if a worker dies.

    Each worker's address space is capped, so that a record crafted to make the judge
    allocate without bound raises MemoryError (that student's judge error) instead of
    taking the machine or the pool down. If a worker dies anyway, the student it was
    grading fails with a message and the next ones get a fresh pool.
    """

    def __init__(self, n: int, import_judge: bool, address_space: int):
        self.n, self.import_judge, self.address_space = n, import_judge, address_space
        self.lock = threading.Lock()
        self.pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(self.n, mp_context=get_context("spawn"),
                                   initializer=_limit_worker, initargs=(self.address_space,))
        # Start every worker now, from this thread and directory (nbgrader's converters
        # chdir later), and let them import the sandbox and the judge in parallel.
        for f in [pool.submit(_warm_up, self.import_judge) for _ in range(self.n)]:
            f.result()
        return pool

    def submit(self, fn: Callable, task: dict):
        pool = self.pool
        outer = self

        class _Result:
            def result(self_inner):
                try:
                    return pool.submit(fn, task).result()
                except BrokenProcessPool:
                    with outer.lock:
                        if outer.pool is pool:
                            pool.shutdown(wait=False, cancel_futures=True)
                            outer.pool = outer._start()
                    raise RuntimeError("the grading worker died while running or judging "
                                       "this submission") from None

        return _Result()

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _limit_worker(address_space: int) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > address_space:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))


def _warm_up(import_judge: bool) -> None:
    time.sleep(0.2)  # keep this worker busy so that the next warm-up starts another one
    if import_judge:
        try:
            import autograder.judge  # noqa: F401
        except ImportError:
            pass


class _ErrorCollector(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


# ------------------------------------------------------------------------- grader


class Grader:
    """One grading run of one assignment (see :func:`grade`)."""

    def __init__(self, assignment: str, *, root: Path | str | None = None,
                 students: list[str] | None = None, workers: int | None = None,
                 scheduler: str | None = None, db_url: str | None = None,
                 force: bool = False, progress: bool = True,
                 unsafe_no_sandbox: bool = False, judge: Callable | None = None,
                 limits: Limits | None = None, config: Config | None = None):
        # nbgrader runs `alembic` from PATH when it creates or upgrades a gradebook.
        bindir = str(Path(sys.executable).parent)
        if bindir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
        self.root = Path(root).resolve() if root else find_course_root()
        if not self.root.is_dir():
            raise GradingError(f"course directory {self.root} does not exist")
        self.assignment = assignment
        self.cfg = load_config(self.root)
        if config is not None:
            self.cfg.merge(config)
        if db_url:
            self.cfg.CourseDirectory.db_url = db_url
        if "db_url" in self.cfg.CourseDirectory:
            self.cfg.CourseDirectory.db_url = normalize_db_url(self.cfg.CourseDirectory.db_url)
        self.coursedir = CourseDirectory(config=self.cfg)
        self.db_url = self.coursedir.db_url
        self.workers = workers or len(os.sched_getaffinity(0)) or 1
        self.scheduler = scheduler
        self.force = force
        self.progress = progress
        self.unsafe_no_sandbox = unsafe_no_sandbox
        self.judge = judge
        self.limits = limits or limits_from_config(self.cfg)
        self.lock = threading.Lock()
        self.state_dir = self.root / STATE_DIR / "state" / assignment
        self.stage_root = self.root / STATE_DIR / "staging" / assignment
        self._check_inputs(students)

    # -- inputs
    def _check_inputs(self, students: list[str] | None) -> None:
        if self.db_url.startswith("sqlite:///"):
            path = Path(self.db_url[len("sqlite:///"):])
            if not path.is_absolute():
                path = self.root / path
            if not path.is_file():
                raise GradingError(
                    f"no gradebook at {path}: run `nbgrader generate_assignment "
                    f"{self.assignment}` in {self.root} first (or pass --db)")
        try:
            with Gradebook(self.db_url, self.coursedir.course_id) as gb:
                try:
                    assignment = gb.find_assignment(self.assignment)
                except MissingEntry:
                    known = ", ".join(sorted(a.name for a in gb.assignments)) or "none"
                    raise GradingError(
                        f"unknown assignment '{self.assignment}' (the gradebook knows: "
                        f"{known}); run `nbgrader generate_assignment {self.assignment}` "
                        "first") from None
                self.notebook_names = [nb.name for nb in assignment.notebooks]
        except (SQLAlchemyError, ImportError, ValueError) as e:
            raise GradingError(f"cannot open the gradebook {_safe_url(self.db_url)}: "
                               f"{str(e).splitlines()[0]}") from None
        source_dir = Path(self.coursedir.format_path(self.coursedir.source_directory, ".",
                                                     self.assignment))
        self.source_notebooks_text = {}
        self.source_notebooks = {}
        for name in self.notebook_names:
            path = source_dir / f"{name}.ipynb"
            if not path.is_file():
                raise GradingError(f"source notebook {path} is missing")
            self.source_notebooks_text[name] = path.read_text()
            self.source_notebooks[name] = nbformat.reads(self.source_notebooks_text[name], 4)
        submitted = Path(self.coursedir.format_path(self.coursedir.submitted_directory, "*",
                                                    self.assignment)).parent.parent
        found = sorted(p.name for p in submitted.glob("*")
                       if (p / self.assignment).is_dir()) if submitted.is_dir() else []
        if students:
            unknown = [s for s in students if s not in found]
            if unknown:
                raise GradingError(
                    f"no submission of '{self.assignment}' for student(s) "
                    f"{', '.join(unknown)} under {submitted}")
            found = list(students)
        if not found:
            raise GradingError(f"no submissions of '{self.assignment}' under {submitted}")
        self.students = found

    def submitted_dir(self, student: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.submitted_directory, student,
                                               self.assignment))

    # -- one student
    def _state_path(self, student: str) -> Path:
        return self.state_dir / f"{student}.json"

    def _up_to_date(self, student: str, digest: str) -> StudentResult | None:
        try:
            state = json.loads(self._state_path(student).read_text())
        except (OSError, ValueError):
            return None
        if state.get("hash") != digest or state.get("status") != "graded":
            return None
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            try:
                gb.find_submission(self.assignment, student)
            except MissingEntry:
                return None
        res = StudentResult(**{k: v for k, v in state["result"].items()})
        res.status = "skipped"
        return res

    def _zero_submission(self, student: str) -> None:
        """Record a submission scoring zero (no notebook could be graded)."""
        with Gradebook(self.db_url, self.coursedir.course_id) as gb, \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)  # nbgrader's autoflush chatter
            gb.update_or_create_student(student)
            ts = self.coursedir.get_existing_timestamp(str(self.submitted_dir(student)))
            kw = {"timestamp": ts} if ts else {}
            sub = gb.update_or_create_submission(self.assignment, student, **kw)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = False
            gb.db.commit()
        out = Path(self.coursedir.format_path(self.coursedir.autograded_directory, student,
                                              self.assignment))
        if out.exists():
            shutil.rmtree(out)

    def _scores(self, student: str, res: StudentResult) -> None:
        with Gradebook(self.db_url, self.coursedir.course_id) as gb:
            sub = gb.find_submission(self.assignment, student)
            res.score, res.max_score = float(sub.score), float(sub.max_score)

    def grade_student(self, student: str, runner: _Runner) -> StudentResult:
        t0 = time.monotonic()
        res = StudentResult(student, "graded")
        digest = None
        with self.lock:
            try:
                digest = self._grade_student_locked(student, runner, res)
            except Exception as e:  # never stop the batch
                res.status = "failed"
                res.messages.append(f"grader error: {type(e).__name__}: {e}")
            res.seconds = time.monotonic() - t0
            if res.status == "graded" and digest:
                self.state_dir.mkdir(parents=True, exist_ok=True)
                self._state_path(student).write_text(json.dumps(
                    {"hash": digest, "status": "graded", "result": asdict(res)}, indent=1))
        return res

    def _grade_student_locked(self, student: str, runner: _Runner,
                              res: StudentResult) -> str | None:
        """Grade one student (holding the lock); return the submission hash to record."""
        submitted = self.submitted_dir(student)
        digest = submission_hash(submitted)
        if not self.force:
            done = self._up_to_date(student, digest)
            if done is not None:
                res.__dict__.update(asdict(done))
                return None
        stage_sub = self.stage_root / student / student / self.assignment
        msgs, n = stage_submission(submitted, stage_sub, self.source_notebooks)
        res.messages.extend(msgs)
        if n == 0:
            self._zero_submission(student)
            self._scores(student, res)
            return digest
        cfg = Config()
        cfg.merge(self.cfg)
        cfg.CourseDirectory.submitted_directory = str(self.stage_root / student)
        cfg.CourseDirectory.assignment_id = self.assignment
        cfg.CourseDirectory.student_id = student
        cfg.Autograde.autograde_preprocessors = AUTOGRADE_PREPROCESSORS
        cfg.SandboxedExecute.runner_id = runner.key
        cfg.OverwriteCells.add_missing_cells = False
        coursedir = CourseDirectory(config=cfg)
        # nbgrader's log of this student goes to .autograder/logs/<assignment>/<student>.log
        log = logging.getLogger(f"autograder.nbgrader.{self.assignment}.{student}")
        log.propagate = False
        log.setLevel(logging.INFO)
        for h in log.handlers[:]:
            log.removeHandler(h)
            h.close()
        log_path = self.root / STATE_DIR / "logs" / self.assignment / f"{student}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(log_path, mode="w")
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        collector = _ErrorCollector()
        log.addHandler(file_handler)
        log.addHandler(collector)
        converter = Autograde(coursedir=coursedir, config=cfg, log=log)
        converter.force = True
        runner.local.machine_error = None
        runner.local.results = results = {}
        cwd = os.getcwd()
        try:
            converter.start()
        except Exception as e:
            if runner.local.machine_error:
                res.status = "failed"
                res.messages.append(f"grader error: {runner.local.machine_error}")
                return None
            errors = [line.strip().splitlines()[-1] for line in collector.lines
                      if "Traceback" in line] or [str(e)]
            res.messages.append(f"nbgrader could not autograde this submission ({errors[0]}; "
                                f"log: {log_path.relative_to(self.root)}); it scores zero")
            self._zero_submission(student)
        finally:
            os.chdir(cwd)
            file_handler.close()
            log.removeHandler(file_handler)
        for nb_id, r in sorted(results.items()):
            tests = r.get("tests", {})
            res.tests_total += len(tests)
            res.tests_passed += sum(1 for v in tests.values() if v["passed"])
            res.messages.extend(f"{nb_id}: {e}" for e in r.get("events", []))
            if r.get("judge_error"):
                res.messages.append(f"{nb_id}: judge error: {r['judge_error']}")
        self._scores(student, res)
        return digest

    # -- the whole class
    def run(self) -> list[StudentResult]:
        if not self.unsafe_no_sandbox:
            check_sandbox()
        results: list[StudentResult] = []
        todo = []
        for student in self.students:  # unchanged since last graded: skip, start nothing
            done = None if self.force else self._up_to_date(
                student, submission_hash(self.submitted_dir(student)))
            if done is not None:
                results.append(done)
            else:
                todo.append(student)
        if not todo:
            return sorted(results, key=lambda r: r.student)
        pool = client = None
        if self.scheduler:
            from distributed import Client

            try:
                client = Client(self.scheduler, set_as_default=False, timeout="10s")
            except (OSError, TimeoutError) as e:
                raise GradingError(f"cannot reach the Dask scheduler at {self.scheduler}: "
                                   f"{e}") from None
            runner = _Runner(self, lambda fn, task: client.submit(fn, task, pure=False))
            n_threads = max(1, sum(client.nthreads().values())) + 1
        else:
            n = min(self.workers, len(todo))
            pool = _LocalPool(n, self.judge is None,
                              max(4096, 2 * self.limits.memory_mb) * 2**20)
            runner = _Runner(self, pool.submit)
            n_threads = n + 1
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"grading {self.assignment}", unit="student",
                       file=sys.stderr)
        cwd = os.getcwd()
        quiet = warnings.catch_warnings()
        quiet.__enter__()
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's autoflush chatter
        try:
            with ThreadPoolExecutor(min(n_threads, len(todo))) as threads:
                futures = [threads.submit(self.grade_student, s, runner) for s in todo]
                for f in as_completed(futures):
                    results.append(f.result())
                    if bar is not None:
                        bar.update(1)
        finally:
            quiet.__exit__(None, None, None)
            os.chdir(cwd)
            if bar is not None:
                bar.close()
            if pool is not None:
                pool.shutdown()
            if client is not None:
                client.close()
            RUNNERS.pop(runner.key, None)
        results.sort(key=lambda r: r.student)
        return results


def grade(assignment: str, **kwargs: Any) -> list[StudentResult]:
    """Grade ``assignment`` for every submitted student (or ``students=[...]``).

    Keyword arguments are those of :class:`Grader`; ``judge`` replaces
    ``autograder.judge.judge_notebook`` (tests use a stand-in).
    """
    return Grader(assignment, **kwargs).run()


def summary_table(results: list[StudentResult]) -> str:
    """A plain-text table: one row per student, then the totals."""
    rows = [("student", "status", "score", "tests", "time", "messages")]
    for r in results:
        score = "-" if r.score is None else f"{r.score:g}/{r.max_score:g}"
        tests = f"{r.tests_passed}/{r.tests_total}" if r.tests_total else "-"
        first = r.messages[0] if r.messages else ""
        rows.append((r.student, r.status, score, tests, f"{r.seconds:.1f}s", first))
        for m in r.messages[1:]:
            rows.append(("", "", "", "", "", m))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row[:5], widths)) + "  " + row[5]
             for row in rows]
    lines.insert(1, "-" * min(120, max(len(x) for x in lines)))
    counts = {s: sum(r.status == s for r in results) for s in ("graded", "skipped", "failed")}
    lines.append(f"graded: {counts['graded']}  skipped (unchanged): {counts['skipped']}  "
                 f"failed: {counts['failed']}  with messages: "
                 f"{sum(bool(r.messages) for r in results)}")
    return "\n".join(line.rstrip() for line in lines)
