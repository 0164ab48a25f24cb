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
  system_install chromium "Chromium is missing at $CHROMIUM_PATH and there is no apt-get: install it, or set CHROMIUM_PATH."
}

# Installs the system package $1 with apt-get (with sudo when not root), or
# stops with message $2 where there is no apt-get.
system_install() {
  say "installing $1 from the system's packages"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  if command -v apt-get >/dev/null; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1"
  else
    echo "$2" >&2
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

# Debian's package: 1.18 (transaction pooling without prepared-statement
# support, which the app does not need; see SLOTKEEPER_POSTGRES_POOLER).
ensure_pgbouncer() {
  if command -v pgbouncer >/dev/null; then return; fi
  system_install pgbouncer "PgBouncer is missing and there is no apt-get: install it."
}

# Debian's python3-aiosmtpd (1.4.3 on Debian 12), run with Debian's own
# Python: a real SMTP server for the browser suite to read the app's mail.
ensure_aiosmtpd() {
  if /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then return; fi
  system_install python3-aiosmtpd "aiosmtpd is missing for /usr/bin/python3 and there is no apt-get: install python3-aiosmtpd."
}

# Starts an SMTP server on a free port that keeps every message it is
# given in the Maildir $1 (its log in $2). Sets $smtp_url and $smtp_pid.
start_smtp() {
  local dir=$1 log=$2 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$dir" >"$log" 2>&1 &
  smtp_pid=$!
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      smtp_url="smtp://127.0.0.1:$port"
      return
    fi
    sleep 0.1
  done
  cat "$log" >&2 || true
  echo "the SMTP server did not start" >&2
  exit 1
}

# Starts PgBouncer in transaction pooling in front of the Postgres server
# of URL $1 (postgres://user[:password]@host[:port]/db), on a free port,
# with its config and log in a new folder. Sets $pgbouncer_url (the same
# server and user through the pooler, database name kept), $pgbouncer_pid
# and $pgbouncer_dir (for the caller to remove).
start_pgbouncer() {
  local url=$1 dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/slotkeeper-pgbouncer.XXXXXX")
  pgbouncer_dir=$dir
  local rest=${url#*://}
  local userinfo=${rest%%@*} hostpart=${rest#*@}
  local user=${userinfo%%:*} password=""
  if [ "$userinfo" != "$user" ]; then password=${userinfo#*:}; fi
  local hostport=${hostpart%%/*}
  local host=${hostport%%:*} port=5432
  if [ "$hostport" != "$host" ]; then port=${hostport#*:}; fi
  local listen
  listen=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf '"%s" "%s"\n' "$user" "$password" >"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=$host port=$port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  # PgBouncer refuses to run as root; it then runs as Postgres's user.
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres "$dir"
    as=(-u postgres)
  fi
  pgbouncer -d "${as[@]}" "$dir/pgbouncer.ini"
  for _ in $(seq 1 50); do
    if [ -s "$dir/pgbouncer.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$listen") 2>/dev/null; then
      pgbouncer_pid=$(cat "$dir/pgbouncer.pid")
      pgbouncer_url="postgres://$userinfo@127.0.0.1:$listen/${hostpart#*/}"
      return
    fi
    sleep 0.1
  done
  cat "$dir/pgbouncer.log" >&2 || true
  echo "PgBouncer did not start" >&2
  exit 1
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
  # Without an SMTP server, its mail goes beside its log.
  DATABASE_URL="$1" SLOTKEEPER_ADDR=127.0.0.1:0 LEPTOS_SITE_ROOT=target/site SLOTKEEPER_DEMO_DATA=on \
    SLOTKEEPER_MAIL_DIR="${SLOTKEEPER_MAIL_DIR:-$(dirname "$2")/mail}" \
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
