"""The paper's reported numbers, printed beside ours for orientation.

Each table: {method: (dimension, top-1 accuracy %)} (dimension 0 = not
stated), with the caption of the paper's table it comes from.
"""

# Table 2: UCF101 split 1, VGG_19 pool5 (C = 512), RGB frames.
TABLE2 = {"GA": (4096, 74.91), "Concatenation": (25088, 75.89), "AVE": (512, 73.25),
          "FV": (131072, 78.85), "VLAD": (131072, 80.67), "BP": (262144, 81.39),
          "FV-VAE⁻": (131072, 81.91), "FV-VAE": (131072, 83.45)}

# Table 3: UCF101 split 1, GA / FV-VAE- / FV-VAE on three trunks.
TABLE3 = {"pool5": {"GA": (4096, 74.91), "FV-VAE⁻": (131072, 81.91), "FV-VAE": (131072, 83.45)},
          "pool5 fine-tuned": {"GA": (4096, 79.06), "FV-VAE⁻": (131072, 82.05),
                               "FV-VAE": (131072, 82.13)},
          "res5c": {"GA": (2048, 81.57), "FV-VAE⁻": (524288, 85.05),
                    "FV-VAE": (524288, 86.33)}}

# Table 4: UCF101, three splits, x10 augmentation (the FV-VAE rows).
TABLE4 = {"FV-VAE-pool5": 83.9, "FV-VAE-pool5 optical flow": 89.5, "FV-VAE-res5c": 86.6,
          "FV-VAE-(pool5 + pool5 optical flow)": 93.7,
          "FV-VAE-(res5c + pool5 optical flow)": 94.2,
          "FV-VAE-(res5c + pool5 optical flow) + IDT": 95.2}

# Table 5: ActivityNet v1.3 validation: (top-1, top-3, mAP) %.
TABLE5 = {"vgg19_pool5": {"GA": (66.59, 82.70, 70.22), "FV-VAE": (72.51, 85.68, 77.25)},
          "resnet152_res5c": {"GA": (71.43, 86.45, 76.56), "FV-VAE": (78.55, 91.16, 84.09)}}

# Table 6: CUB-200-2011 accuracy %, without fine-tuning, without / with boxes.
TABLE6 = {"no box": {"GA": (4096, 61.0), "FV": (131072, 70.8), "VLAD": (131072, 73.5),
                     "BP": (262144, 75.2), "FV-VAE": (131072, 79.3)},
          "box": {"GA": (4096, 65.3), "FV": (131072, 73.6), "VLAD": (131072, 75.1),
                  "BP": (262144, 76.9), "FV-VAE": (131072, 79.5)},
          "no box, fine-tuned": {"GA": (4096, 70.4), "FV": (131072, 74.0),
                                 "VLAD": (131072, 76.5), "BP": (262144, 78.0),
                                 "FV-VAE": (131072, 82.4)},
          "box, fine-tuned": {"GA": (4096, 76.4), "FV": (131072, 77.1), "VLAD": (131072, 79.8),
                              "BP": (262144, 80.8), "FV-VAE": (131072, 83.6)}}


def table_for(dataset, trunk="vgg19_pool5", variant=""):
    """({method: (dimension, top-1 %)}, caption) for a data set's run."""
    if dataset == "ucf101":
        if trunk == "resnet152_res5c":
            return TABLE3["res5c"], "the paper's Table 3 (UCF101 split 1, ResNet_152 res5c)"
        if variant == "fine-tuned":
            return TABLE3["pool5 fine-tuned"], "the paper's Table 3 (UCF101 split 1, fine-tuned pool5)"
        return TABLE2, "the paper's Table 2 (UCF101 split 1, VGG_19 pool5)"
    if dataset == "activitynet":
        t = TABLE5.get(trunk, TABLE5["vgg19_pool5"])
        return ({m: (0, v[0]) for m, v in t.items()},
                "the paper's Table 5 (ActivityNet v1.3 validation, top-1; %s)" % trunk)
    if dataset == "cub":
        key = variant or "no box"
        return TABLE6[key], "the paper's Table 6 (CUB-200-2011, VGG_19 conv5_4, %s)" % key
    return {}, "no paper numbers for this data set"
