"""Fashion-MNIST from Debian's package dataset-fashion-mnist: the demo's
embedded real data (70,000 28x28 grey product photos, 10 classes).

Reads the IDX files (checking their magic numbers and counts), draws a
balanced, seeded subset and writes it as PNG files plus image lists
(`PATH LABEL GROUP`, one group per image) for tools/extract_descriptors.py.

Two regimes (docs/evidence.md):
* ``aligned``: the photos as they are (28 x 28, the item centred and scaled
  to fill the frame): where an activation lies carries the label, which
  favours Concatenation over the orderless encodings.
* ``wild``: each photo placed at a random scale and position on a larger
  dark canvas among fragments of other photos of the same split (any class),
  seeded per item, so that neither the position nor the size of anything on
  the canvas tells the class: the paper's regime of unaligned frames and
  birds, for which orderless encodings of local activations are made.
"""
import gzip
import os

import numpy as np

DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot")
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def _read_idx(path, magic, dims):
    if not os.path.isfile(path):
        raise FileNotFoundError("%s: missing (apt-get install dataset-fashion-mnist, or pass "
                                "the folder holding the four IDX files)" % path)
    with gzip.open(path, "rb") as f:
        raw = f.read()
    got = int.from_bytes(raw[:4], "big")
    if got != magic:
        raise ValueError("%s: magic number %#x, expected %#x (not an IDX file of this kind)"
                         % (path, got, magic))
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError("%s: %d bytes of data for a %s array" % (path, data.size, shape))
    return data.reshape(shape)


def load(split, root=DEFAULT_ROOT):
    """(images n x 28 x 28 uint8, labels n) of 'train' or 'test'."""
    images_file, labels_file = FILES[split]
    images = _read_idx(os.path.join(root, images_file), 0x803, 3)
    labels = _read_idx(os.path.join(root, labels_file), 0x801, 1)
    if len(images) != len(labels):
        raise ValueError("%s: %d images but %d labels" % (root, len(images), len(labels)))
    return images, labels


def balanced_subset(labels, per_class, seed):
    """Indices of `per_class` items of every class, seeded, sorted."""
    rng = np.random.default_rng(seed)
    picked = []
    for c in range(len(CLASSES)):
        pool = np.flatnonzero(labels == c)
        if len(pool) < per_class:
            raise ValueError("class %d has %d items, fewer than %d" % (c, len(pool), per_class))
        picked.append(rng.choice(pool, per_class, replace=False))
    return np.sort(np.concatenate(picked))


REGIMES = ("aligned", "wild")
# the wild canvas: CANVAS x CANVAS pixels, the item resized to a side drawn
# uniformly from ITEM_SIDES, FRAGMENTS pieces of other photos (a side drawn
# from FRAGMENT_SIDES, cut from a random place of the photo, at a random
# scale of FRAGMENT_SCALES) pasted first, the item last; every paste keeps the
# brighter pixel (the photos are light objects on black)
CANVAS = 112
ITEM_SIDES = (28, 72)
FRAGMENTS = 6
FRAGMENT_SIDES = (8, 16)
FRAGMENT_SCALES = (1.0, 2.5)


def _paste(canvas, patch, y, x):
    h, w = patch.shape
    np.maximum(canvas[y:y + h, x:x + w], patch, out=canvas[y:y + h, x:x + w])


def wild_canvas(item, others, rng):
    """One photo in the wild: `item` (28 x 28) at a random scale and position
    on a CANVAS x CANVAS black canvas among FRAGMENTS fragments cut from the
    photos `others` (n x 28 x 28), all drawn from `rng`. Returns uint8."""
    import cv2
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    for _ in range(FRAGMENTS):
        src = others[rng.integers(len(others))]
        side = int(rng.integers(FRAGMENT_SIDES[0], FRAGMENT_SIDES[1] + 1))
        y0, x0 = rng.integers(0, 28 - side + 1, size=2)
        piece = src[y0:y0 + side, x0:x0 + side]
        out = max(2, int(round(side * rng.uniform(*FRAGMENT_SCALES))))
        piece = cv2.resize(piece, (out, out), interpolation=cv2.INTER_LINEAR)
        y, x = rng.integers(0, CANVAS - out + 1, size=2)
        _paste(canvas, piece, y, x)
    side = int(rng.integers(ITEM_SIDES[0], ITEM_SIDES[1] + 1))
    interp = cv2.INTER_AREA if side < 28 else cv2.INTER_LINEAR
    big = cv2.resize(item, (side, side), interpolation=interp)
    y, x = rng.integers(0, CANVAS - side + 1, size=2)
    _paste(canvas, big, y, x)
    return canvas


def write_split(split, per_class, seed, out_dir, root=DEFAULT_ROOT, regime="aligned"):
    """Writes out_dir/SPLIT/NNNNN.png and out_dir/SPLIT.txt; returns the list
    path. regime: "aligned" (the photos as they are) or "wild" (wild_canvas,
    seeded by (seed, split, item): the same item gets the same canvas in any
    subset)."""
    import cv2
    if regime not in REGIMES:
        raise ValueError("regime must be one of %s, not %r" % (", ".join(REGIMES), regime))
    images, labels = load(split, root)
    idx = balanced_subset(labels, per_class, seed)
    # the images of each regime in their own folder: never one reused for the other
    folder = os.path.join(out_dir, split if regime == "aligned" else "%s-%s" % (split, regime))
    os.makedirs(folder, exist_ok=True)
    lines = []
    for i in idx:
        path = os.path.join(folder, "%05d.png" % i)
        if not os.path.exists(path):
            image = images[i]
            if regime == "wild":
                rng = np.random.default_rng([seed, 0 if split == "train" else 1, int(i)])
                image = wild_canvas(images[i], images, rng)
            cv2.imwrite(path + ".tmp.png", image)
            os.replace(path + ".tmp.png", path)
        lines.append("%s %d %s_%05d\n" % (path, labels[i], split, i))
    list_path = os.path.join(out_dir, split + ".txt")
    with open(list_path + ".tmp", "w") as f:
        f.writelines(lines)
    os.replace(list_path + ".tmp", list_path)
    return list_path
