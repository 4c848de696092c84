"""Where the project finds what it does not ship.

The authors' release is their public repository fv-vae/fv-vae, read in its
own layout: a clone's vae_models/caffe_vae_weights_ucf101_split{1,2,3}_vgg19.mat
(checked against the SHA-256 below before use) and example_images/*.jpg.
$FVVAE_OFFICIAL_DIR names the clone; without it, ../shared/reference/fv-vae
beside this repository (this team's copy of that clone) is looked in.
"""
import os

from fvvae import ROOT

OFFICIAL_ENV = "FVVAE_OFFICIAL_DIR"
OFFICIAL_REPO = "https://github.com/fv-vae/fv-vae"
# sha256 of the released weights (fv-vae/fv-vae at commit 07e9cbed1b69)
OFFICIAL_SHA256 = {
    1: "b3340881f538ddb878e52fad86a8c4fb5a74342f678aa076756af796a2bfc98e",
    2: "8b60055dfb9d528709e698c40498f7eec3f229e599fe6a9f98045b2bc882e7e2",
    3: "5772bf174a5ea66049f0bce260e828196d333084e02aa14e79863d8cb93cf3c8",
}


class OfficialMissing(FileNotFoundError):
    pass


def official_dir():
    """The clone of the authors' repository: $FVVAE_OFFICIAL_DIR, else
    ../shared/reference/fv-vae beside this repository."""
    return os.environ.get(OFFICIAL_ENV,
                          os.path.join(os.path.dirname(ROOT), "shared", "reference", "fv-vae"))


def official_weights(split, check=True):
    """vae_models/caffe_vae_weights_ucf101_split{split}_vgg19.mat of the clone,
    its SHA-256 checked; OfficialMissing (naming the variable and where to
    get it) when absent, ValueError when the checksum differs."""
    path = os.path.join(official_dir(), "vae_models",
                        "caffe_vae_weights_ucf101_split%d_vgg19.mat" % split)
    if not os.path.isfile(path):
        raise OfficialMissing(
            "%s: the authors' released weights are not there; set %s to a clone of %s "
            "(git clone %s)" % (path, OFFICIAL_ENV, OFFICIAL_REPO, OFFICIAL_REPO))
    if check:
        got = check_release_mat(path)
        if got != split:
            raise ValueError("%s: sha256 is the release's split %d file, not split %d's"
                             % (path, got, split))
    return path


def check_release_mat(path):
    """The split (1, 2, 3) whose released .mat `path` is, by its SHA-256;
    FileNotFoundError when absent, ValueError naming the file when it is
    none of the release's (a different or damaged file)."""
    from fvvae.trunks.zoo import sha256_of
    if not os.path.isfile(path):
        raise FileNotFoundError("%s: no such file (expected one of the authors' "
                                "caffe_vae_weights_ucf101_split*_vgg19.mat)" % path)
    got = sha256_of(path)
    for split, want in OFFICIAL_SHA256.items():
        if got == want:
            return split
    raise ValueError("%s: sha256 %s is none of the release's three files (fv-vae/fv-vae "
                     "at commit 07e9cbed1b69: a different or damaged file; --any-mat "
                     "accepts your own)" % (path, got))


def official_example_images():
    """The clone's example_images/*.jpg (sorted; [] when absent)."""
    folder = os.path.join(official_dir(), "example_images")
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".jpg"))
