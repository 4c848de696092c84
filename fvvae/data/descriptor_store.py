"""Descriptor sets in LMDB, the format Caffe's Data layer reads: key
"%08d" % the item's position, value a Datum (channels C, height 1, width T,
float_data, label). Writes go in one transaction per batch, so an interrupted
extraction keeps every batch it finished and resumes after them.

The position is the item's index in its list, or, in a store opened with
shuffle=(seed, count), its place in one seeded permutation of the count
items (as Caffe's convert_imageset --shuffle does): Caffe's Data layer reads
records in key order without shuffling, so a training store of a
class-sorted list (UCF101's trainlist, CUB's images.txt) would give batches
of one class. The permutation is kept beside the data (fvvae_order.json);
everything here speaks of list indices, so readers need not know.

Records are written with float_data in the packed encoding (one length-
delimited run of little-endian float32: 4 bytes a float), which every proto2
parser, Caffe's C++ one included, reads as the declared unpacked field
(Python's protobuf would write 5 bytes a float: a tag byte before each).
"""
import json
import os

import lmdb
import numpy as np

from fvvae.files import atomic

ORDER_FILE = "fvvae_order.json"


def permutation(seed, count):
    """positions[i]: where item i goes (numpy's legacy RandomState, whose
    stream is fixed across numpy versions)."""
    return np.random.RandomState(seed).permutation(count)


def _varint(value):
    """Protocol-buffer base-128 varint of a non-negative int, or of a negative
    int32 as its 64-bit two's complement (10 bytes), as protobuf writes it."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_datum(x, label):
    """The serialized caffe.Datum of set x (C x ...): channels C, height 1,
    width the rest, label, float_data packed (field 6, wire type 2)."""
    x = np.ascontiguousarray(x, dtype="<f4")
    floats = x.tobytes()
    return b"".join([
        b"\x08", _varint(x.shape[0]),                          # channels
        b"\x10", _varint(1),                                   # height
        b"\x18", _varint(int(np.prod(x.shape[1:]))),           # width
        b"\x28", _varint(int(label)),                          # label
        b"\x32", _varint(len(floats)), floats])                # float_data, packed


def _datum_cls():
    from caffe.proto import caffe_pb2
    return caffe_pb2.Datum


class DescriptorStore:
    MAP_SIZE = 1 << 40   # virtual; LMDB grows the file as needed

    def __init__(self, path, readonly=False, shuffle=None):
        self.path = path
        self.env = lmdb.open(path, map_size=self.MAP_SIZE, readonly=readonly,
                             lock=not readonly, subdir=True)
        self.order = None
        order_path = os.path.join(path, ORDER_FILE)
        if os.path.exists(order_path):
            with open(order_path) as f:
                self.order = json.load(f)
        want = None if shuffle is None else {"seed": int(shuffle[0]), "count": int(shuffle[1])}
        if want is not None and self.order != want:
            if self.order is not None or len(self):
                self.env.close()
                raise ValueError("%s: written in %s; asked for the order of seed %d over %d "
                                 "items: remove it to extract again" % (
                                     path, "list order" if self.order is None else
                                     "the order of seed %(seed)d over %(count)d items"
                                     % self.order, want["seed"], want["count"]))
            with atomic(order_path) as f:
                json.dump(want, f)
            self.order = want
        self._pos = self._index = None
        if self.order is not None:
            self._pos = permutation(self.order["seed"], self.order["count"])
            self._index = np.argsort(self._pos)

    def key(self, index):
        """The LMDB key of list item `index`."""
        return b"%08d" % (index if self._pos is None else self._pos[index])

    def index_of(self, key):
        """The list index of an LMDB key."""
        return int(key) if self._index is None else int(self._index[int(key)])

    def done_indices(self):
        with self.env.begin() as txn:
            return {self.index_of(k) for k in txn.cursor().iternext(keys=True, values=False)}

    def put_batch(self, indices, sets, labels):
        with self.env.begin(write=True) as txn:
            for i, x, label in zip(indices, sets, labels):
                txn.put(self.key(i), encode_datum(x, label))

    def __len__(self):
        return self.env.stat()["entries"]

    def read(self, index):
        with self.env.begin() as txn:
            raw = txn.get(self.key(index))
        if raw is None:
            raise KeyError("%s: no descriptor set %d" % (self.path, index))
        return self.decode(raw)

    def items(self):
        """(list index, set C x 1 x T, label) in key order (the order Caffe
        reads them in)."""
        with self.env.begin() as txn:
            for k, raw in txn.cursor():
                x, label = self.decode(raw)
                yield self.index_of(k), x, label

    @staticmethod
    def decode(raw):
        d = _datum_cls()()
        d.ParseFromString(raw)
        x = np.asarray(d.float_data, np.float32).reshape(d.channels, d.height, d.width)
        return x, d.label

    def close(self):
        self.env.close()
