#!/usr/bin/env python
"""Expands an image/frame list to the ten crops of "x10 augmentation" testing
(the four corners and the centre, each mirrored; Table 4 and the authors'
released accuracies): ten lines per item with a CROP column, the item's group
kept, so that tools/extract_fv.py averages the FVs of the crops.

    .venv/bin/python tools/ten_crop_list.py --list test.txt --out test_10crop.txt
"""
import argparse



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", required=True, help="PATH LABEL [GROUP] per line")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    from data_prep.prepare import write_list
    from fvvae.data.image_list import ten_crop_lines
    try:
        lines = ten_crop_lines(args.list)
    except (OSError, ValueError) as e:
        ap.exit(2, "ten_crop_list: %s\n" % e)
    write_list(args.out, lines)
    print("%d lines (10 crops of %d items) in %s" % (len(lines), len(lines) // 10, args.out))


if __name__ == "__main__":
    main()
