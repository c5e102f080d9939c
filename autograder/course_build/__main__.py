"""``python -m autograder.course_build``: the releases and the demo class (``make course``)."""

import sys

from autograder.course_build.releases import main

sys.exit(main())
