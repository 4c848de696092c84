"""GaussianReconstructionLoss as a pycaffe Python layer (NumPy): Algorithm 1, line 9.

    layer { type: "Python" bottom: "x" bottom: "mu_x" top: "loss_rec"
            python_param { module: "gaussian_reconstruction_loss_layer"
                           layer: "GaussianReconstructionLossLayer" }
            param { name: "log_sigma_x" } loss_weight: 1 }

L_rec = sum_{n,c,t} [(x - mu_x)^2 / (2 sigma_x(c)^2) + log sigma_x(c) + 1/2 log 2 pi] / D,
the same blobs, parameter and normalisation as the C++ layer.
"""
import caffe
import numpy as np

from fvvae_layer_params import (check_param, check_same_shape, descriptor_set,
                                loss_normalizer, parse_param_str)


class GaussianReconstructionLossLayer(caffe.Layer):

    def setup(self, bottom, top):
        if len(bottom) != 2 or len(top) != 1:
            raise ValueError("GaussianReconstructionLossLayer: needs bottoms x, mu_x and one top")
        self.params = parse_param_str(self)
        _, channels, _ = descriptor_set(self, "x", bottom[0])
        if len(self.blobs) == 0:
            self.blobs.add_blob(channels)     # log sigma_x, zero: sigma_x = 1
            self.blobs[0].data[...] = 0
        check_param(self, "log sigma_x", self.blobs[0], channels)

    def reshape(self, bottom, top):
        self.num, channels, self.inner = descriptor_set(self, "x", bottom[0])
        check_same_shape(self, "x", bottom[0], "mu_x", bottom[1])
        check_param(self, "log sigma_x", self.blobs[0], channels)
        self.normalizer = loss_normalizer(self.params["normalization"], self.num, self.inner)
        top[0].reshape()

    def _views(self, bottom):
        x = bottom[0].data.reshape(self.num, -1, self.inner).astype(np.float64)
        mu = bottom[1].data.reshape(x.shape).astype(np.float64)
        log_sigma = self.blobs[0].data.astype(np.float64).reshape(1, -1, 1)
        return x, mu, log_sigma, np.exp(-2 * log_sigma)

    def forward(self, bottom, top):
        x, mu, log_sigma, inv_var = self._views(bottom)
        nll = 0.5 * (x - mu) ** 2 * inv_var + log_sigma + 0.5 * np.log(2 * np.pi)
        top[0].data[...] = nll.sum() / self.normalizer

    def backward(self, top, propagate_down, bottom):
        x, mu, _, inv_var = self._views(bottom)
        scale = float(top[0].diff) / self.normalizer
        d_mu = scale * (mu - x) * inv_var
        if propagate_down[1]:
            bottom[1].diff[...] = d_mu.reshape(bottom[1].diff.shape)
        if propagate_down[0]:
            bottom[0].diff[...] = (-d_mu).reshape(bottom[0].diff.shape)
        self.blobs[0].diff[...] += scale * np.sum(1 - (x - mu) ** 2 * inv_var, axis=(0, 2))
