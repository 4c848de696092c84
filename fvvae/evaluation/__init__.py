"""From representation files to the paper's tables: one-vs-all linear SVMs
(svm), the classification of a run's files and its results writer
(classify), a trained classifier to take away (classifier), metrics with
intervals (metrics), paired tests (paired), the paper's numbers (paper),
a run's report (report)."""
