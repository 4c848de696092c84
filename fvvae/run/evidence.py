"""The evidence: the paper's checkable claims tested on embedded real data in
two regimes (docs/evidence.md, where the claims were written down before the
runs), by the demo's own protocol code (fvvae.run.demo: the same lists, trunk,
streamed stages, methods and SVMs; no second pipeline).

    for each regime (aligned, wild): Fashion-MNIST subset -> Demo chain with
        FV-VAE and FV-VAE- trained with `seeds` training seeds and the
        untrained head (C6) -> one SVM stage a method (reused when its files
        did not change) -> scores of every test item
    claims: paired tests over the same test items (fvvae.evaluation.paired), Holm across
        every claim of the run -> OUT/EVIDENCE.md, claims.csv, results.csv,
        claims.png

Every stage is resumable (fvvae.run.stages): the command run again continues
where it stopped, across sessions.
"""
import dataclasses
import functools
import logging
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from fvvae.evaluation import paired
from fvvae.run.demo import CHANNELS, ROOT, Demo, DemoSettings
from fvvae.run.evidence_report import UNTRAINED, combine_claims, seed_rows, write_evidence
from fvvae.run.settings import Variant

log = logging.getLogger("fvvae.run.evidence")


@dataclass
class EvidenceSettings:
    out: str = os.path.join(ROOT, "runs", "evidence")
    regimes: tuple = ("wild", "aligned")
    train_per_class: int = 400      # 4,000 training images a regime
    test_per_class: int = 400       # 4,000 test images: +-1.1 points at 85%
    # FV-VAE's training budget: batch 128 as the paper, 500 iterations = 16
    # epochs of 4,000 images (the paper: 5,000 x 128 = 2.7 epochs of UCF101's
    # 238K training frames; the demo: 400 x 32)
    iterations: int = 500
    batch: int = 128
    seeds: int = 3                  # training seeds of every trained variant
    latent: int = 255
    lambda3: float = 1000.0
    fv_size: int = 128
    vlad_size: int = 256
    bp_pca: int = 512
    sample: int = 30000
    seed: int = 0
    chunk: int = 500
    analysis: tuple = ()            # regimes that also run section 5.4 (C3-C5)
    follow_up: tuple = ()           # regimes that also run FOLLOW_UPS (step 5, seed 0 each)
    gpu: object = None
    quick: bool = False             # CI's miniature: plumbing only
    combine: tuple = ()             # claims.csv files to re-adjust as one Holm family


def demo_settings(e, regime):
    """The Demo's settings for one regime of the evidence: every setting the
    two share taken from the evidence's."""
    shared = {f.name: getattr(e, f.name) for f in dataclasses.fields(DemoSettings)
              if hasattr(e, f.name)}
    return DemoSettings(**dict(shared, out=os.path.join(os.path.abspath(e.out), regime),
                               regime=regime, analysis=regime in e.analysis))


def follow_ups(s):
    """Where FV-VAE fails a claim, what might be why (docs/evidence.md, part
    3): FV-VAE (seed 0) with one thing changed, each a departure from the
    evidence runs' settings, compared with FV-VAE seed 0 on the same items."""
    return [
        Variant("FV-VAE budget x4", s.lambda3, s.latent, label="budget x4",
                iterations=4 * s.iterations),
        Variant("FV-VAE no input dropout", s.lambda3, s.latent, label="no dropout",
                sets={"dropout": 0.0}),
        Variant("FV-VAE linear encoder", s.lambda3, s.latent, label="linear encoder",
                sets={"encoder": [s.latent]}),
        # (no label: the same training as section 5.4's lambda3 sweep point, reused)
        Variant("FV-VAE lambda3 x100", 100 * s.lambda3, s.latent),
        Variant("FV-VAE second-moment FIM", s.lambda3, s.latent, label="fim second moment",
                fim="second-moment"),
    ]


class RegimeRun(Demo):
    """The demo's chain on one regime, with every training seed and the
    untrained head (and the follow-ups when asked); each method's SVM a stage
    of its own."""
    with_follow_ups = False

    def variants(self):
        out = super().variants() + [Variant(UNTRAINED, self.s.lambda3, self.s.latent,
                                            untrained=True)]
        return out + (follow_ups(self.s) if self.with_follow_ups else [])

    def run(self):
        start = time.time()
        self.make_data()
        runs, encode_s, training = self.chain(deps=("data",))
        results = self.evaluate_each(runs, self.path("eval_each"))
        analysis = None
        if self.s.analysis:
            from fvvae.run.analysis import LAMBDAS, run_analysis
            analysis = run_analysis(self, LAMBDAS, (3, 7, 15))
        return {"results": results, "training": training, "encode_s": encode_s,
                "seconds": time.time() - start, "analysis": analysis}


# ---- outcomes and claims ---------------------------------------------------
@functools.lru_cache(maxsize=None)
def outcomes(scores_path):
    """{test item id: 1.0 if top-1 right else 0.0} of one method."""
    with np.load(scores_path, allow_pickle=False) as z:
        right = np.argmax(z["scores"], axis=1) == z["labels"]
        return dict(zip([str(i) for i in z["ids"]], right.astype(np.float64)))


def matrix(results, names, ids=None):
    """(outcomes seeds x items, ids): the rows of `names`, items in one order."""
    got = [outcomes(results[n]["scores"]) for n in names]
    ids = sorted(got[0]) if ids is None else ids
    for n, g in zip(names, got):
        if sorted(g) != sorted(ids):
            raise ValueError("%s was scored on other test items than the rest" % n)
    return np.array([[g[i] for i in ids] for g in got]), ids


def claim_row(xa, xb, **fields):
    """paired.compare of outcomes a and b, with the row's fields, seeds and
    top-1 of each side."""
    r = paired.compare(xa, xb)
    r.update(fields, seeds_a=xa.shape[0], seeds_b=xb.shape[0], top1_a=float(xa.mean()),
             top1_b=float(xb.mean()))
    return r


def regime_claims(regime, results):
    """[(claim, paper's evidence, a, b)] decided in one regime: a above b."""
    rows = [("C0", "Table 2: FV-VAE above Concatenation", "FV-VAE", "Concatenation"),
            ("C1", "Table 2: FV-VAE above FV", "FV-VAE", "FV"),
            ("C1", "Table 2: FV-VAE above VLAD", "FV-VAE", "VLAD"),
            ("C1", "Table 2: FV-VAE above BP", "FV-VAE", "BP"),
            ("C2", "Tables 2-3: FV-VAE above FV-VAE⁻", "FV-VAE", "FV-VAE⁻"),
            ("C6", "control: FV-VAE above the same head untrained", "FV-VAE", UNTRAINED)]
    return [(c, what, a, b) for c, what, a, b in rows if a in results and b in results]


def decide(runs, analysis_folders=None):
    """runs: {regime: {name: result row with 'scores'}}; analysis_folders:
    {regime: OUT/REGIME/analysis} where section 5.4 ran. Returns claim rows
    with difference, interval, p and Holm-adjusted p across all of them."""
    rows = []
    for regime, results in runs.items():
        for claim, what, a, b in regime_claims(regime, results):
            xa, ids = matrix(results, seed_rows(results, a))
            xb, _ = matrix(results, seed_rows(results, b), ids)
            rows.append(claim_row(xa, xb, claim=claim, regime=regime, comparison=what, a=a,
                                  b=b))
        rows += analysis_claims(regime, (analysis_folders or {}).get(regime))
    adjusted = paired.holm([r["p"] for r in rows]) if rows else []
    for r, p in zip(rows, adjusted):
        r["p_holm"] = p
        r["verdict"] = paired.verdict(r["difference"], p)
    return rows


def analysis_claims(regime, folder):
    """C3-C5 from a regime's section 5.4 outputs (fvvae.run.analysis), when run:
    one seed each, exact McNemar."""
    if not folder or not os.path.isdir(folder):
        return []
    rows = []

    def pair(claim, what, sub, a, b):
        pa = os.path.join(folder, sub, a + "_scores.npz")
        pb = os.path.join(folder, sub, b + "_scores.npz")
        if not (os.path.exists(pa) and os.path.exists(pb)):
            log.warning("%s (%s): no scores of %s and %s in %s: not decided", claim, regime,
                        a, b, os.path.join(folder, sub))
            return
        xa, ids = matrix({a: {"scores": pa}}, [a])
        xb, _ = matrix({b: {"scores": pb}}, [b], ids)
        rows.append(claim_row(xa, xb, claim=claim, regime=regime, comparison=what, a=a, b=b))
    sweep = os.path.join(folder, "..", "eval_sweep")
    for k, g, c in ((15, 8, 16), (63, 32, 64), (255, 128, 256)):
        for b in ("FV %d" % g, "VLAD %d" % c):
            pair("C3", "Figure 4a: FV-VAE above %s at equal dimension" % b.split()[0],
                 os.path.relpath(sweep, folder), "FV-VAE K=%d" % k, b)
    for low in ("1", "100000"):
        pair("C4", "Figure 4b: lambda3 = 1000 above lambda3 = %s" % low, "eval_lambda3",
             "lambda3=1000", "lambda3=%s" % low)
    for k in (3, 7, 15):
        d = CHANNELS * (k + 1)
        for m in ("PCA", "RM"):
            pair("C5", "Figure 4c: smaller latent above %s at equal dimension" % m,
                 "eval_compression", "FV-VAE K=%d" % k, "%s to %d" % (m, d))
    return rows


# what a follow-up is read against besides FV-VAE seed 0: the comparisons of
# C1 (BP, FV), C2 (FV-VAE⁻) and C6 (the untrained head) that failed in a regime
FOLLOW_UP_AGAINST = ("BP", "FV", "FV-VAE⁻", UNTRAINED)


def follow_up_rows(runs):
    """Each follow-up against FV-VAE (seed 0), and against the methods the
    claims compare it with where the claims failed somewhere (BP, FV,
    FV-VAE⁻ and the untrained head), on the same items (docs/evidence.md,
    part 1: how they are read): exploratory, exact McNemar, not in the
    claims' Holm family; p_holm: Holm over a regime's follow-ups against
    FV-VAE."""
    rows = []
    for regime, results in runs.items():
        names = [n for n in results if n.startswith("FV-VAE ") and " seed " not in n
                 and n != UNTRAINED]
        against = []
        for name in names:
            xa, ids = matrix(results, [name])
            for b in ("FV-VAE",) + FOLLOW_UP_AGAINST:
                if b in results:
                    xb, _ = matrix(results, [b], ids)
                    rows.append(claim_row(xa, xb, regime=regime, a=name, b=b))
                    if b == "FV-VAE":
                        against.append(rows[-1])
        for r, p in zip(against, paired.holm([r["p"] for r in against])):
            r["p_holm"] = p
    return rows


# ---- the command ------------------------------------------------------------
def quick(e):
    """CI's miniature: the same command on a few images (plumbing only)."""
    return dataclasses.replace(e, train_per_class=6, test_per_class=4, iterations=20, batch=8,
                               latent=31, fv_size=8, vlad_size=16, bp_pca=64, sample=3000,
                               seeds=2, chunk=20)


def run(e):
    """Every regime, then the claims; writes OUT/EVIDENCE.md and the rest."""
    if e.quick:
        e = quick(e)
    runs, info, folders = {}, {}, {}
    for regime in e.regimes:
        log.info("regime %s: %s", regime, os.path.join(e.out, regime))
        one = RegimeRun(demo_settings(e, regime))
        one.with_follow_ups = regime in e.follow_up
        got = one.run()
        runs[regime] = got["results"]
        info[regime] = got
        if got["analysis"] is not None:
            folders[regime] = os.path.join(os.path.abspath(e.out), regime, "analysis")
    claims = decide(runs, folders)
    return write_evidence(e, runs, info, claims, follow_up_rows(runs))


def settings_from_args(argv=None):
    import argparse
    d = EvidenceSettings()
    ap = argparse.ArgumentParser(
        prog="scripts/evidence.sh",
        description="The paper's claims tested on Fashion-MNIST in two regimes (aligned, "
                    "wild), written to OUT/EVIDENCE.md (docs/evidence.md). Resumable: run "
                    "it again to continue.")
    ap.add_argument("--out", default=d.out, help="output folder (default runs/evidence)")
    ap.add_argument("--regimes", default=",".join(d.regimes),
                    help="comma-separated, in the order run (default %(default)s)")
    for flag, help_ in (("train_per_class", "training images a class (default %(default)s)"),
                        ("test_per_class", "test images a class (default %(default)s)"),
                        ("iterations", "FV-VAE training iterations (default %(default)s)"),
                        ("batch", "FV-VAE batch (default %(default)s, the paper's)"),
                        ("seeds", "training seeds of every trained variant (default "
                                  "%(default)s)"),
                        ("latent", "K (default %(default)s, the paper's)"),
                        ("fv_size", "FV Gaussians (default %(default)s)"),
                        ("vlad_size", "VLAD centres (default %(default)s)"),
                        ("bp_pca", "BP's PCA size (default %(default)s: 512^2 dimensions)"),
                        ("sample", "descriptors the codebooks are fitted on (default "
                                   "%(default)s)"),
                        ("seed", "data and codebook seed (default %(default)s)"),
                        ("chunk", "images a streamed chunk (default %(default)s)")):
        ap.add_argument("--" + flag.replace("_", "-"), type=int, default=getattr(d, flag),
                        help=help_)
    ap.add_argument("--lambda3", type=float, default=d.lambda3, help="(default %(default)s)")
    ap.add_argument("--analysis", default="",
                    help="comma-separated regimes that also run section 5.4 (C3-C5; every "
                         "store kept)")
    ap.add_argument("--follow-up", default="",
                    help="comma-separated regimes that also train FV-VAE with one thing "
                         "changed (budget x4, no input dropout, linear encoder, lambda3 x100, "
                         "second-moment FIM; seed 0 each): docs/evidence.md, part 3")
    ap.add_argument("--gpu", type=int, help="GPU id for every net and solver")
    ap.add_argument("--combine", nargs="+", metavar="CLAIMS_CSV",
                    help="instead of a run: the claims.csv of runs made separately (one regime "
                    "a session, say) as one Holm family, into OUT/CLAIMS_COMBINED.md")
    ap.add_argument("--quick", action="store_true",
                    help="a miniature for the plumbing (CI): a few images, no verdict worth "
                         "reading")
    a = ap.parse_args(argv)
    if a.quick and a.out == d.out:      # never over the real run's folder
        a.out = os.path.join(ROOT, "runs", "evidence_quick")
    regimes = tuple(r for r in a.regimes.split(",") if r)
    analysis = tuple(r for r in a.analysis.split(",") if r)
    follow = tuple(r for r in a.follow_up.split(",") if r)
    bad = [r for r in regimes + analysis + follow if r not in ("aligned", "wild")]
    if bad or not regimes:
        ap.error("regimes are aligned and wild, not %s" % (bad or "none"))
    kw = {f.name: getattr(a, f.name) for f in dataclasses.fields(EvidenceSettings)
          if hasattr(a, f.name)}
    kw.update(regimes=regimes, analysis=analysis, follow_up=follow,
              combine=tuple(a.combine or ()))
    return EvidenceSettings(**kw)


def main(argv=None):
    from fvvae.run.demo import run_logged
    e = settings_from_args(argv)
    if e.combine:
        try:
            rows = combine_claims(e.combine, e.out)
        except (OSError, ValueError, KeyError) as err:
            sys.exit("evidence --combine: %s" % err)
        print("%d claims, one Holm family: %s" % (len(rows), os.path.join(e.out,
                                                                       "CLAIMS_COMBINED.md")))
        return
    log.info("evidence: %s", run_logged("evidence", e, lambda: run(e)))
