"""Run a module under cProfile and write its stats even when it ends by SIGTERM.

    python bench/_profiled.py OUT.prof MODULE [ARGS...]

`python -m cProfile` writes nothing for a server stopped with SIGTERM: uvicorn re-raises the signal after
its graceful shutdown, and the default action kills the process. A handler that exits instead is what
uvicorn restores before re-raising, so the profile is written on the way out.
"""

from __future__ import annotations

import cProfile
import os
import runpy
import signal
import sys

if __name__ == "__main__":
    out, module, *rest = sys.argv[1:]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.argv = [module, *rest]
    sys.path[0] = os.getcwd()  # what `python -m` puts first, in place of this script's folder
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        profiler.disable()
        profiler.dump_stats(out)
