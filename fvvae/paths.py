"""Where the project finds what it does not ship."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def official_dir():
    """The authors' released artifacts (weights, example frames):
    $FVVAE_OFFICIAL_DIR, else ../shared/reference/fv-vae-official beside the clone."""
    return os.environ.get("FVVAE_OFFICIAL_DIR",
                          os.path.join(os.path.dirname(ROOT), "shared", "reference",
                                       "fv-vae-official"))
