"""Image / frame lists: one item a line, `PATH LABEL [GROUP [CROP]]`.

PATH is relative to a root folder (or absolute); LABEL an integer class;
GROUP (optional) names the video a frame belongs to, so that a video's FV can
be the mean of its frames' FVs (eq. 13 is linear); CROP (optional, default
`c`, the centre) one of fvvae.data.preprocess.CROPS: ten_crop_lines() expands a
list into the ten crops of "x10 augmentation" testing, all in the item's
group, so that its FV is the mean over frames and crops. Lines starting
with # and blank lines are skipped.
"""
import os
from dataclasses import dataclass

from fvvae.data.preprocess import CROPS


@dataclass(frozen=True)
class Item:
    path: str
    label: int
    group: str
    crop: str = "c"


def _spaced_path(parts, root):
    """The existing file that the first fields of a line name when joined
    with spaces (a path with white space), or None."""
    for k in range(2, len(parts)):
        head = " ".join(parts[:k])
        if os.path.isfile(head if os.path.isabs(head) else os.path.join(root, head)):
            return head
    return None


def read_list(list_path, root="", check_files=True):
    """Items of a list; check_files: every PATH must exist (extraction needs the
    images; encoding and FV extraction only the labels and groups)."""
    if not os.path.isfile(list_path):
        raise FileNotFoundError("%s: the image list does not exist" % list_path)
    items = []
    with open(list_path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            spaced = _spaced_path(parts, root)
            if spaced:
                raise ValueError("%s:%d: the path %r holds white space, at which list lines "
                                 "are split: rename it, or prepare the data with tools/"
                                 "prepare_data.py folder, which links such files"
                                 % (list_path, lineno, spaced))
            if len(parts) not in (2, 3, 4):
                raise ValueError("%s:%d: expected 'PATH LABEL [GROUP [CROP]]', got %r"
                                 % (list_path, lineno, line))
            if len(parts) == 4 and parts[3] not in CROPS:
                raise ValueError("%s:%d: crop %r is not one of %s"
                                 % (list_path, lineno, parts[3], " ".join(CROPS)))
            try:
                label = int(parts[1])
            except ValueError:
                raise ValueError("%s:%d: label %r is not an integer"
                                 % (list_path, lineno, parts[1])) from None
            path = parts[0] if os.path.isabs(parts[0]) else os.path.join(root, parts[0])
            if check_files and not os.path.isfile(path):
                raise FileNotFoundError("%s:%d: %s does not exist" % (list_path, lineno, path))
            items.append(Item(path, label, parts[2] if len(parts) >= 3 else parts[0],
                              parts[3] if len(parts) == 4 else "c"))
    if not items:
        raise ValueError("%s: the image list is empty" % list_path)
    return items


def imagedata_lines(items):
    """`PATH LABEL` lines with absolute paths, the list Caffe's ImageData layer
    reads (it splits each line at its last space, so GROUP and CROP must go)."""
    return "".join("%s %d\n" % (os.path.abspath(i.path), i.label) for i in items)


def ten_crop_lines(list_path):
    """The lines of a list expanded to the ten crops of each item (its group
    kept, so that extraction averages the crops' FVs)."""
    lines = []
    for item in read_list(list_path, check_files=False):
        lines += ["%s %d %s %s\n" % (item.path, item.label, item.group, c) for c in CROPS]
    return lines


def groups_of(store_indices, items=None):
    """OrderedDict group -> [indices], in order of first appearance. Without a
    list every descriptor set is its own group."""
    from collections import OrderedDict
    groups = OrderedDict()
    for i in store_indices:
        key = items[i].group if items is not None else str(i)
        groups.setdefault(key, []).append(i)
    return groups
