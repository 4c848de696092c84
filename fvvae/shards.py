"""Sharded extraction: `--shard i/N` makes a tool do the i-th of N
contiguous blocks of its items (descriptor sets) or groups (FVs) and write
PATH.shard-i-of-N; tools/merge_shards.py combines the N parts into PATH,
checking that none is missing, incomplete or overlapping. Descriptor stores
keep the global item index as their key, and FV rows keep the group order,
so the merged output holds what one unsharded run writes."""
import os

import numpy as np


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


def merge_stores(out, n, expected=None):
    """Merges PATH.shard-*-of-n descriptor stores into `out`; expected: the
    number of items the list has (every index 0..expected-1 must be there)."""
    from fvvae.descriptor_store import DescriptorStore
    parts = [shard_path(out, i, n) for i in range(n)]
    missing = [p for p in parts if not os.path.isdir(p)]
    if missing:
        raise FileNotFoundError("shards missing: %s" % ", ".join(missing))
    # shards of a shuffled store share its order: keys are positions in it,
    # copied as they are, and the merged store keeps the order
    first = DescriptorStore(parts[0], readonly=True)
    order = first.order
    first.close()
    merged = DescriptorStore(out, shuffle=order and (order["seed"], order["count"]))
    seen = {int(k) for k in merged.env.begin().cursor().iternext(keys=True, values=False)}
    for p in parts:
        store = DescriptorStore(p, readonly=True)
        with store.env.begin() as src, merged.env.begin(write=True) as dst:
            for key, raw in src.cursor():
                if int(key) in seen and dst.get(key) != raw:
                    raise ValueError("%s: item %d differs from another shard's" % (p, int(key)))
                dst.put(key, raw)
                seen.add(int(key))
        store.close()
    if expected is not None and seen != set(range(expected)):
        lost = sorted(set(range(expected)) - seen)
        raise ValueError("%s: %d of %d items missing after the merge (first: %s): a shard is "
                         "incomplete; re-run it" % (out, len(lost), expected, lost[:5]))
    merged.close()
    return len(seen)


def merge_features(out, n):
    """Concatenates the rows of PATH.shard-*-of-n representation files, in
    shard order, into `out` (written atomically)."""
    import h5py
    parts = [shard_path(out, i, n) for i in range(n)]
    data, attrs = {}, None
    for p in parts:
        if not os.path.isfile(p):
            raise FileNotFoundError("%s: shard missing" % p)
        with h5py.File(p, "r") as f:
            rows = f["features"].shape[0]
            if int(f.attrs.get("done", rows)) != rows:
                raise ValueError("%s: only %d of %d rows written: re-run the shard"
                                 % (p, int(f.attrs["done"]), rows))
            for name in f:
                data.setdefault(name, []).append(f[name].asstr()[:] if name == "ids"
                                                 else f[name][:])
            attrs = attrs or dict(f.attrs)
    data = {name: np.concatenate(chunks) for name, chunks in data.items()}
    with h5py.File(out + ".tmp", "w") as f:
        for name, values in data.items():
            if name == "ids":
                f.create_dataset(name, data=values.astype(object), dtype=h5py.string_dtype())
            else:
                f.create_dataset(name, data=values)
        f.attrs.update(attrs)
        f.attrs["done"] = len(data["labels"])
    os.replace(out + ".tmp", out)
    return len(data["labels"])
