"""Files the project writes and checks: written whole or not at all
(atomic, atomic_write: a long job killed mid-write leaves the old file or
none, never half of one), and what a file holds, as a content digest or a
size-and-time signature (the keys of resumable stages and outputs)."""
import contextlib
import hashlib
import os


@contextlib.contextmanager
def atomic(path, mode="w", **kwargs):
    """open(PATH.tmp, mode) for the block; moved over PATH when the block
    ends, removed when it raises."""
    tmp = path + ".tmp"
    try:
        with open(tmp, mode, **kwargs) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write(path, data):
    """PATH holds `data` (str or bytes), written atomically."""
    with atomic(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


def digest(path, chunk=1 << 22):
    """SHA-256 of a file, or of a folder's files (LMDB's lock file left out)."""
    h = hashlib.sha256()
    if os.path.isdir(path):
        for root, dirs, files in sorted(os.walk(path)):
            dirs.sort()
            for name in sorted(files):
                if name == "lock.mdb":
                    continue
                full = os.path.join(root, name)
                h.update(os.path.relpath(full, path).encode())
                h.update(digest(full).encode())
        return h.hexdigest()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def signature(path):
    """Sizes and modification times of a file, or of a folder's files."""
    if os.path.isdir(path):
        parts = []
        for root, dirs, files in sorted(os.walk(path)):
            dirs.sort()
            for name in sorted(files):
                if name != "lock.mdb":
                    st = os.stat(os.path.join(root, name))
                    parts.append("%s:%d:%d" % (os.path.relpath(os.path.join(root, name), path),
                                               st.st_size, st.st_mtime_ns))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()
    st = os.stat(path)
    return "%d:%d" % (st.st_size, st.st_mtime_ns)
