"""Disk full: the first fault a run at the paper's scale meets.

A write that fails with ENOSPC (or EDQUOT) stops a tool with one line that
names the path, what is saved and about how much more space the rest needs;
every item committed before it stays (LMDB commits per batch, HDF5 rows are
flushed per batch), so a rerun after space is freed resumes and writes what
an uninterrupted run writes.
"""
import errno
import os
import shutil

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(exc, path=None, need=0):
    """Whether an exception (OSError, lmdb.Error, h5py's OSError) is a full
    disk: ENOSPC or EDQUOT, or, given the path written and the bytes the write
    needed, any write error where fewer bytes are free (LMDB reports a full
    tmpfs as mdb_txn_commit's EIO)."""
    if getattr(exc, "errno", None) in DISK_FULL:
        return True
    text = str(exc)
    if any(os.strerror(code) in text for code in DISK_FULL) or "ENOSPC" in text:
        return True
    return path is not None and free_bytes(path) < need


def free_bytes(path):
    """Free bytes on the file system that holds path (or its nearest parent)."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return shutil.disk_usage(path).free


def human(n):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return ("%d %s" if unit == "B" else "%.1f %s") % (n, unit)
        n /= 1000.0


def message(tool, path, saved, total, bytes_per_item):
    """The one line of a disk-full stop."""
    need = max(0, total - saved) * bytes_per_item
    return ("%s: disk full writing %s (%d of %d items saved); the rest needs about %s more, "
            "%s is free there: free space and run the same command again to continue"
            % (tool, path, saved, total, human(need), human(free_bytes(path))))
