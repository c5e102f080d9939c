"""Per-student seeds for hidden checks.

A seed is a stable hash of a course salt, the student id and the assignment, so two
students see different numbers and the same student always sees the same ones. The
salt keeps seeds unguessable from outside: set ``AUTOGRADER_SALT`` in the environment
of the grader (and of ``nbgrader autograde``, if used); the default is the course id.
"""

from __future__ import annotations

import hashlib
import os

DEFAULT_SALT = "dfnn"


def course_salt() -> str:
    """Return the course salt: ``$AUTOGRADER_SALT`` if set, else the default."""
    return os.environ.get("AUTOGRADER_SALT") or DEFAULT_SALT


def student_seed(student_id: str, assignment: str, salt: str | None = None) -> int:
    """Return the seed (an int in ``[0, 2**32)``) of one student for one assignment."""
    salt = course_salt() if salt is None else salt
    h = hashlib.blake2b(digest_size=4, key=salt.encode()[:64] or b"\0")
    h.update(student_id.encode())
    h.update(b"\0")
    h.update(assignment.encode())
    return int.from_bytes(h.digest(), "big")
