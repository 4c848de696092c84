"""Fashion-MNIST from Debian's package dataset-fashion-mnist: the demo's
embedded real data (70,000 28x28 grey product photos, 10 classes).

Reads the IDX files (checking their magic numbers and counts), draws a
balanced, seeded subset and writes it as PNG files plus image lists
(`PATH LABEL GROUP`, one group per image) for tools/extract_descriptors.py.
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


def write_split(split, per_class, seed, out_dir, root=DEFAULT_ROOT):
    """Writes out_dir/SPLIT/NNNNN.png and out_dir/SPLIT.txt; returns the list path."""
    import cv2
    images, labels = load(split, root)
    idx = balanced_subset(labels, per_class, seed)
    folder = os.path.join(out_dir, split)
    os.makedirs(folder, exist_ok=True)
    lines = []
    for i in idx:
        path = os.path.join(folder, "%05d.png" % i)
        if not os.path.exists(path):
            cv2.imwrite(path + ".tmp.png", images[i])
            os.replace(path + ".tmp.png", path)
        lines.append("%s %d %s_%05d\n" % (path, labels[i], split, i))
    list_path = os.path.join(out_dir, split + ".txt")
    with open(list_path + ".tmp", "w") as f:
        f.writelines(lines)
    os.replace(list_path + ".tmp", list_path)
    return list_path
