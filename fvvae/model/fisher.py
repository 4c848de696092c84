"""Fisher Vectors from a trained FV-VAE extract net (paper eq. 11-13).

* raw FVs: the extract net's `fv` blob for each descriptor set; a video's FV is
  the mean of its frames' FVs (eq. 13 is linear, section 4);
* the FIM scale (eq. 12, diagonal): estimated on training FVs only, written
  into the FisherVector layer's second parameter blob:
    norm           1 / ||column||_2 over the training rows (the authors' code),
    second-moment  1 / sqrt(mean of squares) = F_ii^(-1/2) of eq. 12,
    variance       1 / standard deviation of the column;
  each with a floor of 1e-10 on the divisor;
* the classifier's normalisation (signed square root, then L2) is
  fvvae.data.representations.normalize_rows.
"""
import os

import numpy as np

from fvvae.data.image_list import groups_of

FLOOR = 1e-10
FIM_METHODS = ("norm", "second-moment", "variance")


def net_fvs(net, sets):
    """Runs the extract net on a stack of descriptor sets (B x C x 1 x T)."""
    net.blobs["data"].reshape(*sets.shape)
    net.blobs["data"].data[...] = sets
    return net.forward()["fv"].astype(np.float64)


def group_fvs(net, store, groups, batch=32, skip=0):
    """Yields (group, label, mean FV) for each group after the first `skip`."""
    for key, indices in list(groups.items())[skip:]:
        total = None
        label = None
        for start in range(0, len(indices), batch):
            part = [store.read(i) for i in indices[start:start + batch]]
            fv = net_fvs(net, np.stack([x for x, _ in part])).sum(axis=0)
            total = fv if total is None else total + fv
            label = part[0][1]
        yield key, label, total / len(indices)


def fim_scale(sum_sq, total, count, method="norm"):
    if method == "norm":
        divisor = np.sqrt(sum_sq)
    elif method == "second-moment":
        divisor = np.sqrt(sum_sq / count)
    elif method == "variance":
        mean = total / count
        divisor = np.sqrt(np.maximum(sum_sq / count - mean ** 2, 0))
    else:
        raise ValueError("FIM method must be one of %s, not %r" % (FIM_METHODS, method))
    return 1.0 / np.maximum(divisor, FLOOR)


def check_sets_input(net, net_path):
    """ValueError unless the net reads descriptor sets (input `data`, N x C x
    1 x T) and gives `fv`: e.g. the importer's deploy.prototxt, whose input
    is a trunk's pool5, is named with the net to use instead."""
    inputs = list(net.inputs)
    if "data" not in inputs or len(net.blobs["data"].data.shape) != 4 \
            or net.blobs["data"].data.shape[2] != 1:
        hint = ""
        if inputs and inputs[0] in ("pool5", "conv5_4", "res5c"):
            hint = ("; its input is a trunk's map: the importer writes the head on "
                    "descriptor sets beside it, %s"
                    % os.path.join(os.path.dirname(net_path), "extract.prototxt"))
        raise ValueError("%s: not an extract net on descriptor sets (input 'data', N x C x "
                         "1 x T; this net's inputs: %s)%s" % (net_path, ", ".join(inputs), hint))
    if "fv" not in net.blobs:
        raise ValueError("%s: the net has no blob 'fv' (the FisherVector layer's output)"
                         % net_path)


# The order of a raw FV's C x (K + 1) values in a row (an HDF5 attribute of
# every FV-VAE representation file): ours is channel-major, element [c, k] at
# c * (K + 1) + k; the authors' MATLAB code flattens fv_mat(:) column-major,
# element [c, k] at k * C + c (to_authors_order).
FLATTEN_ORDER = "c*(K+1)+k"
AUTHORS_ORDER = "k*C+c"


def record_flatten_order(h5, channels, dim, order=FLATTEN_ORDER):
    """Writes the flatten order and its C, K + 1 as attributes of an open
    representation file."""
    h5.attrs["flatten_order"] = order
    h5.attrs["fv_channels"] = int(channels)
    h5.attrs["fv_latent_plus_one"] = int(dim // channels)


def to_authors_order(rows, channels):
    """Rows (N x C(K+1)) in our order [c * (K+1) + k] -> the authors' fv_mat(:)
    order [k * C + c]."""
    rows = np.asarray(rows)
    n = rows.shape[0]
    return rows.reshape(n, channels, -1).transpose(0, 2, 1).reshape(n, -1)


def open_extraction(caffe, net_path, weights, source, list_path=None, root="", gpu=None,
                    tool="extract", cached=True):
    """The extract net with its weights, the descriptor store and the groups
    (videos with a list, else single sets) that FIM estimation and FV
    extraction iterate over. Raises FileNotFoundError naming a missing input.
    cached: the net may be one a call before loaded (fvvae.trunks.netcache); a
    caller that changes its weights (FIM estimation) asks for its own."""
    from fvvae.data.descriptor_store import DescriptorStore
    from fvvae.data.image_list import read_list
    for path in (net_path, weights, source):
        if not os.path.exists(path):
            raise FileNotFoundError("%s does not exist" % path)
    from fvvae.trunks.device import use
    use(caffe, gpu, tool)
    from fvvae.trunks import netcache      # loaded once a process (tools/run_tools.py plans)
    net = netcache.net(caffe, net_path, weights, gpu) if cached else caffe.Net(
        net_path, weights=weights, phase=caffe.TEST)
    check_sets_input(net, net_path)
    store = DescriptorStore(source, readonly=True)
    items = read_list(list_path, root, check_files=False) if list_path else None
    return net, store, groups_of(sorted(store.done_indices()), items)
