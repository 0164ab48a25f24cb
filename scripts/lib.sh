# Shared by scripts/run and scripts/test: installs what the build needs,
# once, into a folder outside the checkout, and skips what is there.
#
#   SLOTKEEPER_CACHE  where tools go (default ~/.cache/slotkeeper); later
#                     runs and other checkouts on the machine reuse them.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLOTKEEPER_CACHE=${SLOTKEEPER_CACHE:-$HOME/.cache/slotkeeper}
TOOLS=$SLOTKEEPER_CACHE/tools
export PATH="$TOOLS/bin:$HOME/.cargo/bin:$PATH"

# cargo-leptos 0.3.11 needs rustc 1.96; 0.3.10 builds with 1.95.
CARGO_LEPTOS_VERSION=0.3.10
# The wasm-bindgen command must equal the wasm-bindgen crate exactly, so
# its version is read from Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_leptos() {
  if [ "$(cargo-leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION into $TOOLS (about 20 minutes on 2 cores, once)"
    cargo install --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION" --root "$TOOLS"
  fi
}

ensure_wasm_bindgen() {
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION into $TOOLS (about 5 minutes, once)"
    # Not --locked: one of its locked dependencies is gone from the registry.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$TOOLS"
  fi
}

ensure_build_tools() {
  ensure_wasm_target
  ensure_cargo_leptos
  ensure_wasm_bindgen
}

CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
ensure_chromium() {
  if [ -x "$CHROMIUM_PATH" ]; then return; fi
  say "installing Chromium from the system's packages"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  if command -v apt-get >/dev/null; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
  else
    echo "Chromium is missing at $CHROMIUM_PATH and there is no apt-get: install it, or set CHROMIUM_PATH." >&2
    exit 1
  fi
}

ensure_node_modules() {
  local dir="$ROOT/end2end"
  if [ ! -d "$dir/node_modules/@playwright/test" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing the end-to-end suite's npm packages"
    # Playwright's browser download cannot work here; the system's Chromium is used.
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

# The variables cargo-leptos builds with. Exported for plain `cargo test`
# too, so that it reuses cargo-leptos's build instead of compiling a second
# copy of every crate.
leptos_build_env() {
  export LEPTOS_OUTPUT_NAME=slotkeeper LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg
  export LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001
  export LEPTOS_LIB_DIR=frontend LEPTOS_BIN_DIR=server
  export LEPTOS_JS_MINIFY=false LEPTOS_HASH_FILES=false
  export RUSTFLAGS="--cfg erase_components"
}

# Where cargo puts what it builds (CARGO_TARGET_DIR, or the workspace's).
cargo_target_dir() {
  cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4
}

# Starts the built app ($target_dir/debug/slotkeeper) on DATABASE_URL $1 at
# a free port, logging to $2, with the demo data; sets $url once it answers.
# Its pid joins the caller's `server_pids`, which the caller's cleanup ends.
start_app() {
  DATABASE_URL="$1" SLOTKEEPER_ADDR=127.0.0.1:0 LEPTOS_SITE_ROOT=target/site SLOTKEEPER_DEMO_DATA=on \
    RUST_LOG=warn,slotkeeper=info "$target_dir/debug/slotkeeper" >"$2" 2>&1 &
  local pid=$!
  server_pids+=("$pid")
  url=""
  for _ in $(seq 1 120); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$2" | head -1 | cut -d' ' -f3 || true)
    if [ -n "$url" ] && curl -fsS "$url/healthz" >/dev/null 2>&1; then return; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$2" >&2
      echo "the app did not start" >&2
      exit 1
    fi
    sleep 0.5
  done
  cat "$2" >&2
  echo "the app did not start listening" >&2
  exit 1
}

cd "$ROOT"
