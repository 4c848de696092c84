"""GaussianSample as a pycaffe Python layer (NumPy): Algorithm 1, lines 7 and 10.

    layer { type: "Python" bottom: "mu_z" top: "z" top: "loss_reg"
            python_param { module: "gaussian_sample_layer" layer: "GaussianSampleLayer"
                           param_str: '{"normalization": "BATCH_SIZE"}' }
            loss_weight: 0 loss_weight: 1 }

Same blobs, parameter and math as the C++ GaussianSample layer; its noise comes
from NumPy (param_str "seed"), not Caffe's RNG. Python layers get no default
loss weight: give loss_weight for the second top.
"""
import caffe
import numpy as np

from fvvae_layer_params import descriptor_set, check_param, loss_normalizer, parse_param_str


class GaussianSampleLayer(caffe.Layer):

    def setup(self, bottom, top):
        if len(bottom) != 1 or len(top) not in (1, 2):
            raise ValueError("GaussianSampleLayer: needs 1 bottom (mu_z) and 1-2 tops")
        self.params = parse_param_str(self)
        self.rng = np.random.default_rng(self.params.get("seed"))
        _, latent, _ = descriptor_set(self, "mu_z", bottom[0])
        if len(self.blobs) == 0:
            self.blobs.add_blob(latent)       # log sigma_z, zero: sigma_z = 1
            self.blobs[0].data[...] = 0
        check_param(self, "log sigma_z", self.blobs[0], latent)

    def reshape(self, bottom, top):
        self.num, latent, self.inner = descriptor_set(self, "mu_z", bottom[0])
        check_param(self, "log sigma_z", self.blobs[0], latent)
        self.normalizer = loss_normalizer(self.params["normalization"], self.num, self.inner)
        top[0].reshape(*bottom[0].data.shape)
        if len(top) > 1:
            top[1].reshape()

    def _sigma(self):
        # (1, K, 1) for broadcasting against (N, K, T)
        return np.exp(self.blobs[0].data.astype(np.float64)).reshape(1, -1, 1)

    def forward(self, bottom, top):
        mu = bottom[0].data.reshape(self.num, -1, self.inner).astype(np.float64)
        sigma = self._sigma()
        if self.phase == caffe.TRAIN:
            self.eps = self.rng.standard_normal(mu.shape)
            z = mu + self.eps * sigma                       # line 7
        else:
            self.eps = np.zeros_like(mu)
            z = mu
        top[0].data[...] = z.reshape(top[0].data.shape)
        if len(top) > 1:                                    # line 10
            log_sigma = self.blobs[0].data.astype(np.float64)
            per_descriptor = np.sum(0.5 * np.exp(2 * log_sigma) - 0.5 - log_sigma)
            loss = 0.5 * np.sum(mu * mu) + self.num * self.inner * per_descriptor
            top[1].data[...] = loss / self.normalizer

    def backward(self, top, propagate_down, bottom):
        dz = top[0].diff.reshape(self.num, -1, self.inner).astype(np.float64)
        mu = bottom[0].data.reshape(dz.shape).astype(np.float64)
        reg = float(top[1].diff) / self.normalizer if len(top) > 1 else 0.0
        if propagate_down[0]:
            bottom[0].diff[...] = (dz + reg * mu).reshape(bottom[0].diff.shape)
        sigma = self._sigma()
        grad = np.sum(dz * self.eps * sigma, axis=(0, 2))
        grad += reg * self.num * self.inner * (sigma.ravel() ** 2 - 1)
        self.blobs[0].diff[...] += grad
