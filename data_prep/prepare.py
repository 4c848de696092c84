"""Shared by the video data sets: frames (and flow) of many videos in parallel,
resumable, with the videos that could not be used reported rather than fatal,
and the frame lists that tools/extract_descriptors.py reads."""
import csv
import logging
import os
from multiprocessing import Pool

from data_prep.video import VideoError, extract_video, flow_method

log = logging.getLogger("fvvae.data_prep")


class PreparationReport:
    """Videos skipped during preparation, with the reason; written as CSV."""

    def __init__(self, path):
        self.path = path
        self.rows = []

    def add(self, item, kind, reason):
        self.rows.append((item, kind, reason))
        log.warning("skipped %s: %s", item, reason)

    def write(self):
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with open(self.path + ".tmp", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["item", "problem", "detail"])
            w.writerows(self.rows)
        os.replace(self.path + ".tmp", self.path)

    def __len__(self):
        return len(self.rows)


def _one(job):
    path, folder, frames, flow, size, method = job
    try:
        return extract_video(path, folder, frames, flow, size, method), None
    except VideoError as e:
        return None, str(e)


def write_list(path, lines):
    """Writes a list file atomically."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.writelines(lines)
    os.replace(path + ".tmp", path)
    return path


def prepare_videos(items, out, prefix, subset, frames=25, flow=False, size=None, workers=1,
                   report=None):
    """items: (video path, frame folder, label, video id). Writes the frames
    (and flow) and out/PREFIX_rgb_SUBSET.txt (+ _flow_): `PATH LABEL VIDEO`
    lines, one per sampled frame / flow stack (its first x image). Returns
    {"rgb_SUBSET": path[, "flow_SUBSET": path]}."""
    from tqdm import tqdm
    method = flow_method() if flow else None
    if flow:
        log.info("optical flow: %s", "TV-L1 (opencv-contrib)" if method == "tvl1"
                 else "Farneback (TV-L1 needs opencv-contrib's optflow module)")
    jobs = [(p, d, frames, flow, size, method) for p, d, _, _ in items]
    rgb, flo = [], []
    pool = Pool(workers) if workers > 1 else None
    try:
        results = pool.imap(_one, jobs) if pool else map(_one, jobs)
        for (path, folder, label, vid), (idx, err) in tqdm(
                zip(items, results), total=len(items), desc="%s %s videos" % (prefix, subset),
                unit="video"):
            if err:
                if report is not None:
                    report.add(path, "unreadable video", err)
                continue
            rgb += ["%s %d %s\n" % (os.path.join(folder, "img_%05d.jpg" % i), label, vid)
                    for i in idx]
            flo += ["%s %d %s\n" % (os.path.join(folder, "flow_x_%05d.jpg" % i), label, vid)
                    for i in idx]
    finally:
        if pool:
            pool.close()
            pool.join()
    if not rgb:
        raise ValueError("%s %s: none of the %d videos could be used (see %s)"
                         % (prefix, subset, len(items), report.path if report else "the log"))
    lists = {"rgb_" + subset: write_list(os.path.join(out, "%s_rgb_%s.txt" % (prefix, subset)),
                                         rgb)}
    if flow:
        lists["flow_" + subset] = write_list(
            os.path.join(out, "%s_flow_%s.txt" % (prefix, subset)), flo)
    return lists
