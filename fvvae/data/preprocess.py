"""Pixels to a trunk's input blob, as Caffe models of the era expect: BGR,
0-255, the mean subtracted, C x H x W; and flow stacks for the flow trunk.

Preprocessing (PREPROCESSING, `--preprocess` of the tools): how a frame is
resized and which mean is subtracted. `caffe` (the default) resizes with
OpenCV's bilinear INTER_LINEAR, which does not antialias, as Caffe's
ImageData layer does (the authors' training prototxt reads its frames that
way) and subtracts the trunk's published mean; `authors` is the authors'
extraction code (fv-vae/fv-vae, +utils/matlab_image_convert.m): MATLAB's
imresize bilinear, antialiased when it shrinks (fvvae.data.matlab_resize), and the
BGR mean 104 / 117 / 123 whatever the trunk.

Crops (the 4th column of an image list, fvvae.data.image_list): `c` the centre,
`tl`, `tr`, `bl`, `br` the four corners, each with an `f` suffix for its
mirror image: the ten crops of "x10 augmentation" testing (Table 4).
"""
import os
import re

from dataclasses import dataclass

import cv2
import numpy as np

CROPS = ("c", "tl", "tr", "bl", "br", "cf", "tlf", "trf", "blf", "brf")
FLOW_X = re.compile(r"^(?P<head>.*flow_)x_(?P<index>\d+)\.jpg$")


@dataclass(frozen=True)
class Preprocessing:
    name: str
    resize: str          # "opencv" (INTER_LINEAR) or "matlab" (imresize bilinear)
    mean_bgr: tuple      # () = the trunk's own mean
    about: str

    def mean_for(self, trunk):
        return self.mean_bgr or trunk.mean_bgr


PREPROCESSING = {
    "caffe": Preprocessing("caffe", "opencv", (),
                           "OpenCV bilinear without antialiasing (Caffe's ImageData, the "
                           "authors' training), the trunk's mean"),
    "authors": Preprocessing("authors", "matlab", (104.0, 117.0, 123.0),
                             "MATLAB imresize bilinear with antialiasing, mean 104 / 117 / 123 "
                             "(the authors' extraction code)"),
}


def preprocessing(name, trunk=None):
    """PREPROCESSING[name]; ValueError naming the choices, or when `authors`
    is asked of a flow trunk (the authors released no flow extraction)."""
    if name not in PREPROCESSING:
        raise ValueError("--preprocess %r: one of %s" % (name, ", ".join(PREPROCESSING)))
    p = PREPROCESSING[name]
    if trunk is not None and trunk.in_channels != 3 and p.mean_bgr:
        raise ValueError("--preprocess %s is for colour frames; trunk %s reads flow stacks "
                         "(use --preprocess caffe)" % (name, trunk.name))
    return p


def _crop_offsets(h, w, crop, position):
    where = position.rstrip("f") or "c"
    if where not in ("c", "tl", "tr", "bl", "br"):
        raise ValueError("crop %r is not one of %s" % (position, ", ".join(CROPS)))
    y = {"c": (h - crop) // 2, "tl": 0, "tr": 0, "bl": h - crop, "br": h - crop}[where]
    x = {"c": (w - crop) // 2, "tl": 0, "bl": 0, "tr": w - crop, "br": w - crop}[where]
    return y, x


def read_resized(path, resize_hw, grey=False, method="opencv"):
    """The image decoded (grey and CMYK ones become 3-channel BGR unless
    `grey`) and resized to resize_hw (H, W) by `method` (Preprocessing.resize),
    8-bit: the costly part of loading, which the ten crops of a frame share
    (fvvae.data.loader)."""
    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("%s: not a readable image" % path)
    h, w = resize_hw
    if method == "matlab":
        from fvvae.data.matlab_resize import imresize_bilinear
        return imresize_bilinear(img, (h, w))
    if method != "opencv":
        raise ValueError("resize method %r: opencv or matlab" % method)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)


def crop_view(img, crop, position, path):
    """The crop x crop window of a resized image at `position` (crop = 0:
    the whole image), mirrored for an `f` position."""
    h, w = img.shape[:2]
    if crop:
        if crop > h or crop > w:
            raise ValueError("%s: crop %d is larger than the resized %d x %d image"
                             % (path, crop, h, w))
        y, x = _crop_offsets(h, w, crop, position)
        img = img[y:y + crop, x:x + crop]
    if position.endswith("f"):
        img = img[:, ::-1]
    return img


def image_blob(resized, crop, mean_bgr, position, path):
    """A resized colour image's crop minus the BGR mean, C x H x W float32
    (one pass: the crop's 8-bit pixels to the blob)."""
    view = crop_view(resized, crop, position, path).transpose(2, 0, 1)
    out = np.empty(view.shape, np.float32)
    np.subtract(view, np.asarray(mean_bgr, np.float32)[:, None, None], out=out)
    return out


def load_image(path, resize_hw, crop, mean_bgr, position="c", method="opencv"):
    """Reads an image (grey and CMYK ones become 3-channel BGR), resizes it to
    resize_hw (H, W) by `method`, takes the crop x crop window at `position` (crop = 0:
    none), mirrors it for an `f` position, and subtracts the BGR mean. The
    authors' frames: 240 x 320, centre crop 224."""
    return image_blob(read_resized(path, resize_hw, method=method), crop, mean_bgr, position,
                      path)


def flow_stack_paths(first_x, length):
    """The x and y images of a flow stack that starts at flow_x_NNNNN.jpg."""
    m = FLOW_X.match(first_x)
    if not m:
        raise ValueError("%s: a flow stack is named by its first flow_x_NNNNN.jpg" % first_x)
    start, digits = int(m.group("index")), len(m.group("index"))
    return [("%sx_%0*d.jpg" % (m.group("head"), digits, k),
             "%sy_%0*d.jpg" % (m.group("head"), digits, k)) for k in range(start, start + length)]


def flow_plane_paths(first_x, length):
    """The 2 * length images of a flow stack, x1, y1, x2, y2, ...; ValueError
    names a missing one."""
    paths = []
    for px, py in flow_stack_paths(first_x, length):
        for p in (px, py):
            if not os.path.isfile(p):
                raise ValueError("%s: flow image missing (stack of %s)" % (p, first_x))
            paths.append(p)
    return paths


def flow_blob(planes, crop, mean, position, first_x):
    """A flow stack from its resized planes (x1, y1, x2, ...): each cropped,
    mirroring negating the x flow (255 - x), minus the mean."""
    views = [crop_view(img, crop, position, first_x) for img in planes]
    out = np.empty((len(views),) + views[0].shape, np.float32)
    for k, view in enumerate(views):
        if k % 2 == 0 and position.endswith("f"):
            np.subtract(np.float32(255.0), view, out=out[k], dtype=np.float32)
            out[k] -= np.float32(mean)
        else:
            np.subtract(view, np.float32(mean), out=out[k], dtype=np.float32)
    return out


def load_flow_stack(first_x, resize_hw, crop, mean, length, position="c"):
    """2 * length channels x1, y1, x2, y2, ... (the two-stream convention) of
    8-bit flow images (128 = no motion) minus the mean. Mirroring flips the
    images and negates the x flow (255 - x)."""
    paths = flow_plane_paths(first_x, length)
    return flow_blob([read_resized(p, resize_hw, grey=True) for p in paths], crop, mean,
                     position, first_x)
