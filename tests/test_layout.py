"""The package's shape (issue 26): no file edits sys.path (the project is
installed into .venv by scripts/setup.sh), imports in the package go one
way along a frame's journey."""
import os
import re

import pytest

from conftest import ROOT

pytestmark = pytest.mark.quick     # scripts/test.sh --quick

SOURCES = ("fvvae", "tools", "bench", "tests", "data_prep", "python_layers")


def python_files():
    for top in SOURCES:
        for dirpath, _, names in os.walk(ROOT / top):
            for n in sorted(names):
                if n.endswith(".py"):
                    yield os.path.join(dirpath, n)


def test_no_file_edits_sys_path():
    edits = []
    for path in python_files():
        text = open(path).read()
        for m in re.finditer(r"sys\.path\.(insert|append|extend)\(|sys\.path\s*(\+?=|\[)", text):
            edits.append("%s:%d" % (os.path.relpath(path, ROOT),
                                    text.count("\n", 0, m.start()) + 1))
    assert not edits, "edits sys.path: %s" % ", ".join(edits)

