"""The monthly run: step graph, cache keys, scheduling, atomic publishing.

Each step is a notebook executed by papermill (design decision 2) into the
month's build folder, or a function run in the runner's own process. A step is
reused when its cache key (inputs' content fingerprints, code version, notebook,
parameters, reference month) matches the manifest *and* its recorded outputs
are still intact; otherwise it reruns, together with everything downstream
(design decision 7). Reports are published only after every step succeeded and
every rendered file passed its checks, by swapping one symlink, so a failed or
interrupted run never replaces a good report.

One module per concern:

- ``steps``: the step graph (what each step reads, writes and renders)
- ``keys``: cache keys and the manifests that record them
- ``schedule``: running ready steps in parallel, longest chain first; run locks
- ``publish``: staging, the symlink swap, the shared folder
- ``errors``: the failures and their exit codes
- ``run``: one month's run, its log and the scheduler's summary
- ``files``: atomic JSON, fsync and time stamps the others share
"""
