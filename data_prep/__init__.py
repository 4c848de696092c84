"""Data-set readers and preparers (the embedded Fashion-MNIST; UCF101,
ActivityNet v1.3 and CUB-200-2011 to come)."""
