#!/bin/sh
# Installs what lca needs to build and test, when it is missing.
# As root it runs apt-get and npm; otherwise it prints the exact command and stops.
#   deploy/deps.sh         build, test and run
#   deploy/deps.sh bench   also the benchmarks' peers (FAISS, hnswlib) and tools
set -e
cd "$(dirname "$0")/.."

DEBS="build-essential pkg-config git libzmq3-dev libczmq-dev libh2o-evloop-dev libssl-dev
libcurl4-openssl-dev libcjson-dev libsqlite3-dev universal-ctags nodejs npm iproute2
valgrind docker-compose curl clang libclang-rt-14-dev chromium"
if [ "${1:-}" = bench ]; then
    DEBS="$DEBS python3-faiss python3-hnswlib python3-numpy time"
fi

missing=""
for p in $DEBS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
# nodejs/npm may come from elsewhere than Debian; a working node and npm are enough.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ')
fi
missing=$(echo $missing)

if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing $missing"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
    else
        echo "deps: missing Debian packages. Run:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y $missing" >&2
        exit 1
    fi
fi

# JavaScript packages of the tests: the client libraries of the compatibility
# tests (tests/clients), the real tokenizers the token estimates are held
# against (tests/tokens; their vocabularies ship inside the packages, so the
# tests need no network once installed), and playwright-core, which drives
# Debian's chromium through the status page (tests/ui; it downloads no browser).
for dir in tests/clients tests/tokens tests/ui; do
    if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules" ]; then
        echo "deps: installing npm packages for $dir"
        (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
    fi
done
