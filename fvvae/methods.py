"""The eight methods of the paper's Table 2, each declared once.

A method reads one of the trunk's outputs (its store: `global` activations
of the fully connected layer, activation `maps`, or descriptor `sets`), is
made by one tool (`encode.py --method KEY` for the six baselines; the FV-VAE
heads are trained, their FIM estimated and their FVs extracted:
`make_nets.py`, `caffe train`, `estimate_fim.py`, `extract_fv.py`), is sized
by one setting of a run (FV's Gaussians, VLAD's centres, BP's PCA, FV-VAE's
latent K), and has the paper's row in Table 2 under its name
(fvvae.evaluation.paper.TABLE2). Everything else (the protocol, the
encoder, table2.py, the reports) reads these records."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    name: str           # the paper's name: Table 2's row, the tables' row
    key: str            # encode.py --method, the files' prefix; "fvvae" for the heads
    store: str          # the trunk's output it reads: global | maps | sets
    tool: str           # the tool that makes its vectors
    size_setting: str = ""   # the run's setting that sizes it ("" none)
    default_size: int = 0    # the paper's size (0: none)
    lambda3: bool = True     # FV-VAE heads: trained with the classification loss

    @property
    def is_baseline(self):
        return self.tool == "encode.py"


METHODS = (
    Method("GA", "ga", "global", "encode.py"),
    Method("Concatenation", "concat", "maps", "encode.py"),
    Method("AVE", "ave", "maps", "encode.py"),
    Method("FV", "fv", "sets", "encode.py", "fv_size", 128),
    Method("VLAD", "vlad", "sets", "encode.py", "vlad_size", 256),
    Method("BP", "bp", "sets", "encode.py", "bp_pca", 0),
    Method("FV-VAE⁻", "fvvae", "sets", "extract_fv.py", "latent", 255, lambda3=False),
    Method("FV-VAE", "fvvae", "sets", "extract_fv.py", "latent", 255),
)

BY_NAME = {m.name: m for m in METHODS}
ORDER = [m.name for m in METHODS]
BASELINE_METHODS = tuple(m for m in METHODS if m.is_baseline)
BY_KEY = {m.key: m for m in BASELINE_METHODS}
# {name: (encode.py --method, store)} of the six baselines
BASELINES = {m.name: (m.key, m.store) for m in BASELINE_METHODS}
# FV-VAE trained with the trunk in the graph on augmented images (--augment)
AUGMENTED = [m.name + " +aug" for m in METHODS if not m.is_baseline]
REPORT_ORDER = ORDER + AUGMENTED


def fv_vae_tag(lambda3, latent):
    """The folder and stage tag of an FV-VAE head (fvvae_full_k255,
    fvvae_minus_k255): its representation stage is fv_TAG."""
    return "fvvae_%s_k%d" % ("minus" if lambda3 == 0 else "full", latent)
