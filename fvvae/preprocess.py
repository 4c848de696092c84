"""Pixels to a trunk's input blob, as Caffe models of the era expect: BGR,
0-255, the mean subtracted, C x H x W."""
import cv2
import numpy as np


def load_image(path, resize_hw, crop, mean_bgr):
    """Reads an image (grey ones become 3-channel), resizes it to resize_hw
    (H, W), takes the central crop x crop (crop = 0: none) and subtracts the
    BGR mean. The authors' frames: 240 x 320, centre crop 224."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("%s: not a readable image" % path)
    h, w = resize_hw
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    if crop:
        if crop > h or crop > w:
            raise ValueError("crop %d is larger than the resized %d x %d image" % (crop, h, w))
        y, x = (h - crop) // 2, (w - crop) // 2
        img = img[y:y + crop, x:x + crop]
    img -= np.asarray(mean_bgr, np.float32)
    return img.transpose(2, 0, 1)
