"""`python -m tessera.ops`: the ops process with JSON logs (what `tessera run ops` will do)."""

from __future__ import annotations

import warnings

import authlib.deprecate

# quixstreams' schema-registry client imports authlib, which warns about its httpx module
# at import; authlib installs an "always" filter on its own import, so ours goes after.
warnings.filterwarnings("ignore", category=authlib.deprecate.AuthlibDeprecationWarning)

from tessera.config import load_settings  # noqa: E402
from tessera.telemetry import configure_logging  # noqa: E402

from .app import ROLE, main  # noqa: E402

if __name__ == "__main__":
    configure_logging(ROLE)
    main(load_settings())
