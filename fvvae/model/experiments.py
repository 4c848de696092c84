"""The paper's experiments as committed Caffe nets: prototxt/NAME/ for every
prototxt/configs/NAME.yaml, written by `tools/make_nets.py --all`.

Each folder holds the resolved config.yaml, train.prototxt (cached
descriptor sets -> FV-VAE training layers), train_with_trunk.prototxt (images
-> the frozen trunk -> descriptor sets -> the same layers: the authors' way,
with ImageData's shuffle, random crop and mirror), extract.prototxt (the FV
net of eq. 13), the AdaDelta solvers of section 5.2 (solver.prototxt,
solver_with_trunk.prototxt) and train.png, the training net drawn by Caffe's
own python/draw_net.py.

Paths: the configs write the data paths as `{root}/...`, where root is the
folder the per-dataset scripts write their runs to (`runs` in the
repository by default; --root or $FVVAE_RUNS to move it). The committed
files use `runs` and paths relative to the repository, so that from the
repository's root, after the script of the experiment has cached its
descriptor sets,

    .venv/bin/caffe train -solver prototxt/ucf101_vgg19_pool5/solver.prototxt

trains it. Figure 4's variants are overrides of these configs
(tools/make_nets.py --config ... --set lambda3=100 --set "encoder=[512, 63]").
"""
import dataclasses
import os
from dataclasses import dataclass

from fvvae import ROOT

CONFIGS = os.path.join(ROOT, "prototxt", "configs")


@dataclass(frozen=True)
class Experiment:
    name: str
    paper: str       # the paper's table and row
    script: str      # the command that caches its data (descriptor sets, image list)


EXPERIMENTS = [
    Experiment("ucf101_vgg19_pool5", "Table 2, FV-VAE (83.45%); Table 3, pool5",
               "scripts/ucf101.sh --split 1 --stream rgb --trunk vgg19_pool5"),
    Experiment("ucf101_vgg19_flow_pool5", "Table 4, FV-VAE-pool5 optical flow (89.5%)",
               "scripts/ucf101.sh --split 1 --stream flow"),
    Experiment("ucf101_resnet152_res5c", "Table 3, res5c (86.33%)",
               "scripts/ucf101.sh --split 1 --trunk resnet152_res5c "
               "--out runs/ucf101_split1_res5c"),
    Experiment("ucf101_vgg19_pool5_finetuned", "Table 3, pool5 fine-tuned (82.13%)",
               "scripts/ucf101.sh --split 1 --finetune 10000 --out runs/ucf101_split1_ft"),
    Experiment("activitynet_resnet152_res5c", "Table 5, FV-VAE-res5c (78.55%)",
               "scripts/activitynet.sh --trunk resnet152_res5c"),
    Experiment("cub_vgg19_conv5_4", "Table 6, FV-VAE w/o ft (79.3%)",
               "scripts/cub200.sh --boxes no"),
    Experiment("cub_vgg19_conv5_4_box", "Table 6, FV-VAE +box w/o ft (79.5%)",
               "scripts/cub200.sh --boxes yes"),
    Experiment("ucf101_vgg19_pool5_released", "the authors' released UCF101 weights "
               "(K = 256, one linear encoder layer)",
               "scripts/ucf101.sh --split 1 --stream rgb"),
]
BY_NAME = {e.name: e for e in EXPERIMENTS}


def default_root():
    return os.environ.get("FVVAE_RUNS", "runs")


def _rel(path):
    """A path inside the repository relative to its root (the committed
    files do not depend on where the clone is); others absolute."""
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def experiment_files(caffe, cfg, out, solver_mode="CPU", sets_mode=None, python_twins=False):
    """{file name: text} of one experiment's folder `out` for the resolved
    config cfg (paths already under their root); sets_mode: the trunk net's
    descriptor sets (frame or image; None: by the trunk's map size);
    python_twins: train and extract nets in the per-set layout with the
    NumPy twins in place of our C++ layers (fvvae.model.nets.with_python_twins)."""
    import yaml
    from fvvae.model.nets import (extract_net, solver_text, train_net, train_net_with_trunk,
                                  with_python_twins)
    from fvvae.trunks.zoo import resolve_trunk, trunk_definition
    snapshots = cfg.snapshot_prefix or os.path.join(out, "snapshots", "fv_vae")
    files = {
        "config.yaml": yaml.safe_dump(dataclasses.asdict(cfg), sort_keys=False),
        "train.prototxt": 'name: "fv_vae_train"\n' + str(
            with_python_twins(train_net(caffe, cfg, columns=False)) if python_twins
            else train_net(caffe, cfg)),
        "extract.prototxt": 'name: "fv_vae_extract"\n' + str(
            with_python_twins(extract_net(caffe, cfg, columns=False)) if python_twins
            else extract_net(caffe, cfg)),
        "solver.prototxt": solver_text(cfg, _rel(os.path.join(out, "train.prototxt")),
                                       _rel(snapshots), solver_mode),
    }
    trunk = resolve_trunk(cfg.trunk) if cfg.trunk else None
    if trunk and trunk.in_channels == 3 and not python_twins:
        # ImageData reads colour images; the flow trunk's 20-channel stacks have
        # no such layer in Caffe, so the flow experiment trains on cached sets only
        net = train_net_with_trunk(caffe, cfg, trunk_definition(caffe, cfg.trunk), trunk,
                                   sets_mode, cfg.images)
        files["train_with_trunk.prototxt"] = 'name: "fv_vae_train_with_trunk"\n' + str(net)
        files["solver_with_trunk.prototxt"] = solver_text(
            cfg, _rel(os.path.join(out, "train_with_trunk.prototxt")),
            _rel(snapshots + "_with_trunk"), solver_mode)
    return files


def draw(train_prototxt, png):
    """train.png of a train net, by Caffe's own python/draw_net.py (pydot and
    graphviz's dot)."""
    import subprocess
    import sys
    tool = os.path.join(ROOT, "build", "caffe-src", "python", "draw_net.py")
    res = subprocess.run([sys.executable, tool, train_prototxt, png + ".partial.png",
                          "--rankdir", "TB"], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("draw_net.py failed on %s: %s" % (train_prototxt,
                                                             res.stderr.strip()[-500:]))
    os.replace(png + ".partial.png", png)
