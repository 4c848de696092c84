#!/usr/bin/env python
"""Writes the FV-VAE train net, extract net and AdaDelta solver from a config.

    .venv/bin/python tools/make_nets.py --config prototxt/configs/ucf101_vgg19_pool5.yaml \
        --out runs/ucf101 --set source=runs/ucf101/descriptors_train.lmdb --set lambda3=0

Writes OUT/train.prototxt, OUT/extract.prototxt, OUT/solver.prototxt and
OUT/config.yaml (the resolved config), then train with
`.venv/bin/caffe train -solver OUT/solver.prototxt`.
"""
import argparse
import dataclasses
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("GLOG_minloglevel", "2")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="YAML config (keys: see fvvae/config.py)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config key (repeatable)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--gpu", action="store_true", help="solver_mode: GPU")
    ap.add_argument("--trunk", help="also write train_with_trunk.prototxt (+ solver): images -> "
                    "this trunk (frozen, lr_mult 0) -> descriptor sets -> FV-VAE")
    ap.add_argument("--trunk-list", help="image list for the trunk net (PATH LABEL per line)")
    ap.add_argument("--trunk-root", default="", help="folder the trunk list's paths start from")
    ap.add_argument("--mode", choices=("frame", "image"), help="descriptor sets of the trunk net")
    args = ap.parse_args(argv)
    import yaml
    import caffe
    from fvvae.config import load_config
    from fvvae.nets import extract_net, solver_text, train_net
    try:
        cfg = load_config(args.config, args.set)
    except (OSError, ValueError) as e:
        ap.exit(2, "make_nets: %s\n" % e)
    if cfg.source and not os.path.exists(cfg.source):
        ap.exit(2, "make_nets: source %s does not exist (make it with "
                   "tools/extract_descriptors.py)\n" % cfg.source)
    os.makedirs(args.out, exist_ok=True)
    out = os.path.abspath(args.out)
    files = {
        "train.prototxt": 'name: "fv_vae_train"\n' + str(train_net(caffe, cfg)),
        "extract.prototxt": 'name: "fv_vae_extract"\n' + str(extract_net(caffe, cfg)),
        "solver.prototxt": solver_text(cfg, os.path.join(out, "train.prototxt"),
                                       os.path.join(out, "snapshots", "fv_vae"),
                                       "GPU" if args.gpu else "CPU"),
        "config.yaml": yaml.safe_dump(dataclasses.asdict(cfg), sort_keys=False),
    }
    if args.trunk:
        from fvvae.nets import train_net_with_trunk
        from fvvae.trunks import TRUNKS, default_resize, trunk_definition
        if args.trunk not in TRUNKS or not args.trunk_list:
            ap.exit(2, "make_nets: --trunk takes one of %s and needs --trunk-list\n"
                    % ", ".join(TRUNKS))
        trunk = TRUNKS[args.trunk]
        mode = args.mode or ("frame" if trunk.map_size == 7 else "image")
        resize = default_resize(trunk)
        # Caffe's ImageData reads `PATH LABEL` (it splits at the last space):
        # write a checked copy of our `PATH LABEL [GROUP]` list with full paths.
        from fvvae.image_list import imagedata_lines, read_list
        try:
            items = read_list(args.trunk_list, args.trunk_root)
        except (OSError, ValueError) as e:
            ap.exit(2, "make_nets: %s\n" % e)
        image_list = os.path.join(out, "train_with_trunk_images.txt")
        files["train_with_trunk_images.txt"] = imagedata_lines(items)
        net = train_net_with_trunk(caffe, cfg, trunk_definition(caffe, args.trunk), trunk,
                                   mode, image_list, "", resize, trunk.input_size)
        files["train_with_trunk.prototxt"] = 'name: "fv_vae_train_with_trunk"\n' + str(net)
        files["solver_with_trunk.prototxt"] = solver_text(
            cfg, os.path.join(out, "train_with_trunk.prototxt"),
            os.path.join(out, "snapshots", "fv_vae_with_trunk"), "GPU" if args.gpu else "CPU")
    os.makedirs(os.path.join(out, "snapshots"), exist_ok=True)
    for name, text in files.items():
        path = os.path.join(out, name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        print("wrote", path)
    print("K = %d, raw FV dimension C*(K+1) = %d" % (cfg.latent, cfg.fv_dim))


if __name__ == "__main__":
    main()
