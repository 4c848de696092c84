"""From frames to the authors' FV-VAE Fisher Vectors with their released
weights, in one command (tools/authors_fv.py): what the authors' MATLAB code
(fv-vae/fv-vae: extract_fv_vae_frame_sequence.m, normalize_raw_fv.m) computes,
through this project's Caffe nets.

    frames (a list, PATH LABEL GROUP: GROUP names the video)
      -> preprocessing (default `authors`: MATLAB imresize bilinear to
         240 x 320, centre crop 224, mean 104 / 117 / 123; fvvae.data.preprocess)
      -> VGG_19 pool5 -> L2 over the whole map x norm_scale (read from the
         .mat) -> SPP, 50 descriptors (fvvae.trunks.descriptors)
      -> the imported head on descriptor sets (fvvae.model.official): encoder,
         decoder, the raw FV of eq. 11 of each frame
      -> a video's raw FV: the mean over its frames     -> OUT/raw_fv.h5
    normalize_raw_fv (the authors' FIM approximation and normalisation):
      each column divided by its L2 norm over the rows (this list's videos,
      or --fim-list's: the training videos), signed square root, each row L2
                                                        -> OUT/fv_vae.h5

Every input is checked before the trunk runs: the .mat's SHA-256 (one of the
release's three files), its structure, the trunk caffemodel's blob shapes,
the lists' files. The raw FVs are written a video at a time (resumable);
fv_vae.h5 is written whole, atomically.
"""
import hashlib
import logging
import os

import numpy as np

from fvvae.data import representations
from fvvae.files import atomic
from fvvae.model.fisher import AUTHORS_ORDER, FLATTEN_ORDER, record_flatten_order, to_authors_order

log = logging.getLogger("authors_fv")


def column_norms(raw):
    """The L2 norm of each column over the rows: normalize_raw_fv.m's
    approximation of the diagonal Fisher information (eq. 12)."""
    raw = np.asarray(raw, np.float64)
    return np.sqrt(np.einsum("ij,ij->j", raw, raw))


def normalize_raw_fv(raw, norms=None):
    """normalize_raw_fv.m: rows divided column-wise by max(norms, 1e-10)
    (norms: column_norms of these rows unless given, e.g. the training
    rows'; fvvae.model.fisher.fim_scale's `norm`), then the classifier's signed
    square root and row L2 (fvvae.data.representations.normalize_rows, the same 1e-10 floor)."""
    from fvvae.model.fisher import fim_scale
    from fvvae.data.representations import normalize_rows
    raw = np.asarray(raw, np.float64)
    norms = column_norms(raw) if norms is None else np.asarray(norms, np.float64)
    return normalize_rows(raw * fim_scale(norms ** 2, None, None, "norm"))


def video_batches(items, batch):
    """The list's videos (GROUP, in order of first appearance) as
    [(group, [batches of item indices])]: a batch never spans two videos."""
    from fvvae.data.image_list import groups_of
    return [(g, [idx[b:b + batch] for b in range(0, len(idx), batch)])
            for g, idx in groups_of(range(len(items)), items).items()]


def video_raw_fvs(trunk_net, head_net, items, videos, view, mean_bgr, resize_method,
                  workers=1):
    """Yields (video, label, raw FV) a video at a time: the mean over its
    frames of the head's `fv` on the trunk's descriptor sets."""
    from fvvae.trunks import netcache
    from fvvae.data.loader import image_loader
    order = [b for _, batches in videos for b in batches]
    ends = {}
    for g, batches in videos:
        ends[tuple(batches[-1])] = g
    total = count = None
    loaded = iter(image_loader(items, order, [view], mean_bgr, workers,
                               resize_method=resize_method))
    for batch, blobs in loaded:
        blob = blobs[0]
        trunk_net.blobs["data"].reshape(*blob.shape)
        trunk_net.blobs["data"].data[...] = blob
        netcache.forward(trunk_net)
        sets = trunk_net.blobs["descriptors"].data
        head_net.blobs["data"].reshape(*sets.shape)
        head_net.blobs["data"].data[...] = sets
        fv = head_net.forward()["fv"].astype(np.float64).sum(axis=0)
        total = fv if total is None else total + fv
        count = len(batch) if count is None else count + len(batch)
        if tuple(batch) in ends:
            yield ends[tuple(batch)], items[batch[0]].label, total / count
            total = count = None


class AuthorsRoute:
    """The nets and inputs of one run, all checked on construction."""

    def __init__(self, caffe, mat, trunk_weights, out, preprocess="authors", any_mat=False,
                 gpu=None, trunk="vgg19_pool5"):
        from fvvae.model.official import load_official_mat, write_official_head
        from fvvae.model.release_files import check_release_mat
        from fvvae.data.preprocess import preprocessing
        from fvvae.trunks.zoo import default_resize, resolve_trunk, trunk_definition, trunk_weights as tw
        self.caffe, self.out, self.gpu = caffe, out, gpu
        if not any_mat:
            self.split = check_release_mat(mat)
        self.weights = load_official_mat(mat)
        self.mat = mat
        self.trunk = resolve_trunk(trunk)
        if self.trunk.channels != self.weights.channels:
            raise ValueError("%s: C = %d, trunk %s gives %d channels"
                             % (mat, self.weights.channels, trunk, self.trunk.channels))
        self.trunk_weights = tw(trunk, trunk_weights)
        self.prep = preprocessing(preprocess, self.trunk)
        self.view = (default_resize(self.trunk), self.trunk.input_size)
        os.makedirs(out, exist_ok=True)
        self.deploy, self.model = write_official_head(caffe, self.weights,
                                                      os.path.join(out, "head"))
        self.descriptor_net = os.path.join(out, "descriptors.prototxt")
        from fvvae.trunks.descriptors import descriptor_net_text
        with atomic(self.descriptor_net) as f:
            f.write(descriptor_net_text(caffe, trunk_definition(caffe, trunk), self.trunk,
                                        "frame", self.weights.norm_scale))
        from fvvae.trunks import netcache
        netcache.check_weights(caffe, self.descriptor_net, self.trunk_weights)

    def nets(self):
        from fvvae.trunks import netcache
        from fvvae.trunks.device import use
        use(self.caffe, self.gpu, "authors_fv")
        trunk = netcache.net(self.caffe, self.descriptor_net, self.trunk_weights, self.gpu)
        head = netcache.net(self.caffe, os.path.join(self.out, "head", "extract.prototxt"),
                            self.model, self.gpu)
        return trunk, head

    def made_from(self, items):
        """What a raw FV file's rows depend on: the .mat, the trunk's
        weights, the preprocessing and the list's items, as one digest."""
        from fvvae.files import signature
        h = hashlib.sha256()
        for part in (signature(self.mat), signature(self.trunk_weights), self.prep.name,
                     "\n".join("%s %s %s" % (i.path, i.label, i.group) for i in items)):
            h.update(part.encode() + b"\0")
        return h.hexdigest()

    def raw_fvs(self, items, path, batch=10, workers=1):
        """OUT's raw FV file of a list's videos (eq. 11, a video's frames
        averaged), in our flatten order, resumed where it stopped; a file
        made from another .mat, trunk, preprocessing or list starts over."""
        from tqdm import tqdm
        videos = video_batches(items, batch)
        dim = self.weights.channels * (self.weights.latent + 1)
        key = self.made_from(items)
        if os.path.exists(path):
            import h5py
            with h5py.File(path, "r") as f:
                was = f.attrs.get("made_from")
            if was != key:
                log.info("%s: made from another .mat, trunk, preprocessing or list: "
                         "starting it over", path)
                os.remove(path)
        h5 = representations.create(path, len(videos), dim)
        with h5:
            h5.attrs["made_from"] = key
            record_flatten_order(h5, self.weights.channels, dim)
            skip = representations.rows_to_skip(h5, path, 0, len(videos))
            if skip < len(videos):
                trunk, head = self.nets()
                log.info("%s: %d videos, %d done; preprocessing %s (%s)", path, len(videos),
                         skip, self.prep.name, self.prep.about)
                for row, (g, label, fv) in enumerate(tqdm(
                        video_raw_fvs(trunk, head, items, videos[skip:], self.view,
                                      self.prep.mean_for(self.trunk), self.prep.resize,
                                      workers),
                        total=len(videos), initial=skip, desc="raw FV", unit="video"),
                        start=skip):
                    representations.write_row(h5, row, g, label, fv)
        return path


def read_raw(path):
    import h5py
    with h5py.File(path, "r") as f:
        return (f["features"][:].astype(np.float64), f["labels"][:], list(f["ids"].asstr()[:]))


def write_normalized(raw_path, out_path, fim_path=None, order="authors"):
    """OUT/fv_vae.h5: normalize_raw_fv of raw_path's rows (column norms from
    fim_path's rows when given), in `order` (authors: k*C+c, ours:
    c*(K+1)+k), written atomically; raw_path's own order is ours."""
    import h5py
    raw, labels, ids = read_raw(raw_path)
    with h5py.File(raw_path, "r") as f:
        channels = int(f.attrs["fv_channels"])
    norms = column_norms(read_raw(fim_path)[0]) if fim_path else None
    fv = normalize_raw_fv(raw, norms)
    if order == "authors":
        fv = to_authors_order(fv, channels)
    elif order != "ours":
        raise ValueError("order %r: authors or ours" % order)
    tmp = out_path + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.create_dataset("features", data=fv.astype(np.float32))
        f.create_dataset("labels", data=labels)
        f.create_dataset("ids", data=ids, dtype=h5py.string_dtype())
        f.attrs["done"] = len(ids)
        f.attrs["dimension"] = fv.shape[1]
        f.attrs["power_normalized"] = True      # the classifier only L2-normalises
        f.attrs["fim"] = "column L2 over %s" % (fim_path or raw_path)
        record_flatten_order(f, channels, fv.shape[1],
                             AUTHORS_ORDER if order == "authors" else FLATTEN_ORDER)
    os.replace(tmp, out_path)
    return fv
