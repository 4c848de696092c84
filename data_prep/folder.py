"""A user's own data: a folder of class folders, of images or of videos.

    ROOT/<class name>/<any sub-folders>/<file>

Classes are the sub-folders of ROOT in sorted order, labelled 0, 1, ... and
written to OUT/classes.txt (`LABEL NAME` a line). The split is either a
seeded, stratified test fraction of each class, or the user's own: a folder
holding train.txt and test.txt, each listing files relative to ROOT
(`<class name>/.../<file>`, one a line). Images become list lines `PATH LABEL
GROUP` (one item each); videos are sampled as UCF101's, 25 frames each
(optical flow optional), via data_prep.prepare, one GROUP a video.

A file whose path holds white space (the lists split at it) is listed through
a link without it (OUT/links/). Everything found wrong is named before any
frame is decoded: an empty class, a class with too few files to split, a
split file naming a file or class that is not there, a file in both sides.
"""
import logging
import os
import random

from data_prep.prepare import PreparationReport, prepare_videos, write_list

log = logging.getLogger("fvvae.data_prep")

IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
VIDEO_EXT = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".flv")


def scan(root, videos=False):
    """(class names, {class: [paths relative to root, sorted]}). ValueError
    names an empty class or a root without class folders."""
    if not os.path.isdir(root):
        raise FileNotFoundError("%s: no such folder (expected a folder of class folders)" % root)
    exts = VIDEO_EXT if videos else IMAGE_EXT
    classes = sorted(d for d in os.listdir(root)
                     if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    if len(classes) < 2:
        raise ValueError("%s: %d class folder(s); a classifier needs at least 2 (ROOT/<class>/"
                         "<files>)" % (root, len(classes)))
    files, ignored = {}, 0
    for c in classes:
        found = []
        for dirpath, dirnames, names in os.walk(os.path.join(root, c)):
            dirnames.sort()
            for n in sorted(names):
                if n.lower().endswith(exts):
                    found.append(os.path.relpath(os.path.join(dirpath, n), root))
                elif not n.startswith("."):
                    ignored += 1
        if not found:
            raise ValueError("%s: class folder %r holds no %s (%s)" % (
                root, c, "videos" if videos else "images", " ".join(exts)))
        files[c] = found
    if ignored:
        log.warning("%s: %d file(s) that are not %s were ignored", root, ignored,
                    "videos" if videos else "images")
    return classes, files


def split_by_fraction(classes, files, test_fraction, seed=0):
    """{train, test}: [(rel path, label)], each class shuffled with `seed` and
    round(fraction x its files) of them (at least one) tested."""
    if not 0 < test_fraction < 1:
        raise ValueError("--test-fraction %r: between 0 and 1" % test_fraction)
    out = {"train": [], "test": []}
    for label, c in enumerate(classes):
        paths = list(files[c])
        if len(paths) < 2:
            raise ValueError("class %r has %d file(s): at least 2 are needed to have one to "
                             "train on and one to test" % (c, len(paths)))
        random.Random("%d/%s" % (seed, c)).shuffle(paths)
        n_test = min(len(paths) - 1, max(1, int(round(test_fraction * len(paths)))))
        out["test"] += [(p, label) for p in sorted(paths[:n_test])]
        out["train"] += [(p, label) for p in sorted(paths[n_test:])]
    return out


def split_from_files(root, classes, split_dir):
    """{train, test} from split_dir/train.txt and test.txt (paths relative to
    root, the first component the class folder)."""
    index = {c: i for i, c in enumerate(classes)}
    out, seen = {}, {}
    for side in ("train", "test"):
        path = os.path.join(split_dir, side + ".txt")
        if not os.path.isfile(path):
            raise FileNotFoundError("%s: missing (a split folder holds train.txt and test.txt, "
                                    "one file relative to %s a line)" % (path, root))
        rows = []
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                rel = line.rstrip("\n").strip()
                if not rel or rel.startswith("#"):
                    continue
                where = "%s:%d" % (path, lineno)
                cls = rel.replace("\\", "/").split("/")[0]
                if cls not in index:
                    raise ValueError("%s: %r is not under a class folder of %s (classes: %s)"
                                     % (where, rel, root, ", ".join(classes)))
                if not os.path.isfile(os.path.join(root, rel)):
                    raise FileNotFoundError("%s: %s does not exist" % (where, os.path.join(root, rel)))
                if rel in seen:
                    raise ValueError("%s: %s is also %s" % (where, rel, seen[rel]))
                seen[rel] = "%s (%s)" % (where, side)
                rows.append((rel, index[cls]))
        if not rows:
            raise ValueError("%s: no files" % path)
        out[side] = rows
    missing = set(range(len(classes))) - {label for _, label in out["train"]}
    if missing:
        raise ValueError("%s: no training file of class(es) %s" % (
            os.path.join(split_dir, "train.txt"), ", ".join(classes[i] for i in sorted(missing))))
    return out


def _tidy(rel):
    return "".join("_" if ch.isspace() else ch for ch in rel)


def listable_path(root, rel, out):
    """The file's absolute path, or a link to it without white space."""
    full = os.path.abspath(os.path.join(root, rel))
    if not any(ch.isspace() for ch in full):
        return full
    link = os.path.join(os.path.abspath(out), "links", _tidy(rel).lstrip(os.sep))
    if any(ch.isspace() for ch in link):
        raise ValueError("%s: the output folder's path holds white space; the lists cannot "
                         "name files under it" % out)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.lexists(link) and os.path.realpath(link) != full:
        os.remove(link)
    if not os.path.lexists(link):
        os.symlink(full, link)
    return link


def prepare(root, out, videos=False, test_fraction=0.3, split_dir=None, seed=0, frames=25,
            flow=False, size=(320, 240), workers=1):
    """Lists OUT/folder_{train,test}.txt (videos: folder_rgb_{train,test}.txt
    and, with flow, folder_flow_*), OUT/classes.txt; returns (lists, report)."""
    classes, files = scan(root, videos)
    sides = split_from_files(root, classes, split_dir) if split_dir else \
        split_by_fraction(classes, files, test_fraction, seed)
    os.makedirs(out, exist_ok=True)
    write_list(os.path.join(out, "classes.txt"), ["%d %s\n" % (i, c) for i, c in enumerate(classes)])
    log.info("%s: %d classes, %d training and %d test %s", root, len(classes),
             len(sides["train"]), len(sides["test"]), "videos" if videos else "images")
    report = PreparationReport(os.path.join(out, "problems.csv"))
    lists = {}
    for side, rows in sides.items():
        if videos:
            # a video's frames folder and group: its path with the extension
            # (a.avi and a.mp4 of one class are two videos)
            items = [(os.path.join(root, rel), os.path.join(os.path.abspath(out), "frames",
                                                            _tidy(rel)), label, _tidy(rel))
                     for rel, label in rows]
            lists.update(prepare_videos(items, out, "folder", side, frames, flow, size, workers,
                                        report))
        else:
            lines = ["%s %d %s\n" % (listable_path(root, rel, out), label, _tidy(rel))
                     for rel, label in rows]
            lists[side] = write_list(os.path.join(out, "folder_%s.txt" % side), lines)
    report.write()
    lists["classes"] = os.path.join(out, "classes.txt")
    return lists, report
