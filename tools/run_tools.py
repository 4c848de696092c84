#!/usr/bin/env python
"""Runs several of the project's tools one after another in one process, so
that Python, pycaffe and the tools' libraries are loaded once (a streamed
chunk's test rows: every method's encode.py / extract_fv.py call).

    .venv/bin/python tools/run_tools.py JOBS.json

JOBS.json: [[TOOL, [ARG, ...]], ...], e.g. [["encode.py", ["--method", "ga",
...]]]. Writes JOBS.json.seconds ([seconds of each job]). Stops at the first
job that fails, with that job's exit status and its own message.
"""
import importlib.util
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
os.environ.setdefault("GLOG_minloglevel", "2")


def load(tool):
    path = os.path.join(HERE, tool)
    if os.path.dirname(tool) or not tool.endswith(".py") or not os.path.isfile(path):
        raise SystemExit("run_tools: %r is not one of tools/*.py" % tool)
    spec = importlib.util.spec_from_file_location("fvvae_tool_" + tool[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: run_tools.py JOBS.json")
    try:
        with open(argv[0]) as f:
            jobs = json.load(f)
        assert isinstance(jobs, list) and all(len(j) == 2 for j in jobs)
    except (OSError, ValueError, AssertionError, TypeError) as e:
        raise SystemExit("run_tools: %s: not a list of [tool, [args]] (%s)" % (argv[0], e))
    modules, seconds = {}, []
    for tool, args in jobs:
        module = modules.get(tool) or modules.setdefault(tool, load(tool))
        start = time.time()
        try:
            module.main([str(a) for a in args])
        except SystemExit as e:
            if e.code not in (None, 0):
                print("run_tools: %s failed (job %d of %d)" % (tool, len(seconds) + 1, len(jobs)),
                      file=sys.stderr)
                raise
        seconds.append(time.time() - start)
    with open(argv[0] + ".seconds.tmp", "w") as f:
        json.dump(seconds, f)
    os.replace(argv[0] + ".seconds.tmp", argv[0] + ".seconds")


if __name__ == "__main__":
    main()
