"""The evidence command (scripts/evidence.sh, fvvae.run.evidence): the wild
regime's canvases, and the whole command's miniature in both regimes (its
plumbing only: the claims table, the untrained control, the paired tests,
resuming with every stage reused). No accuracy threshold: a few images."""
import csv
import subprocess

import numpy as np
import pytest

from conftest import ROOT


def test_wild_canvas_places_the_item_anywhere_at_any_scale():
    from data_prep import fashion_mnist as fm
    item = np.zeros((28, 28), np.uint8)
    item[4:24, 6:22] = 255                              # a bright block: easy to find
    others = np.zeros((5, 28, 28), np.uint8)           # dark fragments: only the item shows
    boxes = []
    for i in range(200):
        c = fm.wild_canvas(item, others, np.random.default_rng([0, 0, i]))
        assert c.shape == (fm.CANVAS, fm.CANVAS) and c.dtype == np.uint8
        ys, xs = np.nonzero(c > 128)
        assert ys.size, "the item is on the canvas"
        boxes.append((ys.mean(), xs.mean(), ys.max() - ys.min() + 1))
    boxes = np.array(boxes)
    # centres spread over the canvas, sizes from small to large
    assert boxes[:, 0].std() > 12 and boxes[:, 1].std() > 12
    assert boxes[:, 2].min() < 30 and boxes[:, 2].max() > 45
    again = fm.wild_canvas(item, others, np.random.default_rng([0, 0, 7]))
    assert np.array_equal(again, fm.wild_canvas(item, others, np.random.default_rng([0, 0, 7])))


def test_wild_split_keeps_its_own_images(tmp_path):
    import os
    from data_prep import fashion_mnist as fm
    if not os.path.isdir(fm.DEFAULT_ROOT):
        pytest.fail("Debian's dataset-fashion-mnist is missing (scripts/setup.sh installs it)")
    a = [l.split()[0] for l in open(fm.write_split("test", 2, 0, str(tmp_path)))]
    w = [l.split()[0] for l in open(fm.write_split("test", 2, 0, str(tmp_path), regime="wild"))]
    assert len(w) == 20 and all("/test-wild/" in p for p in w)
    import cv2
    assert cv2.imread(w[0], cv2.IMREAD_GRAYSCALE).shape == (fm.CANVAS, fm.CANVAS)
    assert cv2.imread(a[0], cv2.IMREAD_GRAYSCALE).shape == (28, 28)
    with pytest.raises(ValueError, match="regime"):
        fm.write_split("test", 2, 0, str(tmp_path), regime="tilted")


def evidence(out, *extra):
    return subprocess.run(["bash", str(ROOT / "scripts" / "evidence.sh"), "--quick", "--out",
                           str(out)] + list(extra), capture_output=True, text=True, timeout=2400)


def test_the_evidence_command_in_miniature(tmp_path):
    out = tmp_path / "evidence"
    res = evidence(out, "--follow-up", "wild")
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-3000:]
    with open(out / "claims.csv") as f:
        claims = list(csv.DictReader(f))
    got = {(c["regime"], c["claim"], c["b"]) for c in claims}
    for regime in ("aligned", "wild"):
        for claim, b in (("C0", "Concatenation"), ("C1", "FV"), ("C1", "VLAD"), ("C1", "BP"),
                         ("C2", "FV-VAE⁻"), ("C6", "FV-VAE untrained")):
            assert (regime, claim, b) in got
    for c in claims:
        p, holm = float(c["p"]), float(c["p_holm"])
        assert 0 < p <= 1 and p <= holm <= 1
        assert float(c["low"]) <= float(c["difference"]) <= float(c["high"])
        assert float(c["difference"]) == pytest.approx(float(c["top1_a"]) - float(c["top1_b"]))
        assert c["verdict"] in ("holds", "refuted", "not separable")
        assert int(c["seeds_a"]) == 2 and int(c["items"]) == 40
    c2 = [c for c in claims if c["claim"] == "C2"][0]
    assert int(c2["seeds_b"]) == 2 and c2["test"].startswith("paired sign-flip")
    # the untrained head: snapshotted at iteration 0, never trained
    snaps = sorted(p.name for p in out.glob("wild/fvvae_full_k31_untrained/snapshots/*"))
    assert snaps == ["fv_vae_iter_0.caffemodel", "fv_vae_iter_0.solverstate"], snaps
    assert "Iteration" not in (out / "wild/fvvae_full_k31_untrained/train.log").read_text()
    report = (out / "EVIDENCE.md").read_text()
    assert "## Regime: wild" in report and "## Regime: aligned" in report
    assert "Concatenation ranks" in report and (out / "claims.png").stat().st_size > 1000
    # the wild regime's images are canvases, the aligned regime's the photos
    assert list(out.glob("wild/data/train-wild/*.png")) and list(out.glob("aligned/data/train/*.png"))

    # the follow-ups (wild only): each FV-VAE with its one change, in its table
    assert "## Follow-ups" in report
    for name in ("budget x4", "no input dropout", "linear encoder", "lambda3 x100",
                 "second-moment FIM"):   # (lambda3 x100 trains in fvvae_full_k31_l100000)
        assert "| wild | %s | FV-VAE seed 0 |" % name in report
        for b in ("BP", "FV", "FV-VAE⁻", "FV-VAE untrained"):    # the failed claims' reading
            assert "| wild | %s | %s |" % (name, b) in report
    nodrop = (out / "wild/fvvae_full_k31_no_dropout/train.prototxt").read_text()
    assert 'type: "Dropout"' not in nodrop          # dropout 0: no Dropout layer at all
    assert 'name: "enc1"' not in (out / "wild/fvvae_full_k31_linear_encoder/train.prototxt"
                                  ).read_text()
    default = (out / "wild/fvvae_full_k31/train.prototxt").read_text()
    assert 'name: "enc1"' in default and 'type: "Dropout"' in default
    assert (out / "wild/fvvae_full_k31_budget_x4/snapshots/fv_vae_iter_80.caffemodel").exists()
    assert not list(out.glob("aligned/fvvae_full_k31_no_dropout"))

    # run again: every stage reused, the same claims
    res = evidence(out, "--follow-up", "wild")
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-3000:]
    assert "stage: running" not in log and ": running" not in log.replace("reused", ""), \
        [l for l in log.splitlines() if ": running" in l][:5]
    with open(out / "claims.csv") as f:
        assert list(csv.DictReader(f)) == claims


def test_claims_of_separate_runs_combine_into_one_holm_family(tmp_path):
    """tools/evidence.py --combine: each run's p-values re-adjusted together
    (Holm over 3: 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, then max(0.06, 0.04))."""
    import csv
    import subprocess
    import sys
    from conftest import ROOT
    fields = ["claim", "regime", "comparison", "a", "b", "seeds_a", "seeds_b", "top1_a",
              "top1_b", "difference", "low", "high", "test", "items", "discordant", "p",
              "p_holm", "verdict"]
    paths = []
    for regime, ps in (("wild", (0.01, 0.04)), ("aligned", (0.03,))):
        paths.append(tmp_path / ("%s.csv" % regime))
        with open(paths[-1], "w", newline="") as f:
            w = csv.DictWriter(f, fields)
            w.writeheader()
            for p in ps:
                w.writerow(dict(claim="C1", regime=regime, comparison="x", a="FV-VAE", b="FV",
                                seeds_a=3, seeds_b=1, top1_a=0.6, top1_b=0.5, difference=0.02,
                                low=0.01, high=0.03, test="t", items=100, discordant=10, p=p,
                                p_holm=p, verdict="holds"))
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "evidence.py"), "--combine",
                          *map(str, paths), "--out", str(tmp_path / "c")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    with open(tmp_path / "c" / "claims_combined.csv") as f:
        rows = list(csv.DictReader(f))
    assert [round(float(r["p_holm"]), 6) for r in rows] == [0.03, 0.06, 0.06]
    assert [r["verdict"] for r in rows] == ["holds", "not separable", "not separable"]
    assert (tmp_path / "c" / "claims_combined.png").stat().st_size > 1000
