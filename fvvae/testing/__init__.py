"""What the tests and the benchmarks (bench/) share: data-set trees
fabricated from real images and clips (dataset_trees) and small Caffe nets
from prototxt text (nets). Not used by any run."""
