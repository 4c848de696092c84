"""Descriptor sets in LMDB, the format Caffe's Data layer reads: key
"%08d" % item index, value a Datum (channels C, height 1, width T,
float_data, label). Writes go in one transaction per batch, so an interrupted
extraction keeps every batch it finished and resumes after them."""
import lmdb
import numpy as np


def _datum_cls():
    from caffe.proto import caffe_pb2
    return caffe_pb2.Datum


class DescriptorStore:
    MAP_SIZE = 1 << 40   # virtual; LMDB grows the file as needed

    def __init__(self, path, readonly=False):
        self.path = path
        self.env = lmdb.open(path, map_size=self.MAP_SIZE, readonly=readonly,
                             lock=not readonly, subdir=True)

    def done_indices(self):
        with self.env.begin() as txn:
            return {int(k) for k in txn.cursor().iternext(keys=True, values=False)}

    def put_batch(self, indices, sets, labels):
        datum = _datum_cls()
        with self.env.begin(write=True) as txn:
            for i, x, label in zip(indices, sets, labels):
                d = datum(channels=x.shape[0], height=1, width=int(np.prod(x.shape[1:])),
                          label=int(label))
                d.float_data.extend(np.asarray(x, np.float32).ravel().tolist())
                txn.put(b"%08d" % i, d.SerializeToString())

    def __len__(self):
        return self.env.stat()["entries"]

    def read(self, index):
        with self.env.begin() as txn:
            raw = txn.get(b"%08d" % index)
        if raw is None:
            raise KeyError("%s: no descriptor set %d" % (self.path, index))
        return self.decode(raw)

    def items(self):
        """(index, set C x 1 x T, label) in key order."""
        with self.env.begin() as txn:
            for k, raw in txn.cursor():
                x, label = self.decode(raw)
                yield int(k), x, label

    @staticmethod
    def decode(raw):
        d = _datum_cls()()
        d.ParseFromString(raw)
        x = np.asarray(d.float_data, np.float32).reshape(d.channels, d.height, d.width)
        return x, d.label

    def close(self):
        self.env.close()
