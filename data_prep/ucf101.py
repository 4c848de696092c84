"""UCF101 in its official layout: reading and validating, then frames and flow.

    UCF-101/<Class>/v_<Class>_gXX_cYY.avi
    ucfTrainTestlist/classInd.txt            "1 ApplyEyeMakeup" ... (1-based)
    ucfTrainTestlist/trainlist0{1,2,3}.txt   "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
    ucfTrainTestlist/testlist0{1,2,3}.txt    "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"

prepare() samples 25 frames per video (section 5.2) and, for the flow
stream, the 10 flows after each of them (data_prep.video), and writes the
lists tools/extract_descriptors.py reads: `PATH LABEL VIDEO`, one frame (or
flow stack) a line, labels 0-based in classInd's order.
"""
import os
import re
from dataclasses import dataclass

from data_prep.prepare import PreparationReport, prepare_videos

VIDEO_NAME = re.compile(r"^v_(?P<cls>[A-Za-z0-9]+)_g\d+_c\d+\.avi$")


@dataclass(frozen=True)
class Video:
    path: str        # absolute
    rel: str         # Class/v_Class_gXX_cYY.avi
    label: int       # 0-based, classInd order

    @property
    def name(self):
        return os.path.splitext(os.path.basename(self.rel))[0]


def read_class_ind(path):
    """{class name: 0-based label} from classInd.txt, checked: '<n> <Name>'
    lines numbered 1, 2, ... without gaps or repeated names."""
    if not os.path.isfile(path):
        raise FileNotFoundError("%s: classInd.txt is missing (expected in ucfTrainTestlist/)"
                                % path)
    classes = {}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2 or not parts[0].isdigit():
                raise ValueError("%s:%d: expected '<index> <ClassName>', got %r"
                                 % (path, lineno, line.strip()))
            index, name = int(parts[0]), parts[1]
            if index != len(classes) + 1:
                raise ValueError("%s:%d: class index %d out of order (expected %d)"
                                 % (path, lineno, index, len(classes) + 1))
            if name in classes:
                raise ValueError("%s:%d: class %s listed twice" % (path, lineno, name))
            classes[name] = index - 1
    if not classes:
        raise ValueError("%s: no classes" % path)
    return classes


def read_split_list(path, classes, video_root):
    """The videos of a trainlist/testlist file, checked: each names a class of
    classInd.txt, its label (train lists) agrees with it, and the file exists."""
    if not os.path.isfile(path):
        raise FileNotFoundError("%s: split list is missing" % path)
    videos, missing = [], []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            rel = parts[0]
            where = "%s:%d" % (path, lineno)
            if len(parts) > 2 or "/" not in rel:
                raise ValueError("%s: expected 'Class/v_Class_gXX_cYY.avi [label]', got %r"
                                 % (where, line.strip()))
            cls = rel.split("/")[0]
            if cls not in classes:
                raise ValueError("%s: class %r is not in classInd.txt" % (where, cls))
            if len(parts) == 2:
                if not parts[1].isdigit() or int(parts[1]) - 1 != classes[cls]:
                    raise ValueError("%s: label %s disagrees with classInd.txt (%s is %d)"
                                     % (where, parts[1], cls, classes[cls] + 1))
            full = os.path.join(video_root, rel)
            if not os.path.isfile(full):
                missing.append("%s: %s" % (where, full))
                continue
            videos.append(Video(full, rel, classes[cls]))
    if missing:
        raise FileNotFoundError(
            "%d video(s) named by %s are missing from %s (first: %s). The UCF101 protocol "
            "needs every video of the split." % (len(missing), path, video_root, missing[0]))
    if not videos:
        raise ValueError("%s: no videos" % path)
    return videos


def locate(root):
    """(video folder, split-list folder) under a UCF101 root: UCF-101/ and
    ucfTrainTestlist/ (also accepted: the root itself holding the classes)."""
    lists = os.path.join(root, "ucfTrainTestlist")
    videos = os.path.join(root, "UCF-101")
    if not os.path.isdir(lists):
        raise FileNotFoundError("%s: no ucfTrainTestlist/ folder (the official split lists; "
                                "set UCF101_ROOT to the folder holding UCF-101/ and "
                                "ucfTrainTestlist/)" % root)
    if not os.path.isdir(videos):
        raise FileNotFoundError("%s: no UCF-101/ folder of videos" % root)
    return videos, lists


def read_split(root, split):
    """(classes, train videos, test videos) of split 1, 2 or 3."""
    if split not in (1, 2, 3):
        raise ValueError("UCF101 has splits 1, 2 and 3, not %r" % split)
    video_root, lists = locate(root)
    classes = read_class_ind(os.path.join(lists, "classInd.txt"))
    train = read_split_list(os.path.join(lists, "trainlist%02d.txt" % split), classes, video_root)
    test = read_split_list(os.path.join(lists, "testlist%02d.txt" % split), classes, video_root)
    return classes, train, test


def prepare(root, split, out, frames=25, flow=False, size=(320, 240), workers=1):
    """Frames (and flow) of split's videos under out/, and the lists
    out/split{N}_{rgb,flow}_{train,test}.txt. Returns the lists' paths and a
    PreparationReport (videos that could not be decoded are skipped and listed
    in out/problems.csv, never fatal)."""
    classes, train, test = read_split(root, split)
    report = PreparationReport(os.path.join(out, "problems.csv"))
    lists = {}
    for subset, videos in (("train", train), ("test", test)):
        items = [(v.path, os.path.join(out, "frames", os.path.splitext(v.rel)[0]), v.label, v.name)
                 for v in videos]
        lists.update(prepare_videos(items, out, "split%d" % split, subset, frames, flow, size,
                                    workers, report))
    report.write()
    with open(os.path.join(out, "classes.txt"), "w") as f:
        f.writelines("%d %s\n" % (i, name) for name, i in sorted(classes.items(), key=lambda x: x[1]))
    return lists, report
