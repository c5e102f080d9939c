"""Staging: copy a submission aside and repair it against the instructor's source.

A submission may hold invalid or empty notebooks, renamed notebooks, deleted,
duplicated, retyped or edited test cells, or grading metadata of its own. Each problem
is repaired in the staging copy (never in ``submitted/``) and becomes a message for
that student; nbgrader then autogrades the staged copy.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import nbformat

from autograder.cells import grade_id as _gid
from autograder.cells import is_test as _is_test
from autograder.cells import remove_hidden_regions

__all__ = ["submission_hash", "repair_notebook", "stage_submission"]


def submission_hash(path: Path) -> str:
    """sha256 over the relative paths and bytes of every file of a submission."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.is_symlink():
            h.update(str(p.relative_to(path)).encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _read_notebook(path: Path) -> tuple[Any | None, str | None]:
    """Return (notebook, None), or (None, what is wrong with the file)."""
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
    return remove_hidden_regions(cell.source)


# ----------------------------------------------------------------------- repairs

def _drop_copies(nb: Any, src_by_id: dict, name: str) -> list[str]:
    """Keep the first copy of each graded cell; strip metadata the source does not know."""
    msgs: list[str] = []
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
    return msgs


def _restore_cell(cell: Any, src: Any, gid: str, name: str) -> list[str]:
    """Give a graded cell back its source's type, test code and metadata."""
    msgs = []
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
    return msgs


def _restore_deleted(nb: Any, src_cells: list, src_by_id: dict, done: set,
                     name: str) -> list[str]:
    """Put back deleted test cells after the nearest earlier nbgrader cell present."""
    msgs = []
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


def repair_notebook(nb: Any, source: Any, name: str) -> list[str]:
    """Repair ``nb`` in place against its ``source`` notebook; return what was wrong."""
    src_cells = [c for c in source.cells if _gid(c)]
    src_by_id = {_gid(c): c for c in src_cells}
    msgs = _drop_copies(nb, src_by_id, name)
    done: set[str] = set()
    for cell in nb.cells:
        gid = _gid(cell)
        if gid in src_by_id and gid not in done:
            done.add(gid)
            msgs += _restore_cell(cell, src_by_id[gid], gid, name)
    return msgs + _restore_deleted(nb, src_cells, src_by_id, done, name)


# ----------------------------------------------------------------------- staging

def _copy_files(submitted: Path, stage: Path) -> dict[str, Path]:
    """Copy the submission's other files; return its top-level notebooks by name."""
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
    return notebooks


def _find_renamed(name: str, source: Any, notebooks: dict[str, Path]) -> list[tuple]:
    """Return the (file name, notebook) of other notebooks holding this one's cells."""
    ids = {_gid(c) for c in source.cells if _gid(c)}
    candidates = []
    for other, path in notebooks.items():
        nb, err = _read_notebook(path)
        if nb is not None and ids & {_gid(c) for c in nb.cells}:
            candidates.append((other, nb))
    return candidates


def _load_notebooks(sources: dict[str, Any], notebooks: dict[str, Path],
                    msgs: list[str]) -> dict[str, Any]:
    """Read the notebooks of the assignment ({name: notebook, or False if unreadable})."""
    loaded: dict[str, Any] = {}
    for name in sources:
        if name in notebooks:
            nb, err = _read_notebook(notebooks.pop(name))
            if err:
                msgs.append(f"{name}.ipynb: {err}; it scores zero")
            loaded[name] = False if err else nb
    for name in sources:
        if name in loaded:
            continue
        candidates = _find_renamed(name, sources[name], notebooks)
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
    return loaded


def stage_submission(submitted: Path, stage: Path,
                     sources: dict[str, Any]) -> tuple[list[str], int]:
    """Copy a submission into ``stage``, repairing notebooks; return (messages, n_notebooks)."""
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    msgs: list[str] = []
    loaded = _load_notebooks(sources, _copy_files(submitted, stage), msgs)
    staged = 0
    for name, nb in loaded.items():
        if nb is False:
            continue
        msgs.extend(repair_notebook(nb, sources[name], name))
        nbformat.write(nb, stage / f"{name}.ipynb")
        staged += 1
    return msgs, staged
