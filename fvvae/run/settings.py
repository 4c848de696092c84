"""A run's context: the method's settings (ProtocolSettings, the paper's
defaults), its data (Data: lists, classes, trunk, preprocessing), the
FV-VAE heads it trains (Variant), and the command-line options that set
them (add_settings_options)."""
import os
import re
from dataclasses import dataclass, field
from typing import List, Optional

from fvvae import ROOT
from fvvae.methods import BY_NAME, ORDER


@dataclass
class ProtocolSettings:
    """The method's settings; the defaults are the paper's (section 5.2)."""
    out: str = os.path.join(ROOT, "runs", "protocol")
    iterations: int = 5000
    batch: int = 128
    latent: int = BY_NAME["FV-VAE"].default_size          # K
    lambda3: float = 1000.0
    fv_size: int = BY_NAME["FV"].default_size             # Gaussians
    vlad_size: int = BY_NAME["VLAD"].default_size         # centres
    bp_pca: int = 0          # 0: BP on the full descriptors (C^2)
    sample: int = 100000
    seed: int = 0
    gpu: Optional[int] = None   # GPU id for every net and solver; None: CPU
    # also FV-VAE- and FV-VAE trained the authors' way: images through the
    # frozen trunk in the graph, shuffled, randomly cropped (from augment_resize,
    # default the trunk's) and mirrored, instead of the cached centre crops
    augment: bool = False
    augment_resize: tuple = ()
    sweep: bool = False
    methods: List[str] = field(default_factory=lambda: list(ORDER))
    # videos (images without groups) per streamed chunk (fvvae.run.streaming);
    # 0: every store kept to the end (sweeps and analyses read them again)
    chunk: int = 0
    # representation files stored compact: normalised, float16, BP folded
    # (fvvae.data.representations; bench/compact.py measures what it changes)
    compact: bool = False
    # the streamed stages across machines (scripts/slurm_protocol.sh): with
    # shard (i, n) and side "train" or "test", this run does only the i-th of
    # n blocks of that side's chunks, into OUT/shards/SIDE-i-of-n/, and runs
    # nothing else (the stages before it must be finished); shards = n: the
    # streamed stages take their rows from the n shards (merged)
    shard: tuple = ()
    side: str = ""
    shards: int = 0
    # "models": stop after the training side and the methods' models (the
    # codebooks, FV-VAE's training, FIM and training FVs), before the test side
    until: str = ""


@dataclass
class Data:
    """What the protocol runs on: lists (`PATH LABEL [GROUP [CROP]]`) and a trunk."""
    train_list: str
    test_list: str
    classes: int
    trunk: str = "open_nsfw"
    weights: str = ""
    resize: tuple = ()       # (H, W) before cropping; () = the tool's default
    crop: int = 0            # 0 = the trunk's input size
    grouped: bool = True     # rows per GROUP (videos); False: per item
    preprocess: str = "caffe"  # fvvae.data.preprocess.PREPROCESSING
    class_names: str = ""    # classes.txt (LABEL NAME lines) for the tables; "" = numbers


# The settings a command line sets (tools/run_protocol.py, the demo): each an
# option --NAME with its default from the settings and this help.
SETTING_HELP = {
    "iterations": "FV-VAE training iterations (the paper: 5000 at batch 128)",
    "batch": "FV-VAE training batch (the paper: 128)",
    "latent": "K, FV-VAE's latent size (the paper: 255)",
    "lambda3": "weight of the classification loss (the paper: 1000; 0 is FV-VAE⁻)",
    "fv_size": "FV's Gaussians (the paper: 128)",
    "vlad_size": "VLAD's centres (the paper: 256)",
    "bp_pca": "BP's PCA of the descriptors (0: BP on the full C x C)",
    "sample": "training descriptors the codebooks are fitted on",
    "seed": "the seed of the data's order, the codebooks and training",
}


def add_settings_options(ap, d, fitted=None):
    """--iterations, --batch, ... (SETTING_HELP) with the defaults of d, and
    --gpu, on an argparse parser. fitted: {name: what the default is} for
    the settings whose default is fitted to the data (default None)."""
    fitted = fitted or {}
    for name, text in SETTING_HELP.items():
        ap.add_argument("--" + name.replace("_", "-"), type=type(getattr(d, name)),
                        default=None if name in fitted else getattr(d, name),
                        help=text + (" (default %s)" % fitted[name] if name in fitted
                                     else " (default %(default)s)"))
    ap.add_argument("--gpu", type=int, help="GPU id for every net and solver (CPU when absent)")


def slug(text):
    """A name as a file or stage name: runs of other characters as one '_'."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


@dataclass
class Variant:
    """One FV-VAE head of a run: its row name, lambda3 (0: FV-VAE⁻), latent
    size K, trained the authors' way with the trunk in the graph (augment),
    Caffe's training seed (None: the run's), or not trained at all; and for
    the evidence's follow-ups (docs/evidence.md): `label` naming a departure,
    `sets` (make_nets.py config keys, e.g. {"dropout": 0}), `iterations`
    (None: the run's) and `fim` (estimate_fim.py --method; "": its default)."""
    name: str
    lambda3: float
    latent: int
    augment: bool = False
    seed: Optional[int] = None
    untrained: bool = False
    label: str = ""
    sets: dict = field(default_factory=dict)
    iterations: Optional[int] = None
    fim: str = ""
