"""The environment contract: .venv's caffe has our layers, the tool exists."""
import subprocess

import pytest

from conftest import CAFFE_TOOL, ROOT


pytestmark = pytest.mark.quick     # scripts/test.sh --quick


def test_layer_types_registered(caffe):
    import fvvae
    have = set(caffe.layer_type_list())
    assert set(fvvae.LAYER_TYPES) <= have, sorted(set(fvvae.LAYER_TYPES) - have)
    # and the stock layers are still there
    assert {"Convolution", "Pooling", "Python", "HDF5Data"} <= have


def test_layer_list_from_venv_python_command():
    out = subprocess.run([str(ROOT / ".venv/bin/python"), "-c",
                          "import caffe; print(caffe.layer_type_list())"],
                         capture_output=True, text=True, check=True).stdout
    for t in ("GaussianSample", "GaussianReconstructionLoss", "FisherVector"):
        assert "'%s'" % t in out


def test_caffe_tool_is_ours():
    assert CAFFE_TOOL.exists()
    res = subprocess.run([str(CAFFE_TOOL), "--version"], capture_output=True, text=True)
    assert "1.0.0" in res.stdout + res.stderr
