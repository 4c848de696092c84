#!/usr/bin/env python3
"""PyTorch's side of the GPU check (bench/gpu_check.sh), in the same run as
Caffe's: the paper's trunks in torchvision at the batches Caffe is timed at,
and the cuBLAS SGEMM rate (8192 cubed) that the FV-VAE head is measured
against. FP32 with TF32 off (matmul and cuDNN), channels-first, eval mode,
no autograd, torch.backends.cudnn.benchmark on (PyTorch's fastest setting);
random weights (timing does not need trained ones). Each figure is the mean
of the timed passes after warm-up ones, timed with CUDA events.

    python3 torch_trunks.py --out torch.csv
"""
import argparse
import csv
import sys

# name (as bench/time_nets.py's trunk nets), input size, batch
TRUNKS = (("vgg19_pool5_224_b128", 224, 128),
          ("resnet152_res5c_224_b64", 224, 64),
          ("vgg19_conv5_4_448_b16", 448, 16))


def timed(torch, fn, warmup, iters):
    """Milliseconds per call of fn (CUDA events around `iters` calls)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters


def trunk(torchvision, torch, name):
    """The torchvision module of a trunk, cut where the Caffe net is cut."""
    if name.startswith("vgg19"):
        features = torchvision.models.vgg19(weights=None).features
        # features[35] is relu5_4 (after conv5_4 at [34]); [36] is pool5
        return features[:37] if "pool5" in name else features[:36]
    r = torchvision.models.resnet152(weights=None)
    return torch.nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool,
                               r.layer1, r.layer2, r.layer3, r.layer4)   # res5c + ReLU


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="CSV to write")
    ap.add_argument("--iterations", type=int, default=10)
    args = ap.parse_args(argv)
    import torch
    import torchvision
    if not torch.cuda.is_available():
        sys.exit("torch_trunks: PyTorch sees no GPU")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda:0")
    rows = []
    n = 8192
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    ms = timed(torch, lambda: torch.mm(a, b), 3, 10)
    rows.append({"what": "sgemm_8192", "batch": n, "size": n, "ms": "%.4f" % ms,
                 "rate": "%.4f" % (2.0 * n ** 3 / (ms / 1e3) / 1e12), "unit": "TFLOP/s"})
    del a, b
    with torch.no_grad():
        for name, size, batch in TRUNKS:
            net = trunk(torchvision, torch, name).to(dev).eval()
            x = torch.randn(batch, 3, size, size, device=dev)
            ms = timed(torch, lambda: net(x), 3, args.iterations)
            rows.append({"what": name, "batch": batch, "size": size, "ms": "%.4f" % ms,
                         "rate": "%.1f" % (batch / (ms / 1e3)), "unit": "images/s"})
            print("%s: %.2f ms a batch of %d, %.1f images/s" % (name, ms, batch,
                                                               batch / (ms / 1e3)))
            del net, x
            torch.cuda.empty_cache()
    with open(args.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print("torch %s, torchvision %s, cuDNN %s, %s" % (
        torch.__version__, torchvision.__version__, torch.backends.cudnn.version(),
        torch.cuda.get_device_name(0)))


if __name__ == "__main__":
    main()
