"""Fabricated data-set trees in the official layouts, made from real video
clips (the sample videos of Debian's opencv-doc) and generated images."""
import json
import os

import cv2
import numpy as np

OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"
SOURCES = {"Walking": "vtest.avi", "Tree": "tree.avi", "Megamind": "Megamind.avi"}


def require_sample_videos():
    missing = [v for v in SOURCES.values() if not os.path.exists(os.path.join(OPENCV_DATA, v))]
    if missing:
        raise AssertionError("opencv-doc's sample videos are missing (%s): scripts/test.sh "
                             "installs the package opencv-doc" % ", ".join(missing))


def make_clip(src, dst, start, frames, size=(160, 120)):
    """Writes frames [start, start + frames) of src, resized, as an MJPG .avi."""
    cap = cv2.VideoCapture(src)
    for _ in range(start):          # read, not seek: seeking is unreliable in some files
        cap.grab()
    out = cv2.VideoWriter(dst, cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    n = 0
    while n < frames:
        ok, frame = cap.read()
        if not ok:
            break
        out.write(cv2.resize(frame, size))
        n += 1
    out.release()
    cap.release()
    assert n == frames, (src, start, n)
    return dst


def ucf101_tree(root, clips_per_class=3, frames=20):
    """UCF-101/<Class>/v_<Class>_gXX_c01.avi for three classes (groups 1..n-1
    train, group n test) and ucfTrainTestlist/ for split 1."""
    require_sample_videos()
    lists = os.path.join(root, "ucfTrainTestlist")
    os.makedirs(lists, exist_ok=True)
    train, test = [], []
    for ci, (cls, src) in enumerate(SOURCES.items(), 1):
        os.makedirs(os.path.join(root, "UCF-101", cls), exist_ok=True)
        for g in range(1, clips_per_class + 1):
            rel = "%s/v_%s_g%02d_c01.avi" % (cls, cls, g)
            make_clip(os.path.join(OPENCV_DATA, src), os.path.join(root, "UCF-101", rel),
                      start=(g - 1) * frames, frames=frames)
            (train if g < clips_per_class else test).append((rel, ci))
    with open(os.path.join(lists, "classInd.txt"), "w") as f:
        f.writelines("%d %s\n" % (i, c) for i, c in enumerate(SOURCES, 1))
    with open(os.path.join(lists, "trainlist01.txt"), "w") as f:
        f.writelines("%s %d\n" % t for t in train)
    with open(os.path.join(lists, "testlist01.txt"), "w") as f:
        f.writelines("%s\n" % rel for rel, _ in test)
    return root


def activitynet_tree(root, per_class=3, frames=20):
    """activity_net.v1-3.min.json with three activities (per_class - 1
    training videos and one validation video each, one of them missing from
    the folder, one test-subset video) and videos/ named by id."""
    require_sample_videos()
    videos = os.path.join(root, "videos")
    os.makedirs(videos, exist_ok=True)
    db = {}
    for ci, (cls, src) in enumerate(SOURCES.items()):
        for k in range(per_class):
            vid = "%s%02dXyZ" % (cls[:4].lower(), k)
            subset = "training" if k < per_class - 1 else "validation"
            db[vid] = {"subset": subset, "duration": frames / 10.0, "url": "",
                       "resolution": "160x120",
                       "annotations": [{"label": "Activity %s" % cls, "segment": [0.2, 1.5]}]}
            name = ("v_%s.avi" if k % 2 == 0 else "%s.avi") % vid
            make_clip(os.path.join(OPENCV_DATA, src), os.path.join(videos, name),
                      start=k * frames, frames=frames)
    db["gone0000001"] = {"subset": "training", "duration": 3.0, "url": "",
                         "annotations": [{"label": "Activity Tree", "segment": [0, 1]}]}
    db["test0000001"] = {"subset": "testing", "duration": 3.0, "url": "", "annotations": []}
    path = os.path.join(root, "activity_net.v1-3.min.json")
    with open(path, "w") as f:
        json.dump({"version": "VERSION 1.3", "taxonomy": [], "database": db}, f)
    return path, videos


def _bird(rng, cls, size=(180, 240)):
    """A generated picture: a textured background and a class-specific shape."""
    h, w = size
    img = (rng.random((h, w, 3)) * 60 + 40).astype(np.uint8)
    colour = [(40, 40, 220), (40, 200, 40), (220, 120, 30)][cls]
    centre = (int(w * (0.35 + 0.3 * rng.random())), int(h * (0.35 + 0.3 * rng.random())))
    if cls == 0:
        cv2.circle(img, centre, 40, colour, -1)
    elif cls == 1:
        cv2.rectangle(img, (centre[0] - 40, centre[1] - 30), (centre[0] + 40, centre[1] + 30),
                      colour, -1)
    else:
        pts = np.array([[centre[0], centre[1] - 45], [centre[0] - 45, centre[1] + 35],
                        [centre[0] + 45, centre[1] + 35]], np.int32)
        cv2.fillPoly(img, [pts], colour)
    return img, (centre[0] - 50, centre[1] - 50, 100, 100)


def cub_tree(root, per_class=5, test_per_class=2, seed=0):
    """CUB_200_2011/ with three classes of generated images in the official
    files; one training image is stored as a grey JPEG and one as CMYK."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    base = os.path.join(root, "CUB_200_2011")
    names = ["001.Red_Circle", "002.Green_Box", "003.Orange_Wedge"]
    images, labels, split, boxes = [], [], [], []
    iid = 0
    for ci, cname in enumerate(names):
        os.makedirs(os.path.join(base, "images", cname), exist_ok=True)
        for k in range(per_class):
            iid += 1
            rel = "%s/%s_%04d.jpg" % (cname, cname.split(".")[1], iid)
            img, box = _bird(rng, ci)
            path = os.path.join(base, "images", rel)
            if iid == 1:
                cv2.imwrite(path, cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
            elif iid == 2:
                Image.fromarray(img[:, :, ::-1].copy()).convert("CMYK").save(path, "JPEG")
            else:
                cv2.imwrite(path, img)
            images.append("%d %s\n" % (iid, rel))
            labels.append("%d %d\n" % (iid, ci + 1))
            split.append("%d %d\n" % (iid, 0 if k >= per_class - test_per_class else 1))
            boxes.append("%d %.1f %.1f %.1f %.1f\n" % ((iid,) + box))
    for name, lines in (("images.txt", images), ("image_class_labels.txt", labels),
                        ("train_test_split.txt", split), ("bounding_boxes.txt", boxes),
                        ("classes.txt", ["%d %s\n" % (i, n) for i, n in enumerate(names, 1)])):
        with open(os.path.join(base, name), "w") as f:
            f.writelines(lines)
    return root


def example_frames(folder, per_clip=5, step=17):
    """Ten real video frames as JPEGs at 320 x 240 (the authors' frame size):
    frames 1-5 from opencv-doc's vtest.avi (a street), 6-10 from
    Megamind.avi (an animation), every `step`-th frame of each clip. They
    stand in for the authors' ten example frames wherever a test needs real
    frames only, so those tests run without the authors' release."""
    require_sample_videos()
    os.makedirs(folder, exist_ok=True)
    paths = []
    for clip, name in enumerate(("vtest.avi", "Megamind.avi")):
        cap = cv2.VideoCapture(os.path.join(OPENCV_DATA, name))
        k = got = 0
        while got < per_clip:
            ok, frame = cap.read()
            assert ok, (name, k)
            if k % step == 0:
                path = os.path.join(folder, "%06d.jpg" % (clip * per_clip + got + 1))
                if not os.path.exists(path):
                    cv2.imwrite(path, cv2.resize(frame, (320, 240)))
                paths.append(path)
                got += 1
            k += 1
        cap.release()
    return paths


def flow_images(folder, n, size=(320, 240)):
    """n pairs flow_x_00001.jpg .. / flow_y_...: 8-bit flow around 128 (the
    two-stream convention) from the grey-level change between consecutive
    real frames of vtest.avi (y: the same, upside down), at size (W, H).
    Returns the name pattern of the x images."""
    require_sample_videos()
    os.makedirs(folder, exist_ok=True)
    cap = cv2.VideoCapture(os.path.join(OPENCV_DATA, "vtest.avi"))

    def grey():
        ok, frame = cap.read()
        assert ok, "vtest.avi has fewer than %d frames" % (n + 1)
        return cv2.cvtColor(cv2.resize(frame, size), cv2.COLOR_BGR2GRAY).astype(np.int16)
    prev = grey()
    for k in range(1, n + 1):
        cur = grey()
        d = np.clip(128 + 4 * (cur - prev), 0, 255).astype(np.uint8)
        cv2.imwrite(os.path.join(folder, "flow_x_%05d.jpg" % k), d)
        cv2.imwrite(os.path.join(folder, "flow_y_%05d.jpg" % k), np.ascontiguousarray(d[::-1]))
        prev = cur
    cap.release()
    return os.path.join(folder, "flow_x_%05d.jpg")
