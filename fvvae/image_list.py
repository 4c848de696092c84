"""Image / frame lists: one item a line, `PATH LABEL [GROUP]`.

PATH is relative to a root folder (or absolute); LABEL an integer class;
GROUP (optional) names the video a frame belongs to, so that a video's FV can
be the mean of its frames' FVs (eq. 13 is linear). Lines starting with # and
blank lines are skipped.
"""
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    path: str
    label: int
    group: str


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
            if len(parts) not in (2, 3):
                raise ValueError("%s:%d: expected 'PATH LABEL [GROUP]', got %r"
                                 % (list_path, lineno, line))
            try:
                label = int(parts[1])
            except ValueError:
                raise ValueError("%s:%d: label %r is not an integer"
                                 % (list_path, lineno, parts[1])) from None
            path = parts[0] if os.path.isabs(parts[0]) else os.path.join(root, parts[0])
            if check_files and not os.path.isfile(path):
                raise FileNotFoundError("%s:%d: %s does not exist" % (list_path, lineno, path))
            items.append(Item(path, label, parts[2] if len(parts) == 3 else parts[0]))
    if not items:
        raise ValueError("%s: the image list is empty" % list_path)
    return items
