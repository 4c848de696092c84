"""fvvae.run.stages: a stage whose inputs changed starts from nothing; an
interrupted one resumes what its tools left."""
import os

import pytest

from fvvae.run.stages import Stages


pytestmark = pytest.mark.quick     # scripts/test.sh --quick


def appending(path, rows):
    """A tool that resumes: it keeps what the file holds and adds the rest."""
    def fn():
        have = open(path).read().split() if os.path.exists(path) else []
        with open(path, "w") as f:
            f.write(" ".join(have + rows[len(have):]))
        return len(rows)
    return fn


def test_changed_inputs_start_afresh_and_interruptions_resume(tmp_path):
    out = str(tmp_path / "rows.txt")
    stages = Stages(str(tmp_path))
    # interrupted before any record: the tool's partial output is resumed
    with open(out, "w") as f:
        f.write("a")
    stages.run("s", {"list": "v1"}, [out], appending(out, ["a", "b"]))
    assert open(out).read() == "a b"
    # same inputs: reused, fn not called
    stages.run("s", {"list": "v1"}, [out], lambda: 1 / 0)
    # other inputs (same count of rows): the old rows must not survive
    stages.run("s", {"list": "v2"}, [out], appending(out, ["x", "y"]))
    assert open(out).read() == "x y"
    # a folder output too
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / "old").write_text("stale")
    stages.run("d", {"k": 1}, [str(folder)], lambda: (folder / "new").write_text("1") and 0)
    stages.run("d", {"k": 2}, [str(folder)],
               lambda: (folder.mkdir(exist_ok=True), (folder / "new").write_text("2"))[1])
    assert sorted(os.listdir(folder)) == ["new"] and (folder / "new").read_text() == "2"
