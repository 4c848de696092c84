"""bench/scale.py end to end on a small fabricated UCF101 tree: the streamed
run it measures, and its projection table (bench/results/scale.csv's
columns and rows) consistent with its own parts."""
import csv
import re
import subprocess

from conftest import ROOT


def test_scale_bench_measures_a_streamed_run_and_projects_the_three_data_sets(tmp_path):
    out = tmp_path / "results"
    res = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "bench" / "scale.py"),
                          "--videos-per-class", "2", "--frames", "2", "--chunk", "1",
                          "--workdir", str(tmp_path / "work"), "--out", str(out)],
                         capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    rows = {r["dataset"]: r for r in csv.DictReader(open(out / "scale.csv"))}
    assert list(rows) == ["UCF101 split 1 (10-crop)", "ActivityNet v1.3 (res5c)", "CUB-200-2011"]
    for r in rows.values():
        peak, final = float(r["disk_peak_gb"]), float(r["disk_final_gb"])
        parts = float(r["stores_gb"]) + float(r["representations_gb"]) + float(r["frames_jpeg_gb"])
        assert abs(final - parts) <= 0.16, r                     # rounding of the parts
        assert abs(peak - final - float(r["chunk_stores_gb"])) <= 0.11, r
        assert 0 < float(r["ram_peak_gb"]) <= 24, r
    assert rows["UCF101 split 1 (10-crop)"]["frames"] == str(9537 * 25 + 3783 * 250)
    assert rows["UCF101 split 1 (10-crop)"]["target_disk_gb"] == "60"
    assert rows["ActivityNet v1.3 (res5c)"]["target_disk_gb"] == "250"
    md = (out / "scale.md").read_text()
    # the run was streamed and its sampled peak is above what it left
    m = re.search(r"disk ([\d.]+) GB at the peak .*?, ([\d.]+) GB at the end, a chunk's stores "
                  r"([\d.]+) GB", md)
    assert m and float(m.group(1)) >= float(m.group(2)) > 0 and float(m.group(3)) > 0, md[:600]
    assert "| bytes per stored value, BP representation files (compact) |" in md
