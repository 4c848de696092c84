"""The package's shape (issue 26): no file edits sys.path (the project is
installed into .venv by scripts/setup.sh, `pip install -e .`), imports in the package go one
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


def test_the_project_is_installed_as_a_package_not_put_on_the_path():
    # pyproject.toml, `pip install -e .` in scripts/setup.sh: from outside the
    # checkout, with the repository's root on no path, the packages import
    # from it and the distribution knows its version
    import subprocess
    probe = ("import importlib.metadata as m, sys, fvvae, data_prep, bench\n"
             "root = %r\n"
             "assert root not in [p.rstrip('/') for p in sys.path], sys.path\n"
             "assert fvvae.__file__.startswith(root + '/fvvae/'), fvvae.__file__\n"
             "assert bench.__file__.startswith(root + '/bench/'), bench.__file__\n"
             "print(m.version('fvvae-caffe'), fvvae.__version__)" % str(ROOT))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", probe], cwd="/",
                         env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    installed, package = res.stdout.split()
    assert installed == package



# A frame's journey: a room may import only the rooms before it (and files,
# the atomic writes and digests every room uses); nothing but tools/ imports run.
MAY_IMPORT = {
    "files": set(),
    "data": {"files"},
    "trunks": {"files", "data"},
    "model": {"files", "data", "trunks"},
    "baselines": {"files", "data", "trunks", "methods"},
    "evaluation": {"files", "data"},
    "methods": set(),
    "testing": {"files", "data", "trunks"},
    "run": {"files", "data", "trunks", "model", "baselines", "evaluation", "methods"},
}


def room(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "fvvae"


def test_imports_go_one_way_along_the_journey():
    import ast
    wrong = []
    for path in python_files():
        rel = os.path.relpath(path, ROOT)
        if not rel.startswith("fvvae" + os.sep) or rel == os.path.join("fvvae", "__init__.py"):
            continue
        src = room(rel[:-3].replace(os.sep, "."))
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("fvvae."):
                dst = room(node.module)
                if dst != src and dst not in MAY_IMPORT[src]:
                    wrong.append("%s:%d imports %s" % (rel, node.lineno, node.module))
    assert not wrong, "\n".join(wrong)


def test_each_method_is_declared_once():
    """Only fvvae/methods.py lists the methods: no other module-level
    constant of the package or the tools names four or more of them (by
    name or by encode.py key); the paper's numbers (evaluation/paper.py)
    are the paper's data, keyed by name."""
    import ast
    from fvvae.methods import METHODS
    names = {m.name for m in METHODS} | {m.key for m in METHODS if m.key != "fvvae"}
    lists = []
    for path in python_files():
        rel = os.path.relpath(path, ROOT)
        if not rel.startswith(("fvvae", "tools")) or rel.endswith(
                (os.path.join("fvvae", "methods.py"), os.path.join("evaluation", "paper.py"))):
            continue
        for node in ast.parse(open(path).read()).body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                found = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
                         and isinstance(n.value, str)} & names
                if len(found) >= 4:
                    lists.append("%s:%d %s" % (rel, node.lineno, sorted(found)))
    assert not lists, "methods declared outside fvvae/methods.py:\n" + "\n".join(lists)


def is_module(dotted):
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_no_circle_of_imports_in_the_package():
    """No circle of imports between the package's modules (imports inside
    functions count: a circle hidden in a function is still one; a package's
    __init__ is a module of its own)."""
    import ast
    edges = {}
    for path in python_files():
        rel = os.path.relpath(path, ROOT)
        if not rel.startswith("fvvae" + os.sep):
            continue
        mod = rel[:-3].replace(os.sep, ".").replace(".__init__", "")
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("fvvae.")]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                    (node.module + ".").startswith("fvvae."):
                # `from fvvae.run import streaming` imports the module streaming
                targets = [node.module + "." + a.name if is_module(node.module + "." + a.name)
                           else node.module for a in node.names]
            else:
                continue
            edges.setdefault(mod, set()).update(t for t in targets if t != mod)
    circles, state = [], {}

    def visit(m, stack):
        state[m] = "open"
        for n in sorted(edges.get(m, ())):
            if state.get(n) == "open":
                circles.append(" -> ".join(stack[stack.index(n):] + [n]))
            elif n not in state:
                visit(n, stack + [n])
        state[m] = "done"
    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert not circles, "circles of imports:\n" + "\n".join(circles)
