#!/usr/bin/env python
"""Writes the FV-VAE train net, extract net and AdaDelta solver from a config.

    .venv/bin/python tools/make_nets.py --config prototxt/configs/ucf101_vgg19_pool5.yaml \\
        --out runs/ucf101 --set source=runs/ucf101/descriptors_train.lmdb --set lambda3=0
    .venv/bin/python tools/make_nets.py --experiment cub_vgg19_conv5_4 --root /data/runs
    .venv/bin/python tools/make_nets.py --all --draw      # rewrites every prototxt/NAME/

Writes OUT/train.prototxt, OUT/extract.prototxt, OUT/solver.prototxt and
OUT/config.yaml (the resolved config) and, when the config names a trunk (or
with --trunk), OUT/train_with_trunk.prototxt and its solver; then train with
`.venv/bin/caffe train -solver OUT/solver.prototxt`. --experiment NAME reads
prototxt/configs/NAME.yaml and writes prototxt/NAME/ (fvvae/model/experiments.py),
its `{root}` paths under --root (default $FVVAE_RUNS, else `runs`).
"""
import argparse
import os

from fvvae.files import atomic

os.environ.setdefault("GLOG_minloglevel", "2")


def write_files(out, files):
    os.makedirs(out, exist_ok=True)
    for name, text in files.items():
        path = os.path.join(out, name)
        with atomic(path) as f:
            f.write(text)
        print("wrote", path)


def main(argv=None):
    from fvvae.model.experiments import BY_NAME, CONFIGS, ROOT, default_root
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="YAML config (keys: see fvvae/model/config.py)")
    ap.add_argument("--experiment", choices=sorted(BY_NAME),
                    help="prototxt/configs/NAME.yaml, written to prototxt/NAME/ unless --out")
    ap.add_argument("--all", action="store_true", help="every experiment into prototxt/NAME/")
    ap.add_argument("--root", default=default_root(),
                    help="what {root} in a config's paths becomes (default $FVVAE_RUNS or runs)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config key (repeatable)")
    ap.add_argument("--out", help="output folder")
    ap.add_argument("--draw", action="store_true",
                    help="also OUT/train.png by Caffe's python/draw_net.py")
    ap.add_argument("--gpu", action="store_true",
                    help="solver_mode: GPU (caffe train -gpu ID picks the device)")
    ap.add_argument("--trunk", help="also write train_with_trunk.prototxt (+ solver): images -> "
                    "this trunk (frozen, lr_mult 0) -> descriptor sets -> FV-VAE")
    ap.add_argument("--trunk-list", help="image list for the trunk net (PATH LABEL per line)")
    ap.add_argument("--trunk-root", default="", help="folder the trunk list's paths start from")
    ap.add_argument("--mode", choices=("frame", "image"), help="descriptor sets of the trunk net")
    ap.add_argument("--python-twins", action="store_true",
                    help="train and extract nets for a pycaffe without our layers: the per-set "
                    "layout, the NumPy twins of python_layers/ (type Python) in place of ours "
                    "(put python_layers/ on PYTHONPATH); no train_with_trunk net")
    args = ap.parse_args(argv)
    import caffe
    from fvvae.model.config import load_config
    from fvvae.model.experiments import draw, experiment_files
    jobs = []
    if args.all or args.experiment:
        names = sorted(BY_NAME) if args.all else [args.experiment]
        for name in names:
            out = args.out if (args.out and not args.all) else os.path.join(ROOT, "prototxt", name)
            jobs.append((os.path.join(CONFIGS, name + ".yaml"), os.path.abspath(out), False))
    elif args.out:
        # a source given on the command line must exist; a config's may be
        # one that its data set's script writes later
        given = any(item.partition("=")[0].strip() == "source" for item in args.set)
        jobs.append((args.config, os.path.abspath(args.out), given))
    else:
        ap.exit(2, "make_nets: give --out, --experiment or --all\n")
    for config, out, check_source in jobs:
        try:
            cfg = load_config(config, args.set, root=args.root)
        except (OSError, ValueError) as e:
            ap.exit(2, "make_nets: %s\n" % e)
        if check_source and cfg.source and not os.path.exists(cfg.source):
            ap.exit(2, "make_nets: source %s does not exist (make it with "
                       "tools/extract_descriptors.py)\n" % cfg.source)
        if args.trunk:
            from fvvae.data.image_list import imagedata_lines, read_list
            from fvvae.trunks.zoo import UnknownTrunk, resolve_trunk
            try:
                resolve_trunk(args.trunk)
            except UnknownTrunk as e:
                ap.exit(2, "make_nets: --trunk: %s\n" % e)
            if not args.trunk_list:
                ap.exit(2, "make_nets: --trunk needs --trunk-list\n")
            # Caffe's ImageData reads `PATH LABEL` (it splits at the last space):
            # write a checked copy of our `PATH LABEL [GROUP]` list with full paths.
            try:
                items = read_list(args.trunk_list, args.trunk_root)
            except (OSError, ValueError) as e:
                ap.exit(2, "make_nets: %s\n" % e)
            write_files(out, {"train_with_trunk_images.txt": imagedata_lines(items)})
            cfg.trunk, cfg.images = args.trunk, os.path.join(out, "train_with_trunk_images.txt")
        write_files(out, experiment_files(caffe, cfg, out, "GPU" if args.gpu else "CPU",
                                          args.mode, args.python_twins))
        if not cfg.snapshot_prefix:
            os.makedirs(os.path.join(out, "snapshots"), exist_ok=True)
        if args.draw:
            draw(os.path.join(out, "train.prototxt"), os.path.join(out, "train.png"))
            print("wrote", os.path.join(out, "train.png"))
        print("K = %d, raw FV dimension C*(K+1) = %d" % (cfg.latent, cfg.fv_dim))


if __name__ == "__main__":
    main()
