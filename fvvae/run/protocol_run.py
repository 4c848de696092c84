"""A run of the paper's protocol on a train and a test list, around its chain
(tools/run_protocol.py parses the options and calls run()): before it, every
input checked and the sizes fitted to the data (prepare); after it, the SVMs,
the take-away manifest, the sweep and OUT/REPORT.md with the paper's numbers
beside (finish)."""
import dataclasses
import logging
import os
import sys
import time

from fvvae.methods import REPORT_ORDER


class RunInputError(ValueError):
    """An input the run cannot start with (one line naming it)."""


@dataclasses.dataclass
class Fitted:
    """What prepare() found: the classes (and names) of the lists, the trunk,
    the training descriptors the codebooks are fitted on and the notes on
    every size changed to fit the data (said on the console and the report)."""
    classes: int
    names: list
    trunk: object
    descriptors: int
    codebook_notes: list
    budget_notes: list


def prepare(args, shard=()):
    """Checks the lists (every image decoded, unless a stamp says they were and
    have not changed) and fits FV's and VLAD's codebooks, BP's PCA and FV-VAE's
    budget to the data, in `args` (data/input_check.py: fit_codebooks, fit_bp,
    fit_budget); raises RunInputError before any work."""
    from fvvae.data.image_list import read_list
    from fvvae.data.input_check import (InputError, check_inputs, fit_bp, fit_budget,
                                        fit_codebooks, inputs_stamp)
    from fvvae.trunks.descriptors import frame_descriptor_count
    from fvvae.trunks.zoo import UnknownTrunk, resolve_trunk
    try:
        trunk = resolve_trunk(args.trunk) if args.trunk else None
    except UnknownTrunk as e:
        raise RunInputError("--trunk: %s" % e) from None
    stamp = os.path.join(args.out, "inputs_checked.json")
    try:
        classes, names = check_inputs(
            args.train_list, args.test_list, args.classes, args.class_names,
            decode=not (args.no_decode_check or shard or inputs_stamp(stamp, args)),
            flow_length=trunk.in_channels // 2 if trunk and trunk.in_channels != 3 else 0)
    except InputError as e:
        raise RunInputError(str(e)) from None
    if not shard and not args.no_decode_check:     # a record of lists decoded completely
        inputs_stamp(stamp, args, write=True)
    # the codebooks fitted to the training descriptors there are
    per_item = frame_descriptor_count(trunk.map_size) if trunk and trunk.map_size == 7 else (
        trunk.map_size ** 2 if trunk else 50)
    train_items = len(read_list(args.train_list, check_files=False))
    n_desc = min(args.sample, per_item * train_items)
    codebook_notes, budget_notes = [], []
    if not args.exact_codebooks:
        args.fv_size, args.vlad_size, codebook_notes = fit_codebooks(
            args.fv_size, args.vlad_size, n_desc)
    args.bp_pca, bp_notes = fit_bp(args.bp_pca, trunk.channels if trunk else 0)
    codebook_notes += bp_notes
    if not args.exact_budget:
        args.iterations, budget_notes = fit_budget(args.iterations, args.batch, train_items)
    for note in codebook_notes + budget_notes:
        print("run_protocol: %s" % note, file=sys.stderr)
    return Fitted(classes, names, trunk, n_desc, codebook_notes, budget_notes)


def settings_and_data(args, fitted, shard=()):
    """(ProtocolSettings, Data) of the run from its options."""
    from fvvae.run.settings import Data, ProtocolSettings
    s = ProtocolSettings(out=args.out, methods=[m.strip() for m in args.methods.split(",")],
                         sweep=args.sweep, lambda3=args.lambda3, gpu=args.gpu,
                         augment=args.augment, chunk=args.chunk, compact=args.compact,
                         shard=shard, side=args.side or "", shards=args.shards,
                         until=args.until or "",
                         **{k: getattr(args, k) for k in ("iterations", "batch", "latent",
                                                          "fv_size", "vlad_size", "bp_pca",
                                                          "sample", "seed")})
    data = Data(os.path.abspath(args.train_list), os.path.abspath(args.test_list),
                fitted.classes, args.trunk, args.weights, tuple(args.resize or ()), args.crop,
                grouped=not args.per_item, preprocess=args.preprocess,
                class_names=os.path.abspath(args.class_names) if args.class_names else "")
    return s, data


def report_settings(args, s, fitted, results):
    """The report's settings rows: the lists, classes, trunk, FV-VAE's and the
    codebooks' sizes with every fitting note, the classifier, and a flag on
    any method whose interval lies below chance (docs/own_data.md)."""
    classes, names = fitted.classes, fitted.names
    rows = [("lists", "%s (train), %s (test); %d classes" % (args.train_list, args.test_list,
                                                            classes))]
    if names:
        rows.append(("classes", ", ".join("%d %s" % (i, n) for i, n in enumerate(names))))
    rows += [("trunk", "%s (%s)" % (args.trunk, args.weights or (
                 "weights from %s" % fitted.trunk.weights_env
                 if fitted.trunk and fitted.trunk.weights_env else "embedded weights"))),
             ("FV-VAE", "K = %d, lambda3 = %g, %d AdaDelta iterations at batch %d%s"
              % (s.latent, s.lambda3, s.iterations, s.batch,
                 "".join("; " + n for n in fitted.budget_notes))),
             ("FV / VLAD / BP", "%d Gaussians / %d centres / PCA %s, fitted on %d training "
              "descriptors%s" % (s.fv_size, s.vlad_size, s.bp_pca or "none", fitted.descriptors,
                                 "".join("; " + n for n in fitted.codebook_notes))),
             ("classifier", "signed sqrt + L2, one-vs-all liblinear -s 3 -B 1 -c 100")]
    below = [(m, float(r["top1"])) for m, r in results.items()
             if float(r.get("top1_high") or r["top1"]) < 1.0 / classes]
    if below:       # flagged, with what is known to cause it (docs/own_data.md)
        rows.append(("below chance", "%s: the 95%% interval lies below chance (%.1f%%); "
                     "with few training items a codebook or an SVM fits the training rows "
                     "rather than the classes (docs/own_data.md): more training items or "
                     "smaller codebooks (--fv-size, --vlad-size) tell which" % (
                         ", ".join("%s %.1f%%" % (m, 100 * t) for m, t in below),
                         100.0 / classes)))
    return rows


def run(args, shard=()):
    """The whole run: prepare, the chain (fvvae.run.protocol), finish.
    Returns the process's exit status; raises RunInputError before any work."""
    from fvvae.evaluation import report
    from fvvae.evaluation.paper import table_for
    from fvvae.run.protocol import Protocol, ProtocolError
    from fvvae.run.stages import StageNotFinished
    fitted = prepare(args, shard)
    s, data = settings_and_data(args, fitted, shard)
    os.makedirs(args.out, exist_ok=True)
    log_name = "run.log"
    if shard:           # the shards of a cluster run start together: each its own log
        log_name = os.path.join("shards", "%s-%d-of-%d.log" % ((args.side,) + shard))
        os.makedirs(os.path.join(args.out, "shards"), exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        handlers=[logging.FileHandler(os.path.join(args.out, log_name)),
                                  logging.StreamHandler()])
    log = logging.getLogger("fvvae.run_protocol")
    log.info("settings: %s; data: %s", dataclasses.asdict(s), dataclasses.asdict(data))
    start = time.time()
    try:
        p = Protocol(s, data, log_name=log_name)
        runs, encode_s, training = p.chain()
        if shard or s.until:
            log.info("%s done in %.0f s%s", "%s side, shard %d of %d" % ((s.side,) + shard)
                     if shard else "the training side and the models", time.time() - start,
                     "" if shard else "; the test side next (--shard I/N --side test, or a "
                     "run without --until)")
            return 0
        results = p.evaluate(runs, p.path("eval"))
        from fvvae.run.takeaway import save_manifest
        save_manifest(p, runs)      # tools/encode_items.py reads it
        sweep = p.sweep() if s.sweep else None
    except (ProtocolError, StageNotFinished, OSError, ValueError) as e:
        log.error("%s", e)
        return 1
    settings = report_settings(args, s, fitted, results)
    if settings[-1][0] == "below chance":
        log.warning("below chance: %s", settings[-1][1])
    paper, caption = table_for(args.dataset, args.trunk, args.variant)
    md = report.write_report(args.out, args.title or "FV-VAE protocol: %s" % args.out, results,
                             encode_s, training, sweep, settings, paper, REPORT_ORDER,
                             time.time() - start, "The paper's columns: %s." % caption)
    print("\n".join(l for l in md.splitlines() if l.startswith("|")))
    log.info("report: %s", os.path.join(os.path.abspath(args.out), "REPORT.md"))
    return 0
