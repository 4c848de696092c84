"""Pixels to a trunk's input blob, as Caffe models of the era expect: BGR,
0-255, the mean subtracted, C x H x W; and flow stacks for the flow trunk.

Crops (the 4th column of an image list, fvvae.image_list): `c` the centre,
`tl`, `tr`, `bl`, `br` the four corners, each with an `f` suffix for its
mirror image: the ten crops of "x10 augmentation" testing (Table 4).
"""
import os
import re

import cv2
import numpy as np

CROPS = ("c", "tl", "tr", "bl", "br", "cf", "tlf", "trf", "blf", "brf")
FLOW_X = re.compile(r"^(?P<head>.*flow_)x_(?P<index>\d+)\.jpg$")


def _crop_offsets(h, w, crop, position):
    where = position.rstrip("f") or "c"
    if where not in ("c", "tl", "tr", "bl", "br"):
        raise ValueError("crop %r is not one of %s" % (position, ", ".join(CROPS)))
    y = {"c": (h - crop) // 2, "tl": 0, "tr": 0, "bl": h - crop, "br": h - crop}[where]
    x = {"c": (w - crop) // 2, "tl": 0, "bl": 0, "tr": w - crop, "br": w - crop}[where]
    return y, x


def _resize_crop(img, resize_hw, crop, position, path):
    h, w = resize_hw
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    if crop:
        if crop > h or crop > w:
            raise ValueError("%s: crop %d is larger than the resized %d x %d image"
                             % (path, crop, h, w))
        y, x = _crop_offsets(h, w, crop, position)
        img = img[y:y + crop, x:x + crop]
    if position.endswith("f"):
        img = img[:, ::-1]
    return img


def load_image(path, resize_hw, crop, mean_bgr, position="c"):
    """Reads an image (grey and CMYK ones become 3-channel BGR), resizes it to
    resize_hw (H, W), takes the crop x crop window at `position` (crop = 0:
    none), mirrors it for an `f` position, and subtracts the BGR mean. The
    authors' frames: 240 x 320, centre crop 224."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("%s: not a readable image" % path)
    img = _resize_crop(img, resize_hw, crop, position, path)
    img = img - np.asarray(mean_bgr, np.float32)
    return np.ascontiguousarray(img.transpose(2, 0, 1))


def flow_stack_paths(first_x, length):
    """The x and y images of a flow stack that starts at flow_x_NNNNN.jpg."""
    m = FLOW_X.match(first_x)
    if not m:
        raise ValueError("%s: a flow stack is named by its first flow_x_NNNNN.jpg" % first_x)
    start, digits = int(m.group("index")), len(m.group("index"))
    return [("%sx_%0*d.jpg" % (m.group("head"), digits, k),
             "%sy_%0*d.jpg" % (m.group("head"), digits, k)) for k in range(start, start + length)]


def load_flow_stack(first_x, resize_hw, crop, mean, length, position="c"):
    """2 * length channels x1, y1, x2, y2, ... (the two-stream convention) of
    8-bit flow images (128 = no motion) minus the mean. Mirroring flips the
    images and negates the x flow (255 - x)."""
    planes = []
    for px, py in flow_stack_paths(first_x, length):
        for p, is_x in ((px, True), (py, False)):
            if not os.path.isfile(p):
                raise ValueError("%s: flow image missing (stack of %s)" % (p, first_x))
            img = cv2.imread(p, cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise ValueError("%s: not a readable image" % p)
            img = _resize_crop(img, resize_hw, crop, position, p)
            if is_x and position.endswith("f"):
                img = 255.0 - img
            planes.append(img)
    return np.ascontiguousarray(np.stack(planes) - np.float32(mean))
