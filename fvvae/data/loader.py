"""The trunk's input blobs, batch by batch, loaded ahead of the net.

On a GPU the trunk's pass costs less than reading its input: decoding a
240 x 320 JPEG and resizing it is a few milliseconds of one core, a flow
stack twenty of them, and the ten crops of a test frame read the same frame
ten times (bench/loader.py measures it). Two savings, with the blobs equal
to loading item by item (tests/test_loader.py):

- each decoded, resized image is read once for all the items of nearby
  batches that use it: the ten crops of a frame (ten consecutive lines of a
  10-crop list) and the overlapping flow stacks of a video;
- `ahead` batches are loaded by `workers` threads while the net runs on the
  current one (OpenCV's decode and resize release the GIL, and so does the
  net's forward pass through Net._forward_nogil, patch 0012).

An item's error (an unreadable image) is raised at its own batch, after
every batch before it has been handed out, as loading in turn would.
"""
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np


def default_workers():
    """Loader threads when --workers is not given: the cores, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


class BatchLoader:
    """Iterates (batch, [blob of each view]) over `batches` (lists of item
    indices). keys(i): the images item i needs, as hashable keys;
    decode(key): the decoded image of a key; assemble(i, images): item i's
    blobs (one per view) from its keys' images, in the order of keys(i).
    `decodes` counts the images decoded (for the tests and the bench)."""

    def __init__(self, batches, keys, decode, assemble, workers=1, ahead=None):
        self.batches = [list(b) for b in batches]
        self.keys, self.decode, self.assemble = keys, decode, assemble
        self.workers = max(1, int(workers))
        self.ahead = max(2, self.workers) if ahead is None else max(1, int(ahead))
        self.decodes = 0
        self._images = {}           # key -> Future of its decoded image
        self._last_use = {}         # key -> the last batch that asked for it
        self._lock = threading.Lock()

    def _load(self, number):
        batch = self.batches[number]
        needs = [list(self.keys(i)) for i in batch]
        mine, futures = [], {}
        with self._lock:            # claim every image this batch needs at once
            for wanted in needs:
                for key in wanted:
                    if key in futures:
                        continue
                    f = self._images.get(key)
                    if f is None:
                        f = self._images[key] = Future()
                        mine.append((key, f))
                    futures[key] = f
                    self._last_use[key] = max(number, self._last_use.get(key, -1))
        # decode what this batch claimed before waiting on any other batch's
        # image: a batch waits only on images whose decoding has started
        for key, f in mine:
            try:
                f.set_result(self.decode(key))
            except BaseException as e:          # raised where the image is used
                f.set_exception(e)
        with self._lock:
            self.decodes += len(mine)
        views = [self.assemble(i, [futures[k].result() for k in wanted])
                 for i, wanted in zip(batch, needs)]
        return [np.stack(v) for v in zip(*views)]

    def _forget_before(self, number):
        """Drops the images no batch from `number` on has asked for."""
        with self._lock:
            for key in [k for k, last in self._last_use.items() if last < number]:
                del self._last_use[key]
                self._images.pop(key, None)

    def __iter__(self):
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="fvvae-loader")
        pending, submitted = deque(), 0
        try:
            for number, batch in enumerate(self.batches):
                while submitted < len(self.batches) and submitted <= number + self.ahead:
                    pending.append(pool.submit(self._load, submitted))
                    submitted += 1
                blobs = pending.popleft().result()
                self._forget_before(number)
                yield batch, blobs
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def image_loader(items, batches, views, mean_bgr, workers=1, ahead=None, resize_method="opencv"):
    """Colour images (fvvae.data.preprocess.load_image) in one or more views
    [((H, W) resize, crop)], e.g. VGG_19 conv5_4's 448 input and its GA
    pass's 224 one: each item's blobs, one a view. resize_method:
    fvvae.data.preprocess.Preprocessing.resize."""
    from fvvae.data.preprocess import image_blob, read_resized
    views = [(tuple(int(v) for v in resize), int(crop)) for resize, crop in views]

    def keys(i):
        return [(items[i].path, resize, False, resize_method) for resize, _ in views]

    def assemble(i, images):
        return [image_blob(img, crop, mean_bgr, items[i].crop, items[i].path)
                for img, (_, crop) in zip(images, views)]
    return BatchLoader(batches, keys, lambda key: read_resized(*key), assemble, workers, ahead)


def flow_loader(items, batches, resize, crop, mean, length, workers=1, ahead=None):
    """Flow stacks (fvvae.data.preprocess.load_flow_stack) of `length` x / y image
    pairs starting at each item's flow_x image."""
    from fvvae.data.preprocess import flow_blob, flow_plane_paths, read_resized
    resize = tuple(int(v) for v in resize)

    def keys(i):
        return [(p, resize, True) for p in flow_plane_paths(items[i].path, length)]

    def assemble(i, planes):
        return [flow_blob(planes, crop, mean, items[i].crop, items[i].path)]
    return BatchLoader(batches, keys, lambda key: read_resized(*key), assemble, workers, ahead)
