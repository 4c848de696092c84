"""Frames and optical flow from videos, with OpenCV (the paper's section 5.2:
25 frames uniformly sampled per video; the two-stream convention for flow).

A video that OpenCV cannot open, or that decodes to no frame, raises
VideoError naming the file; a truncated video (fewer decodable frames than its
header says) is sampled over the frames that do decode.
"""
import os

import cv2
import numpy as np

FLOW_BOUND = 20.0        # flow values are clipped to [-20, 20] before 8-bit quantisation
FLOW_STACK = 10          # x/y flow pairs per stack: 20 input channels for the flow trunk


class VideoError(ValueError):
    """A video that cannot be used, with its path in the message."""


def segment_centres(n_frames, n):
    """n frame indices spread uniformly over n_frames: the centres of n equal
    segments (frames repeat when the video is shorter than n)."""
    if n_frames < 1:
        raise ValueError("no frames to sample from")
    return [min(n_frames - 1, int((i + 0.5) * n_frames / n)) for i in range(n)]


def _decode(path, wanted, extra=0):
    """{index: frame} for the wanted indices (and the `extra` frames after each),
    reading the video once, sequentially; also the number of frames decoded."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise VideoError("%s: OpenCV cannot open this video (missing codec, or not a video)"
                         % path)
    keep = set()
    for i in wanted:
        keep.update(range(i, i + extra + 1))
    last = max(keep)
    frames, i = {}, 0
    try:
        while i <= last:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if i in keep:
                frames[i] = frame
            i += 1
    finally:
        cap.release()
    return frames, i


def frame_count(path):
    """The frame count a video's header gives (0 when it gives none)."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise VideoError("%s: OpenCV cannot open this video (missing codec, or not a video)"
                         % path)
    try:
        return max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
    finally:
        cap.release()


def sample_frames(path, n=25, extra=0):
    """(indices, {index: BGR frame}) of n frames at segment centres, plus the
    `extra` frames after each (for optical flow). Truncated videos are sampled
    again over the frames that actually decode."""
    count = frame_count(path)
    if count > 0:
        idx = segment_centres(count, n)
        frames, decoded = _decode(path, idx, extra)
        if all(i in frames for i in idx):
            return idx, frames
    else:
        decoded = _count_decodable(path)
    if decoded == 0:
        raise VideoError("%s: no frame could be decoded (empty, truncated or corrupt video)"
                         % path)
    idx = segment_centres(decoded, n)           # header lied: sample what decodes
    frames, _ = _decode(path, idx, extra)
    return idx, frames


def _count_decodable(path):
    cap = cv2.VideoCapture(path)
    n = 0
    try:
        while cap.grab():
            n += 1
    finally:
        cap.release()
    return n


def flow_method():
    """'tvl1' where opencv-contrib's optflow module is there, else 'farneback'."""
    return "tvl1" if hasattr(cv2, "optflow") and hasattr(
        cv2.optflow, "DualTVL1OpticalFlow_create") else "farneback"


def optical_flow(prev_bgr, next_bgr, method=None):
    """Dense flow (H x W x 2, pixels) between two frames: TV-L1 or Farneback."""
    a = cv2.cvtColor(prev_bgr, cv2.COLOR_BGR2GRAY)
    b = cv2.cvtColor(next_bgr, cv2.COLOR_BGR2GRAY)
    method = method or flow_method()
    if method == "tvl1":
        return cv2.optflow.DualTVL1OpticalFlow_create().calc(a, b, None)
    return cv2.calcOpticalFlowFarneback(a, b, None, pyr_scale=0.5, levels=3, winsize=15,
                                        iterations=3, poly_n=5, poly_sigma=1.2, flags=0)


def quantise_flow(flow, bound=FLOW_BOUND):
    """The two-stream convention: clip to [-bound, bound], map linearly to
    0..255 (128 is no motion). Returns the x and y images (uint8)."""
    q = np.clip((flow + bound) * (255.0 / (2 * bound)), 0, 255).round().astype(np.uint8)
    return q[..., 0], q[..., 1]


def _write_jpeg(path, img):
    tmp = path + ".tmp.jpg"
    if not cv2.imwrite(tmp, img, [cv2.IMWRITE_JPEG_QUALITY, 95]):
        raise OSError("%s: could not write the image" % path)
    os.replace(tmp, path)


def extract_video(path, out_dir, n=25, flow=False, size=None, method=None):
    """Writes out_dir/img_NNNNN.jpg for the n sampled frames and, with flow,
    flow_x_NNNNN.jpg / flow_y_NNNNN.jpg for the FLOW_STACK flows that start at
    each sampled frame (flow k lies between frames k and k+1; at the end of the
    video the last flow repeats). size: (W, H) to resize frames to first.
    Returns the sampled indices; a file `done` marks a finished video, so an
    interrupted preparation resumes at the video it stopped in."""
    marker = os.path.join(out_dir, "done")
    if os.path.exists(marker):
        with open(marker) as f:
            return [int(v) for v in f.read().split()]
    os.makedirs(out_dir, exist_ok=True)
    idx, frames = sample_frames(path, n, extra=FLOW_STACK if flow else 0)
    if size:
        frames = {i: cv2.resize(f, tuple(size), interpolation=cv2.INTER_AREA)
                  for i, f in frames.items()}
    for i in sorted(set(idx)):
        _write_jpeg(os.path.join(out_dir, "img_%05d.jpg" % i), frames[i])
    if flow:
        done = set()
        for start in idx:
            for k in range(start, start + FLOW_STACK):
                if k in done:
                    continue
                # past the video's end the last decoded pair stands in
                a = k if (k in frames and k + 1 in frames) else max(frames) - 1
                if a not in frames or a + 1 not in frames:    # one frame: no motion
                    fl = np.zeros(frames[start].shape[:2] + (2,), np.float32)
                else:
                    fl = optical_flow(frames[a], frames[a + 1], method)
                fx, fy = quantise_flow(fl)
                _write_jpeg(os.path.join(out_dir, "flow_x_%05d.jpg" % k), fx)
                _write_jpeg(os.path.join(out_dir, "flow_y_%05d.jpg" % k), fy)
                done.add(k)
    with open(marker + ".tmp", "w") as f:
        f.write(" ".join(map(str, idx)))
    os.replace(marker + ".tmp", marker)
    return idx
