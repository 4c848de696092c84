"""Bad input stops with a message that names the layer and the shapes:
mismatched bottoms, a wrong parameter blob size, T = 0."""
import textwrap

import pytest

from conftest import input_layers, run_python

pytestmark = pytest.mark.quick     # scripts/test.sh --quick


def blob(n, value=0.0):
    """A parameter blob written into a layer definition."""
    return "blobs { shape { dim: %d } %s }" % (n, " ".join(["data: %g" % value] * n))


FV = ('layer { name: "fv" type: "FisherVector" bottom: "x" bottom: "mu_x" '
      'bottom: "z" top: "fv" %s }\n')


def build_net(prototxt, extra=""):
    code = textwrap.dedent("""
        import caffe, tempfile
        caffe.set_mode_cpu()
        f = tempfile.NamedTemporaryFile("w", suffix=".prototxt", delete=False)
        f.write(%r); f.close()
        net = caffe.Net(f.name, caffe.TEST)
        %s
        print("NET BUILT")
    """) % (prototxt, extra)
    return run_python(code)


def assert_fails_with(res, *fragments):
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "NET BUILT" not in out, out[-2000:]
    for fragment in fragments:
        assert fragment in out, (fragment, out[-2000:])


@pytest.mark.parametrize("params", ["", blob(8) + blob(32, 1)])
def test_good_net_builds(params):  # the harness itself can succeed
    res = build_net(input_layers(x=(2, 8, 1, 5), mu_x=(2, 8, 1, 5), z=(2, 3, 1, 5)) + FV % params)
    assert res.returncode == 0 and "NET BUILT" in res.stdout, res.stderr[-2000:]


def test_fisher_vector_bottom_shape_mismatch():
    res = build_net(input_layers(x=(2, 8, 1, 5), mu_x=(2, 7, 1, 5), z=(2, 3, 1, 5)) + FV % "")
    assert_fails_with(res, "FisherVector layer 'fv'", "x 2 8 1 5", "mu_x 2 7 1 5")


def test_fisher_vector_latent_descriptor_mismatch():
    res = build_net(input_layers(x=(2, 8, 1, 5), mu_x=(2, 8, 1, 5), z=(2, 3, 1, 4)) + FV % "")
    assert_fails_with(res, "FisherVector layer 'fv'", "z 2 3 1 4", "x 2 8 1 5")


@pytest.mark.parametrize("layer", [
    FV % "",
    'layer { name: "rec" type: "GaussianReconstructionLoss" bottom: "x" bottom: "mu_x" top: "l" }\n',
])
def test_empty_descriptor_set(layer):
    res = build_net(input_layers(x=(2, 8, 1, 0), mu_x=(2, 8, 1, 0), z=(2, 3, 1, 0)) + layer)
    assert_fails_with(res, "holds no descriptors (T = 0)", "x 2 8 1 0")


def test_gaussian_sample_empty_set():
    res = build_net(input_layers(mu=(4, 3, 1, 0))
                    + 'layer { name: "zs" type: "GaussianSample" bottom: "mu" top: "z" }\n')
    assert_fails_with(res, "GaussianSample layer 'zs'", "mu_z 4 3 1 0", "T = 0")


def test_reconstruction_loss_shape_mismatch():
    res = build_net(input_layers(x=(2, 8, 1, 5), mu_x=(2, 8, 1, 6))
                    + 'layer { name: "rec" type: "GaussianReconstructionLoss" '
                      'bottom: "x" bottom: "mu_x" top: "l" }\n')
    assert_fails_with(res, "GaussianReconstructionLoss layer 'rec'", "x 2 8 1 5", "mu_x 2 8 1 6")


def test_parameter_blob_of_wrong_size_in_definition():
    res = build_net(input_layers(x=(2, 8, 1, 5), mu_x=(2, 8, 1, 5), z=(2, 3, 1, 5))
                    + FV % (blob(6) + blob(32, 1)))
    assert_fails_with(res, "FisherVector layer 'fv'", "parameter 0 (log sigma_x)",
                      "shape 6 (6)", "need 8 values")


def test_fim_scale_of_wrong_size_in_definition():
    res = build_net(input_layers(x=(2, 8, 1, 5), mu_x=(2, 8, 1, 5), z=(2, 3, 1, 5))
                    + FV % (blob(8) + blob(24, 1)))
    assert_fails_with(res, "FisherVector layer 'fv'", "FIM scale", "shape 24 (24)",
                      "need 32 values")


def test_weights_of_wrong_size(tmp_path):
    """Weights trained for another descriptor width: Caffe's loader names the
    layer and both shapes."""
    small = input_layers(x=(1, 6, 1, 5), mu_x=(1, 6, 1, 5), z=(1, 3, 1, 5)) + FV % ""
    big = input_layers(x=(1, 8, 1, 5), mu_x=(1, 8, 1, 5), z=(1, 3, 1, 5)) + FV % ""
    weights = tmp_path / "small.caffemodel"
    res = build_net(small, "net.save(%r)" % str(weights))
    assert res.returncode == 0, res.stderr[-2000:]
    res = build_net(big, "net.copy_from(%r)" % str(weights))
    assert_fails_with(res, "Cannot copy param 0 weights from layer 'fv'", "shape mismatch")


def test_shared_sigma_of_different_width():
    """log sigma_x shared by name between layers of different C."""
    text = (input_layers(x=(2, 8, 1, 5), mu_x=(2, 8, 1, 5), x2=(2, 6, 1, 5), m2=(2, 6, 1, 5))
            + 'layer { name: "rec" type: "GaussianReconstructionLoss" bottom: "x" '
              'bottom: "mu_x" top: "l" param { name: "log_sigma_x" } }\n'
            + 'layer { name: "rec2" type: "GaussianReconstructionLoss" bottom: "x2" '
              'bottom: "m2" top: "l2" param { name: "log_sigma_x" } }\n')
    assert_fails_with(build_net(text), "log_sigma_x", "rec2", "shape mismatch")


def test_python_twin_reports_shapes():
    text = (input_layers(x=(2, 8, 1, 5), mu_x=(2, 7, 1, 5), z=(2, 3, 1, 5))
            + 'layer { name: "fv" type: "Python" bottom: "x" bottom: "mu_x" bottom: "z" '
              'top: "fv" python_param { module: "fisher_vector_layer" '
              'layer: "FisherVectorLayer" } }\n')
    assert_fails_with(build_net(text), "FisherVectorLayer", "(2, 8, 1, 5)", "(2, 7, 1, 5)")


def test_columns_to_sets_count_mismatch():
    # 2 sets of 5 descriptors need 10 columns, not 9
    res = build_net(input_layers(cols=(1, 3, 1, 9), x=(2, 8, 1, 5))
                    + 'layer { name: "split" type: "ColumnsToSets" bottom: "cols" bottom: "x" '
                      'top: "s" }\n')
    assert_fails_with(res, "ColumnsToSets layer 'split'", "columns 1 3 1 9",
                      "reference set 2 8 1 5", "N = 2, T = 5")
