"""Caffe's own test suites on this build, patches 0001-0009 applied: the
gtest suite's CPU cases (build/caffe-build/test/test.testbin, built by
scripts/setup.sh through the same ccache) and pycaffe's unit tests
(python/caffe/test, test_draw.py included: pydot and graphviz are installed).
A patch that breaks Caffe itself fails here."""
import os
import re
import subprocess
import sys

from conftest import CAFFE_BUILD, ROOT

CAFFE_SRC = ROOT / "build" / "caffe-src"


def test_caffe_gtest_suite_cpu_cases():
    binary = CAFFE_BUILD / "test" / "test.testbin"
    assert binary.exists(), "scripts/setup.sh builds test.testbin"
    res = subprocess.run([str(binary), "--gtest_filter=-*GPU*"],
                         capture_output=True, text=True, timeout=3600, cwd=str(CAFFE_SRC),
                         env=dict(os.environ, GLOG_minloglevel="2"))
    tail = res.stdout[-4000:] + res.stderr[-2000:]
    assert res.returncode == 0, tail
    passed = re.search(r"\[  PASSED  \] (\d+) tests?", res.stdout)
    assert passed and int(passed.group(1)) > 1000, tail      # 1,162 on this build
    assert "FAILED" not in res.stdout


def test_pycaffe_unit_tests_with_draw():
    import pydot  # noqa: F401  (test_draw.py needs it; requirements.txt pins it)
    tests = CAFFE_SRC / "python" / "caffe" / "test"
    assert (tests / "test_draw.py").exists()
    res = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s", str(tests)],
                         capture_output=True, text=True,
                         timeout=1800, cwd=str(CAFFE_SRC / "python"))
    assert res.returncode == 0, res.stderr[-4000:]
    ran = re.search(r"Ran (\d+) tests?", res.stderr)
    assert ran and int(ran.group(1)) >= 52, res.stderr[-2000:]    # 52 with test_draw.py
    assert re.search(r"\nOK", res.stderr) and "skipped" not in res.stderr.split("Ran")[-1]
