"""The authors' released FV-VAE weights (MATLAB v5 .mat) as a Caffe
extraction head.

Format (the authors' README in fv-vae/fv-vae): struct
``caffe_vae_weights`` with ``norm_scale`` (158), ``encoder`` (w: 1x1x512x256,
b: 256x1, linear), ``decoder`` (w: 1x1x512x256, b: 512x1, ReLU) and
``decoder_sigma`` (512x1). The ``w`` arrays are Caffe blobs with the axes
reversed, as MATLAB sees them: the encoder a Convolution blob (256, 512, 1, 1),
the decoder a Deconvolution blob (256, 512, 1, 1) (input K, output C).

The head: pool5 (N x 512 x 7 x 7) -> Normalize(x norm_scale) -> SPP (50
descriptors) -> encoder (mu_z, no sampling at extraction) -> decoder + ReLU
(mu_x) -> FisherVector: the raw FV, N x 512*257, element [c, k] at c*257 + k.
The importer writes it twice with the same weights: deploy.prototxt, whose
input is `pool5`, and extract.prototxt, whose input is the descriptor sets
`data` (N x 512 x 1 x 50) that tools/extract_descriptors.py stores and
tools/extract_fv.py reads.
"""
import os
from dataclasses import dataclass

import numpy as np

from fvvae.trunks.descriptors import frame_descriptor_set
from fvvae.files import atomic


@dataclass
class OfficialWeights:
    norm_scale: float
    encoder_w: np.ndarray   # Caffe Convolution blob (K, C, 1, 1)
    encoder_b: np.ndarray   # (K,)
    decoder_w: np.ndarray   # Caffe Deconvolution blob (K, C, 1, 1)
    decoder_b: np.ndarray   # (C,)
    sigma_x: np.ndarray     # (C,)

    @property
    def channels(self):
        return self.encoder_w.shape[1]

    @property
    def latent(self):
        return self.encoder_w.shape[0]


def _field(struct, name, path):
    if name not in struct._fieldnames:
        raise ValueError("%s: struct caffe_vae_weights has no field %r (fields: %s)"
                         % (path, name, ", ".join(struct._fieldnames)))
    return getattr(struct, name)


def load_official_mat(path):
    """Reads one released .mat file and checks every shape against its format."""
    import scipy.io
    if not os.path.isfile(path):
        raise FileNotFoundError("%s: no such file (expected one of the authors' "
                                "caffe_vae_weights_ucf101_split*_vgg19.mat)" % path)
    try:
        mat = scipy.io.loadmat(path, struct_as_record=False)
    except Exception as e:  # scipy raises several types for a bad file
        raise ValueError("%s: not a readable MATLAB v5 file (%s)" % (path, e)) from e
    if "caffe_vae_weights" not in mat:
        raise ValueError("%s: no variable caffe_vae_weights" % path)
    s = mat["caffe_vae_weights"][0, 0]
    enc = _field(s, "encoder", path)[0, 0]
    dec = _field(s, "decoder", path)[0, 0]
    enc_w = np.asarray(_field(enc, "w", path), np.float32)
    dec_w = np.asarray(_field(dec, "w", path), np.float32)
    if enc_w.ndim != 4 or enc_w.shape[:2] != (1, 1) or dec_w.shape != enc_w.shape:
        raise ValueError("%s: encoder.w %s and decoder.w %s must both be 1 x 1 x C x K"
                         % (path, enc_w.shape, dec_w.shape))
    c, k = enc_w.shape[2:]
    enc_b = np.asarray(_field(enc, "b", path), np.float32).ravel()
    dec_b = np.asarray(_field(dec, "b", path), np.float32).ravel()
    sigma = np.asarray(_field(s, "decoder_sigma", path), np.float32).ravel()
    if enc_b.size != k or dec_b.size != c or sigma.size != c:
        raise ValueError("%s: encoder.b (%d), decoder.b (%d) and decoder_sigma (%d) do not "
                         "fit C = %d, K = %d" % (path, enc_b.size, dec_b.size, sigma.size, c, k))
    if np.any(sigma <= 0):
        raise ValueError("%s: decoder_sigma has non-positive values" % path)
    acts = (str(np.ravel(_field(enc, "act", path))[0]), str(np.ravel(_field(dec, "act", path))[0]))
    if acts != ("Linear", "ReLU"):
        raise ValueError("%s: activations %s, expected ('Linear', 'ReLU')" % (path, acts))
    # MATLAB shows Caffe's (N, C, H, W) blobs with the axes reversed.
    return OfficialWeights(
        norm_scale=float(np.ravel(_field(s, "norm_scale", path))[0]),
        encoder_w=np.ascontiguousarray(enc_w.transpose(3, 2, 1, 0)),
        encoder_b=enc_b, decoder_w=np.ascontiguousarray(dec_w.transpose(3, 2, 1, 0)),
        decoder_b=dec_b, sigma_x=sigma)


def official_config(weights, map_size=7):
    """The FV-VAE config the released weights imply: one linear encoder layer."""
    from fvvae.model.config import FVVAEConfig
    from fvvae.trunks.descriptors import frame_descriptor_count
    return FVVAEConfig(channels=weights.channels, descriptors=frame_descriptor_count(map_size),
                       encoder=[weights.latent], encoder_relu=False)


def extraction_head(caffe, weights, map_size=7, input_name="pool5"):
    """The extract net of fvvae.model.nets on a trunk's C x map x map activations:
    pool5 -> Normalize x norm_scale -> SPP -> encoder -> decoder -> FV."""
    from fvvae.model.nets import extract_net

    def pool5_descriptors(n):
        setattr(n, input_name, caffe.layers.Input(
            shape=dict(dim=[1, weights.channels, map_size, map_size])))
        n.x = frame_descriptor_set(caffe, n, getattr(n, input_name), map_size,
                                   weights.norm_scale)
        return n.x

    return extract_net(caffe, official_config(weights, map_size),
                       prefix_layers=pool5_descriptors)


def sets_head(caffe, weights, map_size=7):
    """The same head on descriptor sets (input `data`, N x C x 1 x 50): the
    extract net tools/extract_fv.py runs on extract_descriptors' stores."""
    from fvvae.trunks.descriptors import frame_descriptor_count
    from fvvae.model.nets import extract_net
    return extract_net(caffe, official_config(weights, map_size),
                       input_shape=[1, weights.channels, 1, frame_descriptor_count(map_size)])


def write_official_head(caffe, weights, out_dir):
    """Writes out_dir/deploy.prototxt (input pool5), out_dir/extract.prototxt
    (input descriptor sets) and out_dir/weights.caffemodel (for both)."""
    os.makedirs(out_dir, exist_ok=True)
    deploy = os.path.join(out_dir, "deploy.prototxt")
    model = os.path.join(out_dir, "weights.caffemodel")
    for path, name, net in ((deploy, "fv_vae_official_head", extraction_head(caffe, weights)),
                            (os.path.join(out_dir, "extract.prototxt"),
                             "fv_vae_official_head_on_sets", sets_head(caffe, weights))):
        with atomic(path) as f:
            f.write('name: "%s"\n' % name + str(net))
    net = caffe.Net(deploy, caffe.TEST)
    net.params["mu_z"][0].data[...] = weights.encoder_w
    net.params["mu_z"][1].data[...] = weights.encoder_b
    net.params["mu_x"][0].data[...] = weights.decoder_w
    net.params["mu_x"][1].data[...] = weights.decoder_b
    net.params["loss_rec"][0].data[...] = np.log(weights.sigma_x)  # shared with fv
    net.params["fv"][1].data[...] = 1.0
    net.save(model + ".tmp")
    os.replace(model + ".tmp", model)
    return deploy, model
