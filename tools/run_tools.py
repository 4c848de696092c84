#!/usr/bin/env python
"""Runs several of the project's tools one after another in one process, so
that Python, pycaffe, the tools' libraries and their nets (fvvae.trunks.netcache)
are loaded once: a streamed side's chunks, each the trunk's pass over the
chunk and every method's encode.py / extract_fv.py call.

    .venv/bin/python tools/run_tools.py PLAN.json

PLAN.json (fvvae.run.adapter writes it): {"desc": NAME, "chunks": [{"work":
FOLDER, "jobs": [[LABEL, TOOL, [ARG, ...]], ...]}, ...]}: for each chunk its
jobs (e.g. [["GA", "encode.py", ["--method", "ga", ...]]]), then FOLDER (the chunk's stores) is
deleted, and a chunk whose deleted stores are still open in this process is
an error (their disk would not be freed); one line a chunk on stderr
("run_tools: NAME chunk I of N done"); writes PLAN.json.seconds ({LABEL:
seconds}). Stops at the first job that fails, with that job's exit status and
its own message.
"""
import gc
import importlib.util
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("GLOG_minloglevel", "2")


def load(tool):
    path = os.path.join(HERE, tool)
    if os.path.dirname(tool) or not tool.endswith(".py") or not os.path.isfile(path):
        raise SystemExit("run_tools: %r is not one of tools/*.py" % tool)
    spec = importlib.util.spec_from_file_location("fvvae_tool_" + tool[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODULES = {}


def run(tool, args, what):
    """tools/TOOL's main(args) in this process; its seconds."""
    module = MODULES.get(tool) or MODULES.setdefault(tool, load(tool))
    start = time.time()
    try:
        module.main([str(a) for a in args])
    except SystemExit as e:
        if e.code not in (None, 0):
            print("run_tools: %s failed (%s)" % (tool, what), file=sys.stderr)
            raise
    return time.time() - start


def still_open(folder):
    """Files under `folder` this process still holds (descriptors or maps)."""
    prefix = os.path.abspath(folder).rstrip("/") + "/"
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if target.startswith(prefix):
            held.add(target)
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].strip().startswith(prefix):
                held.add(parts[5].strip())
    return sorted(held)


def run_plan(plan):
    from fvvae.run.streaming import remove
    from fvvae.run.toollog import close_under
    chunks, desc, seconds = plan["chunks"], plan.get("desc", "chunks"), {}
    for c, chunk in enumerate(chunks):
        start = time.time()
        os.makedirs(chunk["work"], exist_ok=True)
        for j, (label, tool, args) in enumerate(chunk["jobs"]):
            seconds[label] = seconds.get(label, 0.0) + run(
                tool, args, "%s chunk %d of %d, job %d of %d" % (desc, c + 1, len(chunks), j + 1,
                                                                len(chunk["jobs"])))
        close_under(chunk["work"])
        gc.collect()
        remove(chunk["work"])
        held = still_open(chunk["work"])
        if held:
            raise SystemExit("run_tools: %s stays open after its chunk was deleted (its disk is "
                             "not freed): %s" % (held[0], chunk["work"]))
        print("run_tools: %s chunk %d of %d done (%.1f s)" % (desc, c + 1, len(chunks),
                                                             time.time() - start),
              file=sys.stderr, flush=True)
    return seconds


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: run_tools.py PLAN.json")
    try:
        with open(argv[0]) as f:
            plan = json.load(f)
        assert isinstance(plan, dict) and all(len(j) == 3 for c in plan["chunks"]
                                              for j in c["jobs"])
    except (OSError, ValueError, AssertionError, TypeError, KeyError) as e:
        raise SystemExit("run_tools: %s: not a plan of chunks (%s)" % (argv[0], e))
    seconds = run_plan(plan)
    with open(argv[0] + ".seconds.tmp", "w") as f:
        json.dump(seconds, f)
    os.replace(argv[0] + ".seconds.tmp", argv[0] + ".seconds")

if __name__ == "__main__":
    main()
