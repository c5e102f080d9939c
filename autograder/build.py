"""``python -m autograder.build``: the command of earlier releases of the course, kept;
the main job lives in :mod:`autograder.course_build`."""

import sys

from autograder.course_build.releases import main

if __name__ == "__main__":
    sys.exit(main())
