#!/usr/bin/env bash
# Installs stripe-mock (the official Stripe API mock, a Go module) into <project>/.tessera/bin.
# Idempotent: an existing binary is left alone. Needs only the Go module proxy.
set -euo pipefail

STRIPE_MOCK_VERSION="${STRIPE_MOCK_VERSION:-v0.203.0}"
PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="${TESSERA_HOME:-$PROJECT_ROOT/.tessera}/bin"
GO="${GO:-/usr/local/go/bin/go}"
command -v "$GO" >/dev/null 2>&1 || GO="go"

if [[ -x "$BIN_DIR/stripe-mock" ]]; then
    echo "stripe-mock already installed at $BIN_DIR/stripe-mock"
    exit 0
fi

mkdir -p "$BIN_DIR"
# The binary embeds the OpenAPI spec and fixtures, so the version pins the mocked API too.
GOBIN="$BIN_DIR" GOFLAGS="${GOFLAGS:--buildvcs=false}" \
    "$GO" install "github.com/stripe/stripe-mock@${STRIPE_MOCK_VERSION}"
echo "installed stripe-mock ${STRIPE_MOCK_VERSION} at $BIN_DIR/stripe-mock"
