"""ActivityNet v1.3: the annotation file, the video folder, frames.

    activity_net.v1-3.min.json   {"version": ..., "taxonomy": [...], "database": {
        "<id>": {"subset": "training"|"validation"|"testing", "duration": 123.4,
                 "url": ..., "resolution": ...,
                 "annotations": [{"label": "Making a sandwich", "segment": [s, e]}, ...]}}}
    videos/                      one file per video, named by id: v_<id>.mp4 (the
                                 crawler's convention) or <id>.<ext>

The 200 classes are the sorted labels of the training and validation
annotations; a video's label is its annotations' (one activity per video).
About a thousand videos have vanished from their host: those missing from
the folder are listed in a report and skipped, never fatal. 25 frames are
sampled uniformly over each video's whole duration (section 5.2).
"""
import json
import os
from dataclasses import dataclass

from data_prep.prepare import PreparationReport, prepare_videos

SUBSETS = ("training", "validation")
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".flv", ".3gp")


@dataclass(frozen=True)
class Video:
    id: str
    subset: str
    label: str
    duration: float


def read_annotations(path):
    """{id: Video} of the training and validation subsets, checked: a JSON
    object with a `database` mapping; each entry with `subset`, `duration`
    and, outside the test subset, `annotations` of one label with a segment."""
    if not os.path.isfile(path):
        raise FileNotFoundError("%s: the ActivityNet annotation file is missing (expected "
                                "activity_net.v1-3.min.json)" % path)
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError("%s: not valid JSON (line %d, column %d: %s)"
                         % (path, e.lineno, e.colno, e.msg)) from None
    if not isinstance(data, dict) or not isinstance(data.get("database"), dict):
        raise ValueError("%s: expected an object with a 'database' mapping of video ids" % path)
    videos = {}
    for vid, entry in data["database"].items():
        where = "%s: video %s" % (path, vid)
        if not isinstance(entry, dict):
            raise ValueError("%s: entry is not an object" % where)
        for key in ("subset", "duration"):
            if key not in entry:
                raise ValueError("%s: field '%s' is missing" % (where, key))
        subset = entry["subset"]
        if subset not in SUBSETS:
            continue                      # the test subset has no public labels
        if not isinstance(entry["duration"], (int, float)) or entry["duration"] <= 0:
            raise ValueError("%s: duration %r is not a positive number" % (where, entry["duration"]))
        anns = entry.get("annotations")
        if not isinstance(anns, list) or not anns:
            raise ValueError("%s: field 'annotations' is missing or empty" % where)
        labels = set()
        for a in anns:
            if not isinstance(a, dict) or "label" not in a or "segment" not in a:
                raise ValueError("%s: an annotation lacks 'label' or 'segment'" % where)
            seg = a["segment"]
            if not (isinstance(seg, list) and len(seg) == 2
                    and all(isinstance(s, (int, float)) for s in seg)):
                raise ValueError("%s: segment %r is not [start, end] in seconds" % (where, seg))
            labels.add(a["label"])
        if len(labels) != 1:
            raise ValueError("%s: annotations name %d activities %s; expected one"
                             % (where, len(labels), sorted(labels)))
        videos[vid] = Video(vid, subset, labels.pop(), float(entry["duration"]))
    if not videos:
        raise ValueError("%s: no training or validation videos" % path)
    return videos


def class_index(videos):
    """{label: 0-based index}, labels sorted by name."""
    return {name: i for i, name in enumerate(sorted({v.label for v in videos.values()}))}


def video_index(folder):
    """{id: path} of the videos in folder."""
    if not os.path.isdir(folder):
        raise FileNotFoundError("%s: the ActivityNet video folder does not exist" % folder)
    index = {}
    for name in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(name)
        if ext.lower() not in VIDEO_EXTENSIONS:
            continue
        vid = stem[2:] if stem.startswith("v_") else stem
        index.setdefault(vid, os.path.join(folder, name))
    return index


def prepare(annotations, video_dir, out, frames=25, size=(320, 240), workers=1,
            subsets=SUBSETS):
    """Frames of the training and validation videos under out/frames/<id>/ and
    the lists out/anet_rgb_{training,validation}.txt. Videos missing from the
    folder or undecodable are listed in out/problems.csv and skipped."""
    videos = read_annotations(annotations)
    classes = class_index(videos)
    index = video_index(video_dir)
    report = PreparationReport(os.path.join(out, "problems.csv"))
    lists = {}
    for subset in subsets:
        items = []
        for vid in sorted(v for v in videos if videos[v].subset == subset):
            path = index.get(vid)
            if path is None:
                report.add(vid, "missing video", "no v_%s.* or %s.* in %s" % (vid, vid, video_dir))
                continue
            items.append((path, os.path.join(out, "frames", vid), classes[videos[vid].label], vid))
        if not items:
            raise FileNotFoundError("%s: none of the %s videos is in %s" % (annotations, subset,
                                                                            video_dir))
        lists.update(prepare_videos(items, out, "anet", subset, frames, False, size, workers,
                                    report))
    report.write()
    with open(os.path.join(out, "classes.txt"), "w") as f:
        f.writelines("%d %s\n" % (i, name) for name, i in sorted(classes.items(), key=lambda x: x[1]))
    return lists, report
