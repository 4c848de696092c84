"""The CUDA compile check (scripts/check_cuda_kernels.sh), on machines without
a GPU too: every project .cu file, Caffe's cuDNN sources against cuDNN 9
(patch 0010) and Caffe's NCCL parts compile with nvcc / the host compiler
for a CUDA build. Skipped (not passed) where there is no nvcc."""
import subprocess
from pathlib import Path

import pytest

from conftest import CAFFE_SRC, ROOT

CUDNN_TESTS = ["src/caffe/test/test_%s_layer.cpp" % n for n in
               ("convolution", "deconvolution", "pooling", "neuron", "softmax", "lrn")]
NCCL_SOURCES = ["src/caffe/parallel.cpp", "tools/caffe.cpp", "python/caffe/_caffe.cpp",
                "src/caffe/test/test_gradient_based_solver.cpp"]


def test_cuda_cudnn_and_nccl_sources_compile():
    res = subprocess.run(["bash", str(ROOT / "scripts/check_cuda_kernels.sh")],
                         capture_output=True, text=True, timeout=3000)
    if res.returncode == 3:
        pytest.skip("no nvcc on this machine")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    check = ROOT / "build/cuda-check"

    def compiled(group, rel):
        assert "compiled %s %s" % (group, rel) in out, (group, rel, out[-3000:])
        obj = check / group / (Path(rel).name + ".o")
        assert obj.stat().st_size > 0, obj

    ours = sorted(p.relative_to(ROOT / "cuda_layers")
                  for p in (ROOT / "cuda_layers").rglob("*.cu"))
    assert len(ours) >= 6
    for rel in ours:
        compiled("fvvae", str(rel))
    # our gtest files as a cuDNN build compiles them, the agreement test included
    tests = sorted(p.name for p in (ROOT / "cuda_layers/src/caffe/test").glob("test_*.cpp"))
    assert "test_cpu_gpu_agreement.cpp" in tests
    for name in tests:
        compiled("fvvae-test", "src/caffe/test/fvvae/" + name)
    syms = subprocess.run(["nm", "-C", str(check / "fvvae-test/test_cpu_gpu_agreement.cpp.o")],
                          capture_output=True, text=True).stdout
    assert "CPUGPUAgreementTest_TrunkLayers_Test" in syms, syms[:2000]
    # every cuDNN layer of Caffe, .cpp and .cu, and the tests with CuDNN* cases
    cudnn_layers = sorted(str(p.relative_to(CAFFE_SRC)) for p in
                          (CAFFE_SRC / "src/caffe/layers").glob("cudnn_*"))
    assert len(cudnn_layers) >= 16, cudnn_layers
    for rel in cudnn_layers + ["src/caffe/util/cudnn.cpp"] + CUDNN_TESTS:
        compiled("cudnn", rel)
    for rel in NCCL_SOURCES:
        compiled("nccl", rel)
    # the objects really hold cuDNN's and NCCL's calls (the defines took effect)
    syms = subprocess.run(["nm", "-u", str(check / "cudnn/cudnn_conv_layer.cpp.o")],
                          capture_output=True, text=True).stdout
    for sym in ("cudnnGetConvolutionForwardAlgorithm_v7",
                "cudnnGetConvolutionBackwardDataAlgorithm_v7",
                "cudnnGetConvolutionBackwardFilterAlgorithm_v7",
                "cudnnSetConvolutionMathType"):
        assert sym in syms, sym
    syms = subprocess.run(["nm", "-u", str(check / "nccl/parallel.cpp.o")],
                          capture_output=True, text=True).stdout
    for sym in ("ncclCommInitRank", "ncclAllReduce", "ncclBcast"):
        assert sym in syms, sym
