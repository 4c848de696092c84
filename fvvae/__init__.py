"""FV-VAE: Fisher Vectors from a Variational Auto-Encoder over CNN activations.

Reference implementation of Qiu, Yao, Mei, "Deep Quantization: Encoding
Convolutional Activations with Deep Generative Model", CVPR 2017, on BVLC Caffe
with the custom layers of ``cuda_layers/``.
"""
import os

# The Caffe layer types this project adds (cuda_layers/).
LAYER_TYPES = (
    "GaussianSample",              # Algorithm 1, lines 7 and 10
    "GaussianReconstructionLoss",  # Algorithm 1, line 9
    "FisherVector",                # eq. 11 and 13
    "Normalize",                   # whole-map L2 x scale (the authors' 158)
    "SignedSqrt",                  # section 5.2, classifier stage
    "L2Normalize",                 # section 5.2, classifier stage
    "SetsToColumns",               # a batch's descriptors as one matrix (speed)
    "ColumnsToSets",               # and back, for the per-set layers
)

__version__ = "0.1.0"

# The repository's root (prototxt/, tools/, build/ are found from it).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
