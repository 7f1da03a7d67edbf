"""IPython startup file for `make coverage` (copied into the kernels' IPYTHONDIR by the Makefile).

The report notebooks' code runs in Jupyter kernels, which coverage starts measuring in (patch = subprocess),
but the monthly run stops a kernel by killing it once its last cell is done, so nothing would be saved at
exit: the kernel saves its coverage data after every cell instead.
"""
import coverage

_cov = coverage.Coverage.current()
if _cov is not None:
    get_ipython().events.register("post_run_cell", lambda result: _cov.save())  # noqa: F821 (IPython's global)
