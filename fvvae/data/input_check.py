"""Every input of a run checked in one pass, before any work starts
(tools/run_protocol.py): what would otherwise surface hours later, or never.

* the lists parse and every file exists (fvvae.data.image_list.read_list);
* every label is an integer in [0, classes): Caffe's softmax checks the range
  only in debug builds, so an out-of-range label would train silently;
* every class has training items, and every test label is a class the
  training list has (a typo in a test label is named as such);
* classes.txt, when given, names exactly `classes` classes, LABEL NAME a line
  with labels 0 .. classes - 1;
* every image decodes completely: a truncated JPEG (which OpenCV decodes
  with a warning and grey rows) is named; a flow stack's images all exist.
"""
import os

from fvvae.data.image_list import read_list


class InputError(ValueError):
    pass


def read_class_names(path):
    """[name of class 0, 1, ...] from a classes.txt (`LABEL NAME` lines)."""
    if not os.path.isfile(path):
        raise InputError("%s: no such file (classes.txt: `LABEL NAME` a line)" % path)
    names = {}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) != 2 or not parts[0].lstrip("-").isdigit():
                raise InputError("%s:%d: expected `LABEL NAME`, got %r" % (path, lineno, line))
            label = int(parts[0])
            if label in names:
                raise InputError("%s:%d: label %d named twice" % (path, lineno, label))
            names[label] = parts[1]
    if sorted(names) != list(range(len(names))):
        raise InputError("%s: labels must be 0 .. %d, one each; found %s"
                         % (path, len(names) - 1, sorted(names)))
    return [names[i] for i in range(len(names))]


def decodes_completely(path):
    """None when the image decodes whole, else the problem."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            im.load()
    except Exception as e:     # PIL raises OSError, SyntaxError, ValueError ...
        return str(e) or type(e).__name__
    return None


def check_inputs(train_list, test_list, classes=None, class_names=None, root="",
                 decode=True, flow_length=0):
    """(classes, [class names or None]); InputError naming the file and line
    of the first problem of each kind found (several kinds in one message)."""
    from tqdm import tqdm
    try:
        sides = {"train": read_list(train_list, root), "test": read_list(test_list, root)}
    except (OSError, ValueError) as e:
        raise InputError(str(e)) from None
    names = read_class_names(class_names) if class_names else None
    if classes is None:
        classes = len(names) if names else max(i.label for s in sides.values() for i in s) + 1
    problems = []
    if names is not None and len(names) != classes:
        problems.append("%s names %d classes, the run has %d" % (class_names, len(names), classes))
    for side, path in (("train", train_list), ("test", test_list)):
        for n, item in enumerate(sides[side]):
            if not 0 <= item.label < classes:
                problems.append("%s: item %d (%s) has label %d, outside 0 .. %d (%d classes)"
                                % (path, n + 1, item.path, item.label, classes - 1, classes))
                break
    trained = {i.label for i in sides["train"]}
    missing = sorted(set(range(classes)) - trained)
    if missing:
        problems.append("%s: no training item of class(es) %s%s" % (
            train_list, ", ".join(str(c) for c in missing[:10]),
            (" (%s)" % ", ".join(names[c] for c in missing[:10])) if names else ""))
    for n, item in enumerate(sides["test"]):
        if item.label not in trained and 0 <= item.label < classes:
            problems.append("%s: item %d (%s) has label %d, which no training item has"
                            % (test_list, n + 1, item.path, item.label))
            break
    if problems:
        raise InputError("; ".join(problems))
    if decode:
        paths = sorted({i.path for s in sides.values() for i in s})
        if flow_length:
            from fvvae.data.preprocess import flow_plane_paths
            for p in tqdm(paths, desc="checking flow stacks", unit="stack"):
                try:
                    flow_plane_paths(p, flow_length)
                except ValueError as e:
                    raise InputError(str(e)) from None
        else:
            for p in tqdm(paths, desc="checking images", unit="img"):
                why = decodes_completely(p)
                if why:
                    raise InputError("%s: does not decode completely (%s)" % (p, why))
    return classes, names


def inputs_stamp(path, args, write=False):
    """Whether the lists (and classes.txt) are those a previous run of this
    output folder checked completely (their contents' SHA-256 in `path`);
    write=True records them."""
    import json
    from fvvae.files import atomic, digest
    files = [f for f in (args.train_list, args.test_list, args.class_names) if f]
    now = {os.path.abspath(f): digest(f) for f in files}
    if write:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with atomic(path) as f:
            json.dump(now, f)
        return True
    try:
        with open(path) as f:
            return json.load(f) == json.loads(json.dumps(now))
    except (OSError, ValueError):
        return False


# Codebooks need descriptors: measured on 4 classes x 11 training images
# (2,200 descriptors, open_nsfw), FV's top-1 over 16 test images was 87.5%,
# 93.8%, 56.3% and 50.0% at 16, 32, 64 and 128 Gaussians (137, 69, 34 and 17
# descriptors a Gaussian): a GMM with too few descriptors a component fits
# the training images' own descriptors. docs/own_data.md.
MIN_PER_COMPONENT = 64


def fit_codebooks(fv_size, vlad_size, descriptors):
    """(fv_size, vlad_size, [notes]): each codebook halved until it has at
    least MIN_PER_COMPONENT training descriptors a component; a note for
    each one reduced."""
    notes = []
    sizes = []
    for name, size, unit in (("FV", fv_size, "Gaussians"), ("VLAD", vlad_size, "centres")):
        k = size
        while k > 1 and descriptors < MIN_PER_COMPONENT * k:
            k //= 2
        if k != size:
            notes.append("%s: %d %s reduced to %d: %d training descriptors, at least %d a "
                         "component" % (name, size, unit, k, descriptors, MIN_PER_COMPONENT))
        sizes.append(k)
    return sizes[0], sizes[1], notes


# FV-VAE's training budget: at most MAX_EPOCHS passes over the training
# descriptor sets. Above the paper's own (5,000 x 128 is 2.7 epochs of
# UCF101's 238K frames, 107 of CUB's 5,994 images): it changes nothing at the
# paper's scale and stops 5,000 iterations from being 10,000 epochs of a
# folder of 60 images (about 45 CPU minutes spent fitting them).
MAX_EPOCHS = 200


def fit_budget(iterations, batch, sets):
    """(iterations, [note]): capped at MAX_EPOCHS epochs of `sets` training
    descriptor sets at `batch`."""
    cap = max(1, -(-MAX_EPOCHS * sets // batch))
    if iterations <= cap:
        return iterations, []
    return cap, ["FV-VAE: %d iterations reduced to %d: %d training descriptor sets at batch %d, "
                 "at most %d epochs" % (iterations, cap, sets, batch, MAX_EPOCHS)]


# BP's dimension is C^2: 262,144 on VGG_19's 512 channels (the paper's Table 2),
# 1,048,576 on open_nsfw's 1,024 and 4,194,304 on ResNet_152's 2,048.
BP_PCA = 512


def fit_bp(bp_pca, channels):
    """(bp_pca, [note]) for a BP whose PCA was not given (None): the
    descriptors' PCA to BP_PCA when the trunk has more channels, so that BP
    keeps the paper's 512^2 dimensions; else none (0)."""
    if bp_pca is not None:
        return bp_pca, []
    if channels <= BP_PCA:
        return 0, []
    return BP_PCA, ["BP: the %d-channel descriptors' PCA to %d (%s dimensions, as the paper's BP "
                    "on VGG_19's 512 channels; without it %s): --bp-pca 0 keeps every channel"
                    % (channels, BP_PCA, format(BP_PCA ** 2, ","), format(channels ** 2, ","))]
