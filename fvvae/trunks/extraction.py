"""The trunk's pass into stores (tools/extract_descriptors.py): a trunk over
an image or frame list, writing each item's descriptor set (N x C x 1 x T
Datums, section 3.1's local activations after the descriptor head), and
optionally its activation map (Concatenation, AVE) and the trunk's global
activation (GA), into LMDB stores, batch by batch, committed as it goes:
a rerun skips what the stores hold. A full disk stops with a message that
names the store and what the rest needs; nothing written is lost."""
import logging

from fvvae.files import atomic

log = logging.getLogger("extract_descriptors")


class ExtractionStopped(Exception):
    """The pass stopped on bad input (code 2) or a full disk (code 1); the
    message names the file and what was saved."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


def write_nets(caffe, trunk, out, mode, norm_scale, global_out):
    """OUT.prototxt: the trunk with its descriptor head (and GA's layers when
    the trunk's own head gives GA); GLOBAL.prototxt: GA's second pass at its
    own input when it does not (VGG_19 conv5_4 at 448: fvvae.trunks.zoo.ga_input).
    Returns (net path, GA net path or None)."""
    from fvvae.trunks.descriptors import descriptor_net_text
    from fvvae.trunks.zoo import ga_trunk, global_layers, trunk_definition
    ga_pass = bool(global_out) and ga_trunk(trunk) is not trunk
    net_path = out.rstrip("/") + ".prototxt"
    with atomic(net_path) as f:
        f.write(descriptor_net_text(caffe, trunk_definition(caffe, trunk.name), trunk, mode,
                                    norm_scale, with_global=bool(global_out) and not ga_pass))
    if not ga_pass:
        return net_path, None
    from caffe.proto import caffe_pb2
    from google.protobuf import text_format
    gt = ga_trunk(trunk)
    ga_def = caffe_pb2.NetParameter()
    text_format.Merge(trunk_definition(caffe, gt.name), ga_def)
    ga_def.layer.extend(global_layers(caffe, gt)[0].layer)
    ga_path = global_out.rstrip("/") + ".prototxt"
    with atomic(ga_path) as f:
        f.write(text_format.MessageToString(ga_def))
    return net_path, ga_path


def extract(caffe, trunk, items, out, weights, prep, mode, resize, crop, norm_scale=158.0,
            maps=None, global_out=None, shuffle=None, batch=16, workers=None, gpu=None,
            block_of=None, what=""):
    """The pass over items[block_of[0]:block_of[1]] (all when None) into
    OUT (descriptor sets), MAPS and GLOBAL_OUT; returns (items in OUT, the
    shape of a set). Raises ExtractionStopped (the message says why)."""
    from tqdm import tqdm
    from fvvae.data.descriptor_store import DescriptorStore
    from fvvae.data.loader import default_workers, flow_loader, image_loader
    from fvvae.trunks import netcache      # loaded once a process (tools/run_tools.py plans)
    from fvvae.trunks.zoo import ga_input, ga_trunk, global_layers
    net_path, ga_path = write_nets(caffe, trunk, out, mode, norm_scale, global_out)
    try:
        for path in (net_path, ga_path):
            if path:
                netcache.check_weights(caffe, path, weights)
    except ValueError as e:
        raise ExtractionStopped(str(e)) from None
    net = netcache.net(caffe, net_path, weights, gpu)
    ga_net = netcache.net(caffe, ga_path, weights, gpu) if ga_path else None

    # the outputs, written batch by batch together: (store, net, blob)
    try:
        outputs = [(DescriptorStore(out, shuffle=None if shuffle is None
                                    else (shuffle, len(items))), net, "descriptors")]
    except ValueError as e:
        raise ExtractionStopped(str(e)) from None
    if maps:
        outputs.append((DescriptorStore(maps), net, trunk.cut_blob))
    if global_out:
        outputs.append((DescriptorStore(global_out), ga_net or net,
                        global_layers(caffe, ga_trunk(trunk))[1]))
    store = outputs[0][0]
    mine = range(*block_of) if block_of else range(len(items))
    done = set.intersection(*(s.done_indices() for s, _, _ in outputs)) & set(mine)
    todo = [i for i in mine if i not in done]
    log.info("trunk %s (%s), mode %s, %d items%s, %d already done, resize %s crop %d, "
             "preprocessing %s (%s)", trunk.name, weights, mode, len(mine), what, len(done),
             resize, crop, prep.name, prep.about)
    batches = [todo[b:b + batch] for b in range(0, len(todo), batch)]
    workers = workers or default_workers()
    if trunk.in_channels == 3:
        views = [(resize, crop)] + ([ga_input(trunk)] if ga_net is not None else [])
        loader = image_loader(items, batches, views, prep.mean_for(trunk), workers,
                              resize_method=prep.resize)
    else:                   # the flow stream: stacks of x/y flow images
        loader = flow_loader(items, batches, resize, crop, trunk.mean_bgr[0],
                             trunk.in_channels // 2, workers)
    try:
        with tqdm(total=len(mine), initial=len(done), desc="descriptors", unit="img") as bar:
            for batch_items, blobs in _loaded(loader, store, out):
                for n, blob in zip([net, ga_net], blobs):
                    n.blobs["data"].reshape(*blob.shape)
                    n.blobs["data"].data[...] = blob
                    netcache.forward(n)
                labels = [items[i].label for i in batch_items]
                for s, source, name in outputs:
                    _put(s, source.blobs[name].data, batch_items, labels, outputs, mine)
                bar.update(len(batch_items))
        shape = store.read(mine[0])[0].shape
        log.info("done: %d descriptor sets of shape %s in %s", len(store), shape, out)
        return len(store), shape
    finally:
        for s, _, _ in outputs:
            s.close()


def _loaded(loader, store, out):
    """The loader's batches; an unreadable image stops the pass, naming it."""
    loaded = iter(loader)
    while True:
        try:
            yield next(loaded)
        except StopIteration:
            return
        except ValueError as e:
            raise ExtractionStopped("%s (the %d items before it are saved in %s)"
                                    % (e, len(store.done_indices()), out)) from None


def _put(store, data, batch, labels, outputs, mine):
    """One store's batch; a full disk stops the pass with what was saved."""
    try:
        store.put_batch(batch, data, labels)
    except Exception as e:        # lmdb.Error or OSError
        from fvvae.data import diskspace
        # a Datum float costs 4 bytes (packed float_data)
        per_item = sum(4 * n.blobs[b].data[0].size + 64 for _, n, b in outputs)
        if not diskspace.is_disk_full(e, store.path, 2 * per_item * len(batch)):
            raise
        saved = len(set.intersection(*(o.done_indices() for o, _, _ in outputs)) & set(mine))
        log.error("disk full writing %s", store.path)
        raise ExtractionStopped(diskspace.message("extract_descriptors", store.path, saved,
                                                  len(mine), per_item), code=1) from None
