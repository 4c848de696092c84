"""Sharded extraction: `--shard i/N` makes a tool do the i-th of N
contiguous blocks of its items (descriptor sets) or groups (FVs) and write
PATH.shard-i-of-N; tools/merge_shards.py combines the N parts into PATH,
checking that none is missing, incomplete or overlapping. Descriptor stores
keep the global item index as their key, and FV rows keep the group order,
so the merged output holds what one unsharded run writes."""
import os


def parse_shard(text):
    """'i/N' -> (i, N), 0 <= i < N."""
    try:
        i, n = (int(v) for v in text.split("/"))
    except (ValueError, AttributeError):
        raise ValueError("--shard %r: expected i/N, e.g. 0/4" % (text,)) from None
    if n < 1 or not 0 <= i < n:
        raise ValueError("--shard %s: need 0 <= i < N" % text)
    return i, n


def block(count, i, n):
    """The i-th of n contiguous blocks of range(count), as (start, end)."""
    return count * i // n, count * (i + 1) // n


def shard_path(path, i, n):
    return "%s.shard-%d-of-%d" % (path.rstrip("/"), i, n)


def merge_stores(out, n, expected=None, parts=None, consume=False, batch=1000):
    """Merges PATH.shard-*-of-n descriptor stores (or `parts`, in order) into
    `out`; expected: the number of items the list has (every index
    0..expected-1 must be there). Records are copied `batch` to a write
    transaction: LMDB holds a transaction's dirty pages until it commits (or
    spills them), and one part of a paper-size store is gigabytes; committed
    batches also keep what a killed merge copied. consume: each part is deleted once it is
    copied (the merge then needs the room of one part, not of all), leaving
    PART.merged behind so that a merge killed half way resumes."""
    import shutil
    from fvvae.data.descriptor_store import DescriptorStore
    if parts is None:
        parts = [shard_path(out, i, n) for i in range(n)]
    done = [consume and os.path.exists(p.rstrip("/") + ".merged") for p in parts]
    missing = [p for p, d in zip(parts, done) if not d and not os.path.isdir(p)]
    if missing:
        raise FileNotFoundError("shards missing: %s" % ", ".join(missing))
    # shards of a shuffled store share its order: keys are positions in it,
    # copied as they are, and the merged store keeps the order
    first = DescriptorStore(next(p for p, d in zip(parts, done) if not d), readonly=True) \
        if not all(done) else None
    order = first.order if first else None
    if first:
        first.close()
    merged = DescriptorStore(out, shuffle=order and (order["seed"], order["count"]))
    seen = {int(k) for k in merged.env.begin().cursor().iternext(keys=True, values=False)}
    for p, d in zip(parts, done):
        if d:
            continue
        store = DescriptorStore(p, readonly=True)
        with store.env.begin() as src:
            cursor = src.cursor()
            more = cursor.first()
            while more:
                with merged.env.begin(write=True) as dst:
                    for _ in range(batch):
                        key, raw = cursor.key(), cursor.value()
                        if int(key) in seen and dst.get(key) != raw:
                            raise ValueError("%s: item %d differs from another shard's"
                                             % (p, int(key)))
                        dst.put(key, raw)
                        seen.add(int(key))
                        more = cursor.next()
                        if not more:
                            break
        store.close()
        if consume:
            merged.env.sync(True)
            open(p.rstrip("/") + ".merged", "w").close()
            shutil.rmtree(p)
    if expected is not None and seen != set(range(expected)):
        lost = sorted(set(range(expected)) - seen)
        raise ValueError("%s: %d of %d items missing after the merge (first: %s): a shard is "
                         "incomplete; re-run it" % (out, len(lost), expected, lost[:5]))
    merged.close()
    return len(seen)


def merge_features(out, n, parts=None, block=256):
    """Concatenates the rows of PATH.shard-*-of-n representation files (or of
    `parts`, in order: a streamed run's chunk files), in shard order, into
    `out`, written atomically. Rows are copied in blocks, so the merge needs
    the memory of a block, not of the file; the dtype (compact files:
    float16) and the attributes are kept."""
    import h5py
    if parts is None:
        parts = [shard_path(out, i, n) for i in range(n)]
    total, cols, dtype, attrs, names = 0, None, None, None, None
    for p in parts:
        if not os.path.isfile(p):
            raise FileNotFoundError("%s: shard missing" % p)
        with h5py.File(p, "r") as f:
            rows, width = f["features"].shape
            if int(f.attrs.get("done", rows)) != rows:
                raise ValueError("%s: only %d of %d rows written: re-run the shard"
                                 % (p, int(f.attrs["done"]), rows))
            if cols is not None and (width, f["features"].dtype) != (cols, dtype):
                raise ValueError("%s: %d %s columns, the first part has %d %s" % (
                    p, width, f["features"].dtype, cols, dtype))
            cols, dtype = width, f["features"].dtype
            attrs = attrs or dict(f.attrs)
            names = names or [k for k in f if k not in ("labels", "ids")]
            total += rows
    with h5py.File(out + ".tmp", "w") as dst:
        for name in names:
            dst.create_dataset(name, (total, cols), dtype)
        dst.create_dataset("labels", (total,), "i8")
        dst.create_dataset("ids", (total,), h5py.string_dtype())
        at = 0
        for p in parts:
            with h5py.File(p, "r") as src:
                rows = src["features"].shape[0]
                dst["labels"][at:at + rows] = src["labels"][:]
                dst["ids"][at:at + rows] = src["ids"].asstr()[:].astype(object)
                for start in range(0, rows, block):
                    stop = min(rows, start + block)
                    for name in names:
                        dst[name][at + start:at + stop] = src[name][start:stop]
                at += rows
        dst.attrs.update(attrs)
        dst.attrs["done"] = total
    os.replace(out + ".tmp", out)
    return total
