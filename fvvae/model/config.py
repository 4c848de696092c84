"""The FV-VAE configuration: one small YAML file per experiment.

Every key, its default and where it comes from in the paper:

| key | default | paper |
| --- | --- | --- |
| channels | 512 | C, the descriptor width (512 VGG_19 pool5, 2048 ResNet_152 res5c) |
| descriptors | 50 | T per frame (SPP, section 4); 784 for 28x28 images |
| encoder | [512, 255] | MLP C -> C -> 255 (section 5.2); the released weights: [256] |
| encoder_relu | true | ReLU between encoder layers (the last one is linear: mu_z) |
| lambda1, lambda2, lambda3 | 1, 1, 1000 | eq. 8; lambda1 = lambda2 = 1 fixed; lambda3 swept 1..1e5 (Fig. 4b); 0 gives FV-VAE- |
| dropout | 0.5 | on the encoder input; the decoder rebuilds the complete input (5.2) |
| classes | 101 | UCF101 |
| batch | 128 | frames or images per mini-batch (5.2) |
| iterations | 5000 | (5.2) |
| base_lr | 1.0 | AdaDelta (5.2) |
| momentum, delta | 0.95, 1e-6 | AdaDelta's decay rate and epsilon (Zeiler 2012) |
| snapshot | 1000 | iterations between snapshots |
| source, backend | "", LMDB | the cached descriptor sets (tools/extract_descriptors.py) |
| seed | 1701 | Caffe's random seed |
| log_sigma_lr_mult | 10 | lr_mult of the shared log sigma_z and log sigma_x blobs (the authors' train prototxt) |
| bias_lr_mult | 2 | lr_mult of every bias of the encoder, decoder and class layer (the authors' prototxt; Caffe's usual 2) |
| trunk | "" | the trunk of train_with_trunk.prototxt (fvvae.trunks.zoo); "" = none |
| images | "" | its ImageData list (`PATH LABEL`; tools/run_protocol.py writes OUT/imagedata_train.txt) |
| snapshot_prefix | "" | where caffe train writes snapshots ("" = the nets' folder/snapshots/fv_vae) |
| resize, crop, mirror | [], 0, true | ImageData's new size (default: the trunk's, 240 x 320 at 224 input), random crop (default: the trunk's input) and mirroring: the authors' augmentation |
"""
import dataclasses
from dataclasses import dataclass, field
from typing import List

import yaml


@dataclass
class FVVAEConfig:
    channels: int = 512
    descriptors: int = 50
    encoder: List[int] = field(default_factory=lambda: [512, 255])
    encoder_relu: bool = True
    lambda1: float = 1.0
    lambda2: float = 1.0
    lambda3: float = 1000.0
    dropout: float = 0.5
    classes: int = 101
    batch: int = 128
    iterations: int = 5000
    base_lr: float = 1.0
    momentum: float = 0.95
    delta: float = 1e-6
    snapshot: int = 1000
    source: str = ""
    backend: str = "LMDB"
    seed: int = 1701
    log_sigma_lr_mult: float = 10.0
    bias_lr_mult: float = 2.0
    trunk: str = ""
    images: str = ""
    resize: List[int] = field(default_factory=list)
    crop: int = 0
    mirror: bool = True
    snapshot_prefix: str = ""

    @property
    def latent(self):
        """K, the latent size: the last encoder width."""
        return self.encoder[-1]

    @property
    def fv_dim(self):
        """C * (K + 1), the raw FV dimension (eq. 11)."""
        return self.channels * (self.latent + 1)

    def validate(self, where="config"):
        problems = []
        if self.channels < 1 or self.descriptors < 1:
            problems.append("channels and descriptors must be positive")
        if not self.encoder or any(int(w) < 1 for w in self.encoder):
            problems.append("encoder must list positive layer widths, ending with K")
        if self.lambda3 > 0 and self.classes < 2:
            problems.append("classes must be >= 2 when lambda3 > 0")
        if self.backend not in ("LMDB", "HDF5"):
            problems.append("backend must be LMDB or HDF5, not %r" % self.backend)
        if self.resize and len(self.resize) != 2:
            problems.append("resize must be [H, W] or empty")
        if self.log_sigma_lr_mult < 0 or self.bias_lr_mult < 0:
            problems.append("lr_mult keys must be >= 0")
        if not 0 <= self.dropout < 1:
            problems.append("dropout must be in [0, 1)")
        if problems:
            raise ValueError("%s: %s" % (where, "; ".join(problems)))
        return self


def load_config(path=None, overrides=(), root=None):
    """The defaults, updated by a YAML file and then by KEY=VALUE overrides;
    `{root}` in a string value becomes root (fvvae.model.experiments: the folder
    the per-dataset scripts write their runs to)."""
    values = {}
    if path:
        with open(path) as f:
            values = yaml.safe_load(f) or {}
        if not isinstance(values, dict):
            raise ValueError("%s: expected a mapping of keys to values" % path)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError("override %r is not KEY=VALUE" % item)
        values[key.strip()] = yaml.safe_load(value)
    known = {f.name for f in dataclasses.fields(FVVAEConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError("%s: unknown keys %s (known: %s)"
                         % (path or "overrides", unknown, ", ".join(sorted(known))))
    if root is not None:
        values = {k: v.replace("{root}", root) if isinstance(v, str) else v
                  for k, v in values.items()}
    return FVVAEConfig(**values).validate(path or "config")
