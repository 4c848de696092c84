"""CUB-200-2011 in its official layout: reading, checking, optional box crops.

    CUB_200_2011/images.txt               "<image id> <Class.dir>/<file>.jpg"
    CUB_200_2011/image_class_labels.txt   "<image id> <class id>"   (1..200)
    CUB_200_2011/train_test_split.txt     "<image id> <1 train | 0 test>"
    CUB_200_2011/bounding_boxes.txt       "<image id> <x> <y> <width> <height>"
    CUB_200_2011/classes.txt              "<class id> <name>"
    CUB_200_2011/images/...

The official split: 5,994 training and 5,794 test images. Images go into the
trunk at 448 x 448 (section 5.2); with boxes (Table 6's "+box" columns) each
image is first cropped to its bounding box. Grey and CMYK JPEGs are read as
3-channel BGR; an image OpenCV cannot read stops with its path named.
"""
import os

import cv2

FILES = ("images.txt", "image_class_labels.txt", "train_test_split.txt",
         "bounding_boxes.txt", "classes.txt")


def _table(path, columns):
    """{first column: remaining columns} of a whitespace table, checked."""
    if not os.path.isfile(path):
        raise FileNotFoundError("%s: missing (part of the official CUB_200_2011/ layout)" % path)
    rows = {}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != columns:
                raise ValueError("%s:%d: expected %d columns, got %r"
                                 % (path, lineno, columns, line.strip()))
            if parts[0] in rows:
                raise ValueError("%s:%d: id %s repeated" % (path, lineno, parts[0]))
            rows[parts[0]] = parts[1:]
    if not rows:
        raise ValueError("%s: empty" % path)
    return rows


def read(root):
    """[(image id, path, 0-based label, is_train, (x, y, w, h))] and the class
    names, with every file's ids checked against images.txt."""
    base = os.path.join(root, "CUB_200_2011") if os.path.isdir(
        os.path.join(root, "CUB_200_2011")) else root
    t = {name: os.path.join(base, name) for name in FILES}
    images = _table(t["images.txt"], 2)
    labels = _table(t["image_class_labels.txt"], 2)
    split = _table(t["train_test_split.txt"], 2)
    boxes = _table(t["bounding_boxes.txt"], 5)
    classes = {}
    with open(t["classes.txt"]) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split(None, 1)
            if len(parts) == 2 and parts[0].isdigit():
                classes[int(parts[0])] = parts[1].strip()
            elif line.strip():
                raise ValueError("%s:%d: expected '<class id> <name>'" % (t["classes.txt"], lineno))
    for name, table in (("image_class_labels.txt", labels), ("train_test_split.txt", split),
                        ("bounding_boxes.txt", boxes)):
        if set(table) != set(images):
            extra = sorted(set(table) ^ set(images), key=int)[:5]
            raise ValueError("%s: its image ids differ from images.txt's (e.g. %s)"
                             % (t[name], ", ".join(extra)))
    if sorted(classes) != list(range(1, len(classes) + 1)):
        raise ValueError("%s: class ids must be 1..%d" % (t["classes.txt"], len(classes)))
    items = []
    for iid in sorted(images, key=int):
        cls = int(labels[iid][0])
        if cls not in classes:
            raise ValueError("%s: image %s has class %d, not in classes.txt"
                             % (t["image_class_labels.txt"], iid, cls))
        if split[iid][0] not in ("0", "1"):
            raise ValueError("%s: image %s: split %r is not 0 or 1"
                             % (t["train_test_split.txt"], iid, split[iid][0]))
        try:
            x, y, w, h = (float(v) for v in boxes[iid])
        except ValueError:
            raise ValueError("%s: image %s: box %r is not four numbers"
                             % (t["bounding_boxes.txt"], iid, boxes[iid])) from None
        if w <= 0 or h <= 0:
            raise ValueError("%s: image %s: box of width %g and height %g"
                             % (t["bounding_boxes.txt"], iid, w, h))
        items.append((iid, os.path.join(base, "images", images[iid][0]), cls - 1,
                      split[iid][0] == "1", (x, y, w, h)))
    return items, [classes[i] for i in sorted(classes)]


def crop_box(path, box, out_path):
    """Writes the bounding-box crop of an image (clamped to the image)."""
    if os.path.exists(out_path):
        return out_path
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("%s: not a readable image" % path)
    x, y, w, h = box
    H, W = img.shape[:2]
    x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
    x1, y1 = min(W, int(round(x + w))), min(H, int(round(y + h)))
    if x1 <= x0 or y1 <= y0:
        raise ValueError("%s: bounding box %s lies outside the %d x %d image" % (path, box, W, H))
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    tmp = out_path + ".tmp.jpg"
    cv2.imwrite(tmp, img[y0:y1, x0:x1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    os.replace(tmp, out_path)
    return out_path


def prepare(root, out, boxes=False):
    """out/cub_{train,test}[_box].txt (`PATH LABEL IMAGE_ID`); with boxes the
    crops are written under out/box_crops/. Returns the two lists' paths."""
    from tqdm import tqdm
    from data_prep.prepare import write_list
    items, names = read(root)
    tag = "_box" if boxes else ""
    lines = {"train": [], "test": []}
    for iid, path, label, is_train, box in tqdm(items, desc="CUB images", unit="img"):
        if not os.path.isfile(path):
            raise FileNotFoundError("%s: image %s named by images.txt is missing" % (path, iid))
        if boxes:
            rel = os.path.relpath(path, os.path.dirname(os.path.dirname(path)))
            path = crop_box(path, box, os.path.join(out, "box_crops", rel))
        lines["train" if is_train else "test"].append("%s %d %s\n" % (path, label, iid))
    for split in lines:
        if not lines[split]:
            raise ValueError("%s: the official split has no %s images" % (root, split))
    write_list(os.path.join(out, "classes.txt"), ["%d %s\n" % (i, n) for i, n in enumerate(names)])
    return {split: write_list(os.path.join(out, "cub_%s%s.txt" % (split, tag)), lines[split])
            for split in lines}
