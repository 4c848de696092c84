#!/usr/bin/env python
"""A streamed side's fixed cost a chunk: one process a side against the
baseline, a process a chunk.

    .venv/bin/python bench/chunk_process.py [--trunk vgg19_pool5] [--chunks 6] [--per-chunk 2]

Runs the same chunks of real frames (opencv-doc's clips) through a paper
trunk with random weights of its public shapes (tools/random_weights.py: the
558 MB VGG_19 caffemodel) twice, in one run:
- baseline, "a process a chunk" (the streamed path before): for each chunk
  tools/extract_descriptors.py in its own process (Python, pycaffe, the
  caffemodel's shape check and load), then tools/run_tools.py with the
  chunk's method job (GA's rows, tools/encode.py), then the chunk's stores
  deleted;
- "one process a side" (fvvae.run.streaming now): one tools/run_tools.py plan
  over every chunk, the trunk's net checked and loaded once (fvvae.trunks.netcache).
Both write the same rows (checked). The difference, per chunk, is the fixed
cost the plan removes; multiplied by the chunks of the paper's data sets
(UCF101 split 1 and ActivityNet v1.3 at --chunk 20; CUB at 500 images) it is
the time saved per stream, on the CPU here (the load is disk and CPU bound,
so a GPU machine pays it too). Writes bench/results/chunk_process.{csv,md}.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.path.join(ROOT, ".venv", "bin", "python")
# (data set, chunks of the training side, of the test side) at the defaults:
# training chunks hold as many items as test chunks (fvvae.run.streamed, spans)
CHUNKS = [("UCF101 split 1 (10-crop)", -(-9537 // 200), -(-3783 // 20)),
          ("ActivityNet v1.3", -(-10024 // 200), -(-4926 // 20)),
          ("CUB-200-2011", -(-5994 // 500), -(-5794 // 500))]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trunk", default="vgg19_pool5")
    ap.add_argument("--chunks", type=int, default=6)
    ap.add_argument("--per-chunk", type=int, default=2, help="frames a chunk")
    ap.add_argument("--workdir", default="/tmp/fvvae_chunk_bench")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    args = ap.parse_args(argv)
    from fvvae.testing.dataset_trees import example_frames
    import h5py
    work = os.path.abspath(args.workdir)
    os.makedirs(work, exist_ok=True)
    weights = os.path.join(work, args.trunk + ".caffemodel")
    if not os.path.exists(weights):
        subprocess.run([PY, os.path.join(ROOT, "tools", "random_weights.py"), "--trunk",
                        args.trunk, "--out", weights], check=True, capture_output=True)
    n = args.chunks * args.per_chunk
    frames = example_frames(os.path.join(work, "frames"), per_clip=max(5, -(-n // 2)))
    lst = os.path.join(work, "frames.txt")
    with open(lst, "w") as f:
        for i in range(n):
            f.write("%s %d v%d\n" % (frames[i % len(frames)], i % 2, i))
    extract = [os.path.join(ROOT, "tools", "extract_descriptors.py"), "--trunk", args.trunk,
               "--weights", weights, "--list", lst, "--batch", str(args.per_chunk)]

    def chunk_jobs(folder, c, out):
        a, b = c * args.per_chunk, (c + 1) * args.per_chunk
        chunk = os.path.join(folder, "chunk-%d" % c)
        return chunk, [
            ("trunk", "extract_descriptors.py", extract[1:] + [
                "--out", os.path.join(chunk, "sets.lmdb"),
                "--global", os.path.join(chunk, "global.lmdb"), "--items", "%d:%d" % (a, b)]),
            ("GA", "encode.py", ["--method", "ga", "--out", os.path.join(folder, "ga"),
                                 "--only", "test", "--test", os.path.join(chunk, "global.lmdb"),
                                 "--test-out", out, "--row-offset", str(a),
                                 "--rows-total", str(n), "--test-list", lst])]

    results = {}
    # baseline: a process a chunk
    folder = os.path.join(work, "per_chunk")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    out_a = os.path.join(folder, "ga_test.h5")
    start = time.time()
    for c in range(args.chunks):
        chunk, jobs = chunk_jobs(folder, c, out_a)
        (_, tool, targs), rest = jobs[0], jobs[1:]
        subprocess.run([PY, os.path.join(ROOT, "tools", tool)] + targs, check=True,
                       capture_output=True)
        spec = os.path.join(folder, "jobs-%d.json" % c)     # this chunk's methods: a plan
        with open(spec, "w") as f:
            json.dump({"desc": "chunk %d" % c, "chunks": [
                {"work": chunk, "jobs": [[label, t, a] for label, t, a in rest]}]}, f)
        subprocess.run([PY, os.path.join(ROOT, "tools", "run_tools.py"), spec], check=True,
                       capture_output=True)
        shutil.rmtree(chunk, ignore_errors=True)        # the plan removed it already
    results["a process a chunk"] = time.time() - start
    # one process a side: a plan
    folder = os.path.join(work, "per_side")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    out_b = os.path.join(folder, "ga_test.h5")
    plan = {"desc": "bench", "chunks": []}
    for c in range(args.chunks):
        chunk, jobs = chunk_jobs(folder, c, out_b)
        plan["chunks"].append({"work": chunk, "jobs": [list(j) for j in jobs]})
    spec = os.path.join(folder, "plan.json")
    with open(spec, "w") as f:
        json.dump(plan, f)
    start = time.time()
    subprocess.run([PY, os.path.join(ROOT, "tools", "run_tools.py"), spec], check=True,
                   capture_output=True)
    results["one process a side"] = time.time() - start
    with h5py.File(out_a, "r") as x, h5py.File(out_b, "r") as y:
        if not (x["features"][:] == y["features"][:]).all() or x.attrs["done"] != n:
            sys.exit("the two ways wrote different rows: the comparison is void")

    base, new = results["a process a chunk"], results["one process a side"]
    saved = (base - new) / args.chunks
    os.makedirs(args.out, exist_ok=True)
    rows = [{"way": w, "seconds": "%.2f" % s, "seconds_a_chunk": "%.2f" % (s / args.chunks),
             "ratio_to_baseline": "%.3f" % (s / base)} for w, s in results.items()]
    with open(os.path.join(args.out, "chunk_process.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    md = ["# A streamed side's fixed cost a chunk (`bench/chunk_process.py`)", "",
          "%s with random weights of its public shapes, %d chunks of %d real frames, GA's rows; "
          "baseline: a process a chunk." % (args.trunk, args.chunks, args.per_chunk), "",
          "| way | seconds | a chunk | ratio to the baseline |", "| --- | --- | --- | --- |"]
    md += ["| %s | %s | %s | %s |" % (r["way"], r["seconds"], r["seconds_a_chunk"],
                                     r["ratio_to_baseline"]) for r in rows]
    md += ["", "Saved: %.2f s a chunk. Projected to the paper's data sets at the default chunks "
           "(one stream):" % saved, "",
           "| data set | training chunks | test chunks | time saved (min) |",
           "| --- | --- | --- | --- |"]
    md += ["| %s | %d | %d | %.1f |" % (name, tr, te, (tr + te) * saved / 60.0)
           for name, tr, te in CHUNKS]
    with open(os.path.join(args.out, "chunk_process.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
