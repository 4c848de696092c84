"""Metrics against hand-computed examples."""
import numpy as np
import pytest

from fvvae.evaluation.metrics import (average_precision, confusion_matrix, late_fusion,
                           mean_average_precision, per_class_accuracy, top_k_accuracy)

pytestmark = pytest.mark.quick     # scripts/test.sh --quick


SCORES = np.array([[0.9, 0.05, 0.05],    # true 0: top-1 right
                   [0.2, 0.5, 0.3],      # true 2: second at rank 2
                   [0.1, 0.3, 0.6],      # true 1: rank 2
                   [0.1, 0.2, 0.7]])     # true 2: right
LABELS = np.array([0, 2, 1, 2])


def test_top_k():
    assert top_k_accuracy(SCORES, LABELS, 1) == 0.5
    assert top_k_accuracy(SCORES, LABELS, 2) == 1.0


def test_average_precision_by_hand():
    # class 2 scores: .05, .3, .6, .7 -> ranking rows 3, 2, 1, 0; positives rows 1 and 3
    # hits at ranks 1 and 3: precisions 1/1 and 2/3 -> AP = (1 + 2/3) / 2
    assert average_precision(SCORES[:, 2], LABELS == 2) == pytest.approx((1 + 2 / 3) / 2)
    # class 0: row 0 ranked first -> AP 1; class 1: row 2 ranked 2nd (0.5 first) -> AP 1/2
    assert mean_average_precision(SCORES, LABELS) == pytest.approx(
        (1 + 0.5 + (1 + 2 / 3) / 2) / 3)


def test_confusion_and_per_class():
    cm = confusion_matrix(SCORES, LABELS, 3)
    assert cm.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    np.testing.assert_allclose(per_class_accuracy(cm), [1.0, 0.0, 0.5])


def test_late_fusion_weights_and_shapes():
    a, b = np.ones((2, 3)), np.zeros((2, 3))
    assert np.all(late_fusion(a, b, 0.25) == 0.25)
    with pytest.raises(ValueError, match="differ in shape"):
        late_fusion(a, np.zeros((3, 3)))


@pytest.mark.parametrize("k, n", [(335, 400), (0, 40), (40, 40), (7, 9)])
def test_wilson_interval_against_scipy(k, n):
    from scipy.stats import binomtest
    from fvvae.evaluation.metrics import accuracy_cell, wilson_interval
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k / n, n)
    assert abs(low - ci.low) < 1e-6 and abs(high - ci.high) < 1e-6
    assert low <= k / n <= high
    if k == 335:
        assert accuracy_cell(k / n, low, high) == "83.75%% (%.1f–%.1f)" % (100 * ci.low, 100 * ci.high)
