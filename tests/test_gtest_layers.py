"""Runs the gtest binary of our layers (Caffe's GradientChecker on every layer,
float and double; GPU cases only where a GPU and a CUDA build exist)."""
import re
import subprocess

import pytest

from conftest import CAFFE_BUILD, ROOT

pytestmark = pytest.mark.quick     # scripts/test.sh --quick


SUITES = ("FisherVectorLayerTest", "GaussianReconstructionLossLayerTest",
          "GaussianSampleLayerTest", "NormalizeLayerTest",
          "L2NormalizeLayerTest", "SignedSqrtLayerTest",
          "SetsToColumnsLayerTest", "ColumnsToSetsLayerTest")


def test_layer_gtests_pass():
    binary = CAFFE_BUILD / "test" / "test_fvvae.testbin"
    assert binary.exists(), "build the layers first: scripts/setup.sh"
    res = subprocess.run([str(binary), "--gtest_filter=-*GPU*"], cwd=ROOT,
                         capture_output=True, text=True, timeout=1800)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    passed = re.search(r"\[  PASSED  \] (\d+) tests?", out)
    assert passed and int(passed.group(1)) >= 40, out[-2000:]
    assert "FAILED" not in out
    for suite in SUITES:  # every layer's cases ran, in float and in double
        assert re.search(r"%s/\d+\.TestGradient" % suite, out), suite
        assert "%s/0" % suite in out and "%s/1" % suite in out, suite
    # how the cuDNN layers choose algorithms (patch 0010), testable without a GPU
    for case in ("TakesTheFirstRankedThatFitsTheLimit", "SkipsFailedEntriesAndOtherMathTypes",
                 "NoneFitsGivesMinusOne", "WorkspaceLimitFromTheEnvironment",
                 "ChosenOncePerShape"):
        assert re.search(r"\[       OK \] CuDNNAlgoChoiceTest\.%s" % case, out), case
