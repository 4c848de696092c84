"""FisherVector as a pycaffe Python layer (NumPy): eq. 11 and 13.

    layer { type: "Python" bottom: "x" bottom: "mu_x" bottom: "z" top: "fv"
            python_param { module: "fisher_vector_layer" layer: "FisherVectorLayer" }
            param { name: "log_sigma_x" lr_mult: 0 } param { name: "fim_scale" lr_mult: 0 } }

fv[n, c*(K+1) + k] = scale[c, k] * sum_t g[n, c, t] * [z; 1][n, k, t],
g = (mu_x - x) / sigma_x^2 * (mu_x > 0): the same blobs, parameters and layout
as the C++ FisherVector layer.
"""
import caffe
import numpy as np

from fvvae_layer_params import check_param, check_same_shape, descriptor_set


class FisherVectorLayer(caffe.Layer):

    def setup(self, bottom, top):
        if len(bottom) != 3 or len(top) != 1:
            raise ValueError("FisherVectorLayer: needs bottoms x, mu_x, z and one top")
        _, channels, _ = descriptor_set(self, "x", bottom[0])
        _, latent, _ = descriptor_set(self, "z", bottom[2])
        if len(self.blobs) == 0:
            self.blobs.add_blob(channels)                  # log sigma_x
            self.blobs[0].data[...] = 0
            self.blobs.add_blob(channels * (latent + 1))   # FIM scale
            self.blobs[1].data[...] = 1
        self.channels, self.latent = channels, latent

    def reshape(self, bottom, top):
        self.num, channels, self.inner = descriptor_set(self, "x", bottom[0])
        check_same_shape(self, "x", bottom[0], "mu_x", bottom[1])
        num_z, latent, inner_z = descriptor_set(self, "z", bottom[2])
        if (num_z, inner_z) != (self.num, self.inner):
            raise ValueError("FisherVectorLayer: z %s must have the sets and descriptors of x %s"
                             % (tuple(bottom[2].data.shape), tuple(bottom[0].data.shape)))
        check_param(self, "0 (log sigma_x)", self.blobs[0], channels)
        check_param(self, "1 (FIM scale, C * (K+1))", self.blobs[1], channels * (latent + 1))
        top[0].reshape(self.num, channels * (latent + 1))

    def _terms(self, bottom):
        x = bottom[0].data.reshape(self.num, self.channels, self.inner).astype(np.float64)
        mu = bottom[1].data.reshape(x.shape).astype(np.float64)
        z = bottom[2].data.reshape(self.num, self.latent, self.inner).astype(np.float64)
        inv_var = np.exp(-2 * self.blobs[0].data.astype(np.float64)).reshape(1, -1, 1)
        active = (mu > 0).astype(np.float64)
        g = (mu - x) * inv_var * active                    # eq. 11, per element
        zaug = np.concatenate([z, np.ones((self.num, 1, self.inner))], axis=1)
        scale = self.blobs[1].data.astype(np.float64).reshape(self.channels, self.latent + 1)
        return g, zaug, scale, inv_var, active

    def forward(self, bottom, top):
        g, zaug, scale, _, _ = self._terms(bottom)
        raw = np.einsum("nct,nkt->nck", g, zaug)           # sum over descriptors
        top[0].data[...] = (raw * scale).reshape(self.num, -1)

    def backward(self, top, propagate_down, bottom):
        g, zaug, scale, inv_var, active = self._terms(bottom)
        dy = top[0].diff.astype(np.float64).reshape(self.num, self.channels, self.latent + 1)
        raw = np.einsum("nct,nkt->nck", g, zaug)
        self.blobs[1].diff[...] += np.sum(dy * raw, axis=0).ravel()
        d = dy * scale
        if propagate_down[2]:
            dz = np.einsum("nck,nct->nkt", d, g)[:, :self.latent]
            bottom[2].diff[...] = dz.reshape(bottom[2].diff.shape)
        dg = np.einsum("nck,nkt->nct", d, zaug)
        d_mu = dg * inv_var * active
        if propagate_down[1]:
            bottom[1].diff[...] = d_mu.reshape(bottom[1].diff.shape)
        if propagate_down[0]:
            bottom[0].diff[...] = (-d_mu).reshape(bottom[0].diff.shape)
        self.blobs[0].diff[...] += np.sum(dg * (-2 * g), axis=(0, 2))
