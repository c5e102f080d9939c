"""The course's main job (``make course``), apart from the grader it uses.

:mod:`.releases` regenerates ``release/`` from ``source/`` and grades :mod:`.demo`'s class
(``python -m autograder.course_build``); ``docs/site/build_site.py`` builds the website.
"""
