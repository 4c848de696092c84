"""Metrics of the paper's tables: top-1 and top-3 accuracy (UCF101, CUB,
ActivityNet), mean average precision (ActivityNet's metric, Table 5),
per-class accuracy and the confusion matrix; late fusion of two streams'
SVM scores (Table 4)."""
import numpy as np


def top_k_accuracy(scores, labels, k=1):
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


def average_precision(scores, positives):
    """AP of one class: the mean of the precision at each positive's rank
    (ties ranked in the given order)."""
    order = np.argsort(-scores, kind="stable")
    hits = positives[order].astype(np.float64)
    if hits.sum() == 0:
        return float("nan")
    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float((precision * hits).sum() / hits.sum())


def mean_average_precision(scores, labels):
    """Mean over the classes that have test examples."""
    aps = [average_precision(scores[:, c], labels == c) for c in range(scores.shape[1])]
    aps = [a for a in aps if not np.isnan(a)]
    return float(np.mean(aps))


def confusion_matrix(scores, labels, classes):
    pred = np.argmax(scores, axis=1)
    cm = np.zeros((classes, classes), np.int64)
    np.add.at(cm, (labels, pred), 1)
    return cm


def per_class_accuracy(cm):
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)


def late_fusion(scores_a, scores_b, weight_a=0.5):
    """weight_a * A + (1 - weight_a) * B, the two streams' SVM scores."""
    if scores_a.shape != scores_b.shape:
        raise ValueError("fused scores differ in shape: %s vs %s" % (scores_a.shape, scores_b.shape))
    return weight_a * scores_a + (1.0 - weight_a) * scores_b


def wilson_interval(p, n, z=1.959964):
    """The 95% Wilson score interval of an accuracy p measured on n test items
    (a binomial proportion; better than p +- 1.96 sqrt(p(1-p)/n) near 0 and 1
    and for small n). Returns (low, high)."""
    if n <= 0:
        return float("nan"), float("nan")
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def summary(scores, labels):
    top1 = top_k_accuracy(scores, labels, 1)
    low, high = wilson_interval(top1, len(labels))
    return {"top1": top1, "top1_low": low, "top1_high": high, "test_items": len(labels),
            "top3": top_k_accuracy(scores, labels, min(3, scores.shape[1])),
            "map": mean_average_precision(scores, labels)}


def accuracy_cell(top1, low=None, high=None):
    """`83.75% (79.8-87.1)`: top-1 with its 95% interval, in percent."""
    if low is None or high is None or not np.isfinite(low):
        return "%.2f%%" % (100 * top1)
    return "%.2f%% (%.1f–%.1f)" % (100 * top1, 100 * low, 100 * high)
