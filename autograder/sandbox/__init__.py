"""The security boundary: everything that decides what a student's code can reach.

- :mod:`.confinement`: the sandbox (bubblewrap mounts, no network, own PID namespace and
  uid, rlimits through prlimit) and :class:`~.confinement.Limits`, every limit;
- :mod:`.forbidden`: the modules a graded function may not use (the course's answers,
  the grader's reference and judge, autodiff libraries), laid over by a stub in the
  sandbox;
- :mod:`.kernel`: a notebook executed cell by cell by a kernel inside the sandbox;
- :mod:`.warm_kernels` and :mod:`.zygote`: kernels forked, already warm, into a sandbox
  bwrap has built (:mod:`.zygote` is a script run by path, standard library only).

No module here imports the judge or the checks; student code runs only behind
:meth:`.confinement.Sandbox.wrap`.
"""
