#!/usr/bin/env bash
# The deployment files against the binaries they run, without a Docker
# engine (tests/compose/run, `make test-compose`, runs them on one):
#   - docker-compose.yml and deploy/compose.gpu.yml are valid compose files
#     (`docker-compose config`, with and without the variables a user sets);
#   - every lca service runs one of our binaries, and every option it passes
#     (command, entrypoint, health check) appears in that binary's --help;
#   - what must stay private does: the gateway's HTTP port is published on
#     127.0.0.1 only, Ollama is not published, the broker has no network
#     address (a Unix socket in the lca-run volume, a tmpfs of mode 0700 that
#     belongs to LCA_UID:LCA_GID, mounted by lca's services only), the GPU
#     host joins with CURVE keys;
#   - every lca service, the seeder included, runs as LCA_UID:LCA_GID (the
#     caller, for private repositories), Ollama's image follows
#     LCA_OLLAMA_IMAGE;
#   - deploy/Dockerfile copies the binaries the compose files run, uses
#     Debian packages only and declares no VOLUME (no anonymous volumes).
#
# docker-compose (Debian's package) is installed when missing and we are root;
# otherwise the test fails and says what to install.
#
#   tests/integration/compose.sh                        # build/bin
#   LCA_BIN=build/san/bin tests/integration/compose.sh
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bin=${LCA_BIN:-build/bin}
case $bin in /*) ;; *) bin=$root/$bin ;; esac
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}"

tmp=$(mktemp -d /tmp/lca-compose-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'
}
check() { # name, command...
    local name=$1 out; shift
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}

if ! command -v docker-compose >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "# installing docker-compose"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; } \
            >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; }
    fi
fi
if ! command -v docker-compose >/dev/null 2>&1; then
    not_ok "docker-compose is installed" "install it: apt-get install docker-compose (deploy/deps.sh)"
    echo "1..$n"
    exit 1
fi
ok "docker-compose is installed ($(docker-compose version --short 2>/dev/null))"

# Resolved configurations, as the engine would see them.  Variables a user may
# set are cleared first so that the defaults are what is checked.
unset REPO COLLECTION LCA_PORT LCA_API_KEY LCA_LOG LCA_BROKER LCA_KEYS LCA_UID LCA_GID LCA_OLLAMA_IMAGE
check "docker-compose.yml is valid" docker-compose -f docker-compose.yml config -q
check "deploy/compose.gpu.yml is valid" docker-compose -f deploy/compose.gpu.yml config -q
# Compose v2 reads the same files; where its plugin is installed it checks them too.
if docker compose version >/dev/null 2>&1; then
    check "docker-compose.yml is valid for compose v2 ($(docker compose version --short 2>/dev/null))" \
        docker compose -f docker-compose.yml --profile seed config -q
    check "deploy/compose.gpu.yml is valid for compose v2" docker compose -f deploy/compose.gpu.yml config -q
fi
docker-compose -f docker-compose.yml config >"$tmp/main.yml" 2>"$tmp/main.err"
REPO=/srv/some/repo LCA_UID=4242 LCA_GID=4343 LCA_OLLAMA_IMAGE=example/ollama:pinned \
    docker-compose -f docker-compose.yml config >"$tmp/seed.yml" 2>"$tmp/seed.err"
LCA_BROKER=tcp://10.0.0.5:5556 LCA_KEYS=/srv/keys/gpu1 \
    docker-compose -f deploy/compose.gpu.yml config >"$tmp/gpu.yml" 2>"$tmp/gpu.err"
check "both files are valid with REPO, LCA_UID, LCA_GID, LCA_OLLAMA_IMAGE, LCA_BROKER, LCA_KEYS set" \
    test -s "$tmp/seed.yml" -a -s "$tmp/gpu.yml"

# The rest reads the resolved YAML (python3-yaml comes with docker-compose)
# and prints TAP lines of its own, numbered after ours.
python3 - "$bin" "$n" "$tmp" <<'EOF'
import os, re, subprocess, sys, yaml

bin_dir, n, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]
failed = 0

def tap(good, name, detail=""):
    global n, failed
    n += 1
    print(("ok" if good else "not ok"), n, "-", name)
    if not good:
        failed += 1
        for line in str(detail).splitlines():
            print("#  ", line)

def load(name):
    with open(os.path.join(tmp, name)) as f:
        return yaml.safe_load(f)

helps = {}
def help_text(argv):
    """--help of the binary (and `lca` subcommand) argv starts with."""
    binary = argv[0]
    key = tuple(argv[:2]) if binary == "lca" else (binary,)
    if key not in helps:
        path = os.path.join(bin_dir, binary)
        if not os.access(path, os.X_OK):
            helps[key] = None
        else:
            args = [path] + list(key[1:]) + ["--help"]
            r = subprocess.run(args, capture_output=True, text=True, timeout=20)
            helps[key] = r.stdout + r.stderr
    return helps[key]

def check_argv(where, argv):
    text = help_text(argv)
    if text is None:
        tap(False, f"{where}: {argv[0]} is one of lca's binaries", f"no {argv[0]} in {bin_dir}")
        return
    used = [a.split("=", 1)[0] for a in argv[1:] if a.startswith("--")]
    missing = [o for o in used if not re.search(re.escape(o) + r"(?![A-Za-z0-9-])", text)]
    tap(not missing, f"{where}: {' '.join(argv[:2] if argv[0] == 'lca' else argv[:1])} "
        f"knows {', '.join(used) or 'no options'}",
        f"not in `{argv[0]} --help`: {', '.join(missing)}")

def argv_of(service):
    def as_list(v):
        if v is None:
            return []
        return v if isinstance(v, list) else v.split()
    return [str(a) for a in as_list(service.get("entrypoint")) + as_list(service.get("command"))]

def lca_services(config):
    return {k: v for k, v in config["services"].items() if str(v.get("image", "")).startswith("lca")}

main, seed, gpu = load("main.yml"), load("seed.yml"), load("gpu.yml")

# Every lca service of both files: its program and options.
for file, config in (("docker-compose.yml", main), ("compose.gpu.yml", gpu)):
    for name, service in sorted(lca_services(config).items()):
        argv = argv_of(service)
        check_argv(f"{file} {name}", argv)
        test = (service.get("healthcheck") or {}).get("test")
        if isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"):
            hc = test[1:] if test[0] == "CMD" else test[1].split()
            check_argv(f"{file} {name} health check", hc)

# The services docker-compose.yml promises.
services = main["services"]
expected = {"gateway", "embedder", "retriever-0", "retriever-1", "generator", "ollama", "seeder"}
tap(expected <= set(services), "docker-compose.yml has " + ", ".join(sorted(expected)),
    f"missing: {sorted(expected - set(services))}")
shards = sorted(a for s in services.values() for i, a in enumerate(argv_of(s))
                if i and argv_of(s)[i - 1] == "--shard")
tap(shards == ["0/2", "1/2"], "retriever shards 0/2 and 1/2", f"got {shards}")

gw = services.get("gateway", {})
ports = gw.get("ports", [])
published = [p if isinstance(p, str) else f"{p.get('host_ip', '')}:{p.get('published')}:{p.get('target')}"
             for p in ports]
tap(published and all(p.startswith("127.0.0.1:") for p in published),
    "gateway's HTTP port is published on 127.0.0.1 only", f"ports: {published}")
others = {k: v.get("ports") for k, v in services.items() if k != "gateway" and v.get("ports")}
tap(not others, "no other service publishes a port (broker, Ollama stay private)", others)
tap("healthcheck" in gw and "lca" in argv_of({"command": gw["healthcheck"]["test"][1:]}),
    "gateway has a health check on /healthz (lca health)")
tap(all(v.get("restart") == "unless-stopped" for k, v in services.items() if k != "seeder")
    and services.get("seeder", {}).get("restart") == "no",
    "long-running services restart unless stopped; the seeder is one-shot")

# The broker: a Unix socket in lca-run, for lca's services only.
broker = "ipc:///run/lca/broker"
lca = lca_services(main)
bad = [k for k, v in lca.items()
       if v.get("environment", {}).get("LCA_BROKER") != broker
       or ("--broker" in argv_of(v) and argv_of(v)[argv_of(v).index("--broker") + 1] != broker)]
tap(not bad, f"the gateway, the workers and the seeder use the broker at {broker}", f"wrong: {bad}")
def mounts(service):
    return {(v.get("source"), v.get("target")) if isinstance(v, dict) else tuple(v.split(":")[:2])
            for v in service.get("volumes", [])}
bad = [k for k, v in services.items() if (("lca-run", "/run/lca") in mounts(v)) != (k in lca)]
tap(not bad, "every lca service mounts lca-run at /run/lca, and no other service does", f"wrong: {bad}")
gw_argv = argv_of(gw)
tap("--insecure-broker" not in gw_argv and not any(a.startswith("tcp://") for a in gw_argv)
    and not (gw.get("environment", {}).get("LCA_BROKER_INSECURE")),
    "the gateway's broker has no TCP address and no --insecure-broker", f"argv {gw_argv}")
def run_opts(config):
    return ((config.get("volumes", {}).get("lca-run") or {}).get("driver_opts") or {})
opts, opts_set = run_opts(main), run_opts(seed)
tap(opts.get("type") == "tmpfs" and "uid=10001,gid=10001,mode=0700" in str(opts.get("o"))
    and "uid=4242,gid=4343,mode=0700" in str(opts_set.get("o")),
    "lca-run is a tmpfs of mode 0700 owned by LCA_UID:LCA_GID (default 10001:10001)",
    f"without: {opts}, with LCA_UID=4242 LCA_GID=4343: {opts_set}")
tap(services.get("generator", {}).get("environment", {}).get("OLLAMA_HOST") == "http://ollama:11434",
    "generator streams from http://ollama:11434")
tap(any((v.get("source") if isinstance(v, dict) else v.split(":")[0]) == "lca-data"
        for k in ("retriever-0", "retriever-1") for v in services.get(k, {}).get("volumes", []))
    and "lca-data" in main.get("volumes", {}) and "ollama-models" in main.get("volumes", {}),
    "named volumes for the index (/data) and Ollama's models")

s = seed["services"]["seeder"]
argv, vols = argv_of(s), [str(v) for v in s.get("volumes", [])]
tap(argv[:2] == ["lca-seeder", "/srv/some/repo"] and any(
        v.startswith("/srv/some/repo:/srv/some/repo:ro") or
        ("/srv/some/repo" in v and "ro" in v) for v in vols),
    "REPO=… mounts the repository read-only and seeds it", f"argv {argv}, volumes {vols}")
tap("seed" in s.get("profiles", []), "the seeder runs only when asked (profile seed)")
users = {k: str(v.get("user")) for k, v in lca.items()}
users_set = {k: str(v.get("user")) for k, v in lca_services(seed).items()}
tap(set(users.values()) == {"10001:10001"} and set(users_set.values()) == {"4242:4343"},
    "every lca service, the seeder included, runs as LCA_UID:LCA_GID (default lca's 10001:10001)",
    f"without them: {users}, with them: {users_set}")
tap(services["ollama"].get("image") == "ollama/ollama:latest"
    and seed["services"]["ollama"].get("image") == "example/ollama:pinned",
    "Ollama's image is ollama/ollama:latest unless LCA_OLLAMA_IMAGE names another",
    f"{services['ollama'].get('image')}, {seed['services']['ollama'].get('image')}")

g = gpu["services"]
gen = g.get("generator", {})
argv = argv_of(gen)
tap("--broker" in argv and argv[argv.index("--broker") + 1] == "tcp://10.0.0.5:5556"
    and gen.get("environment", {}).get("LCA_CURVE_DIR") == "/keys"
    and any(str(v).startswith("/srv/keys/gpu1:/keys") or "/srv/keys/gpu1" in str(v)
            for v in gen.get("volumes", [])),
    "GPU host: the generator joins LCA_BROKER over CURVE with the keys in LCA_KEYS",
    f"argv {argv}, env {gen.get('environment')}, volumes {gen.get('volumes')}")
tap(not any(v.get("ports") for v in g.values()), "GPU host publishes no port (it connects out)")
tap(g.get("ollama", {}).get("image") == "ollama/ollama:latest", "GPU host: Ollama from ollama/ollama:latest")
devices = (((g.get("ollama", {}).get("deploy") or {}).get("resources") or {})
           .get("reservations") or {}).get("devices") or []
tap(any("gpu" in (d.get("capabilities") or []) for d in devices), "GPU host: Ollama reserves the GPU")

# The Dockerfile: Debian base, packages only from apt, binaries installed.
with open("deploy/Dockerfile") as f:
    docker = f.read()
froms = re.findall(r"^FROM\s+(\S+)", docker, re.M)
tap(froms and all(x == "debian:bookworm-slim" for x in froms) and len(froms) == 2,
    "Dockerfile: two stages on debian:bookworm-slim", f"FROM {froms}")
runtime = docker[docker.rindex("FROM"):]
need = "libzmq5 libczmq4 libh2o-evloop0.13 libcurl4 libcjson1 libsqlite3-0 libssl3 universal-ctags git ca-certificates".split()
tap(all(re.search(r"\b" + re.escape(p) + r"\b", runtime) for p in need) and "-dev" not in runtime,
    "Dockerfile: runtime stage has the runtime libraries and no -dev package")
tap(re.search(r"^USER\s+(?!root|0\b)\S+", runtime, re.M) is not None
    and "COPY --from=build /src/build/bin/ /usr/local/bin/" in runtime
    and re.search(r"LCA_DATA=/data", runtime) is not None,
    "Dockerfile: non-root user, binaries in /usr/local/bin, LCA_DATA=/data")
tap(re.search(r"^\s*VOLUME\b", docker, re.M | re.I) is None,
    "Dockerfile: no VOLUME, so no service gets an anonymous volume")
exposed = re.findall(r"^EXPOSE\s+(.*)$", runtime, re.M)
tap(exposed == ["11435"], "Dockerfile: only the HTTP port is exposed (the broker has none)", f"EXPOSE {exposed}")
tap("/run/lca" not in re.sub(r"^#.*$", "", runtime, flags=re.M)
    and re.search(r"chmod 1777 /data\b", runtime) is not None,
    "Dockerfile: /data takes the files of any LCA_UID (1777); no /run/lca to cover lca-run's owner and mode")
with open(".dockerignore") as f:
    ignored = f.read().split()
tap("build" in ignored and ".git" in ignored, ".dockerignore keeps build/ and .git out of the context")

print(f"1..{n}")
sys.exit(1 if failed else 0)
EOF
py=$?
[ "$failed" -eq 0 ] && [ "$py" -eq 0 ]
