"""The descriptor stores' record format: caffe.Datum with float_data in the
packed encoding (4 bytes a float instead of protobuf-Python's 5), read back
by protobuf, by DescriptorStore and by Caffe's own C++ Data layer; stores
written before (unpacked) still read."""
import lmdb
import numpy as np
import pytest

from conftest import net_from_text


pytestmark = pytest.mark.quick     # scripts/test.sh --quick


def protobuf_datum(x, label):
    """The Datum as protobuf's own Python serializer writes it (unpacked)."""
    from caffe.proto import caffe_pb2
    d = caffe_pb2.Datum(channels=x.shape[0], height=1, width=int(np.prod(x.shape[1:])),
                        label=int(label))
    d.float_data.extend(x.ravel().tolist())
    return d


@pytest.mark.parametrize("label", [0, 1, 127, 128, 300000, -1])
def test_packed_record_parses_as_the_declared_datum(caffe, label):
    from caffe.proto import caffe_pb2
    from fvvae.data.descriptor_store import encode_datum
    x = np.random.default_rng(label & 0xFF).standard_normal((7, 1, 9)).astype(np.float32)
    raw = encode_datum(x, label)
    d = caffe_pb2.Datum()
    d.ParseFromString(raw)
    ref = protobuf_datum(x, label)
    assert (d.channels, d.height, d.width, d.label) == (ref.channels, ref.height, ref.width,
                                                         ref.label)
    np.testing.assert_array_equal(np.asarray(d.float_data, np.float32), x.ravel())
    assert not d.encoded and d.data == b""
    # 4 bytes a float plus a header of a few bytes; protobuf's own writer 5 a float
    assert 4 * x.size < len(raw) <= 4 * x.size + 24
    assert len(ref.SerializeToString()) >= 5 * x.size


def test_caffe_data_layer_reads_packed_records(caffe, tmp_path):
    """Caffe's C++ parser (the training nets' Data layer) gets the same
    numbers and labels from the packed records."""
    from fvvae.data.descriptor_store import DescriptorStore
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5, 1, 11)).astype(np.float32)
    labels = [3, 0, 200, 1, 7, 2]
    s = DescriptorStore(str(tmp_path / "sets"))
    s.put_batch(range(6), x, labels)
    s.close()
    text = ('layer { name: "d" type: "Data" top: "data" top: "label" '
            'data_param { source: "%s" backend: LMDB batch_size: 6 } }\n' % (tmp_path / "sets"))
    net = net_from_text(caffe, text, caffe.TRAIN)
    net.forward()
    np.testing.assert_array_equal(net.blobs["data"].data, x)
    assert net.blobs["label"].data.astype(int).tolist() == labels


def test_stores_written_unpacked_still_read(caffe, tmp_path):
    from fvvae.data.descriptor_store import DescriptorStore
    x = np.random.default_rng(2).standard_normal((3, 4, 1, 6)).astype(np.float32)
    env = lmdb.open(str(tmp_path / "old"), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i in range(3):
            txn.put(b"%08d" % i, protobuf_datum(x[i], i + 5).SerializeToString())
    env.close()
    s = DescriptorStore(str(tmp_path / "old"), readonly=True)
    assert s.done_indices() == {0, 1, 2}
    for i in range(3):
        got, label = s.read(i)
        np.testing.assert_array_equal(got, x[i])
        assert label == i + 5
    s.close()
