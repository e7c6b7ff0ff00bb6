#!/usr/bin/env bash
# `make docker-test`: the container path built and run for real, as a user would.
#
# Starts a Docker daemon of its own (state in a temporary folder, no bridge of its own, no
# iptables or ip_forward changes), makes or reuses local base images (Debian bookworm from
# debootstrap: a Python image and a PostgreSQL 15 image; no registry is needed), builds the
# project image from ./Dockerfile, brings docker-compose.yml up with them and checks:
# /readyz and a profile answer, `juriscope keys create` works through `docker-compose run`,
# a written value survives the stack being taken down and up again (the volume kept it),
# the API runs read-only as a non-root user in an image without compilers. Then
# `docker-compose down -v`, the daemon stopped and the host's network state restored,
# whatever happened.
#
# Needs root and Debian's docker.io, docker-compose and debootstrap (installed with apt when
# missing). JURISCOPE_DOCKER_TEST_OPTIONAL=1 (as .ci/run sets it): when the test cannot run
# here, say why and exit 0. JURISCOPE_DOCKER_CACHE: where base images are kept between runs
# (default ~/.cache/juriscope-docker).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${JURISCOPE_DOCKER_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/juriscope-docker}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Debian's client: the one from the docker.io package, whatever else is earlier on PATH.
DOCKER=/usr/bin/docker
COMPOSE=/usr/bin/docker-compose
PROJECT=juriscope-ci
START=$SECONDS

say() { printf '[docker-test %3ds] %s\n' "$((SECONDS - START))" "$*"; }

skipped=""
unable() {
    if [ "${JURISCOPE_DOCKER_TEST_OPTIONAL:-}" = 1 ]; then
        skipped=1
        say "skipped: $*"
        exit 0
    fi
    say "cannot run: $*" >&2
    exit 1
}

# --- What it needs --------------------------------------------------------------------------

[ "$(uname -s)" = Linux ] || unable "needs Linux"
[ "$(id -u)" = 0 ] || unable "needs root (it starts its own dockerd)"
command -v curl > /dev/null || unable "needs curl"
command -v python3 > /dev/null || unable "needs python3"

missing=()
[ -x "$DOCKER" ] && [ -x /usr/sbin/dockerd ] || missing+=(docker.io)
[ -x "$COMPOSE" ] || missing+=(docker-compose)
command -v debootstrap > /dev/null || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get > /dev/null || unable "needs ${missing[*]} and there is no apt-get"
    say "installing ${missing[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}"; } > /tmp/juriscope-docker-apt.log 2>&1 \
        || unable "apt-get install ${missing[*]} failed (see /tmp/juriscope-docker-apt.log)"
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2> /dev/null \
    || unable "the kernel has no overlay filesystem"

# --- Its own daemon, and the host put back as it was ----------------------------------------

WORK="$(mktemp -d /tmp/juriscope-docker.XXXXXX)"
# In memory: faster image loads and builds, and nothing to delete file by file at the end.
mount -t tmpfs -o size=6g,mode=0700 juriscope-docker "$WORK" || true
export DOCKER_HOST="unix://$WORK/docker.sock"
export COMPOSE_PROJECT_NAME="$PROJECT" COMPOSE_HTTP_TIMEOUT=120
mkdir -p "$CACHE"

ip_forward_before="$(cat /proc/sys/net/ipv4/ip_forward)"
bridges_before="$(ip -o link show type bridge 2> /dev/null | awk -F': ' '{print $2}' | sort)"
for table in iptables ip6tables; do
    if command -v "$table-save" > /dev/null; then
        "$table-save" 2> /dev/null | sed '/^#/d' > "$WORK/$table.before" || true
    fi
done
daemon_bridges=""
# Folders that dockerd and the container shims make outside their state: removed if this run
# made them (and they are empty).
host_dirs=""
for dir in /run/containerd /run/containerd/s /var/run/docker /var/run/docker/plugins; do
    [ -e "$dir" ] || host_dirs="$dir $host_dirs"
done
BASE="$ROOT/docker/base"
# The Python image's packages come with the root filesystem: one download, no apt run in a
# build. PostgreSQL's image is built on it too (and has Python, unused).
include=ca-certificates,python3,python3-venv,python-is-python3
key="$(cat "$BASE"/* /usr/local/share/ca-certificates/*.crt <(echo "$include") 2> /dev/null \
    | sha256sum | cut -c1-12)"
base_tar="$CACHE/base-$key.tar"
app_tar="$CACHE/app-$key.tar"
saves=()

compose() { "$COMPOSE" --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" "$@"; }

remember_bridges() {
    # Bridges of this daemon's networks (br-<id>), to delete if they outlive it.
    local id
    for id in $("$DOCKER" network ls -q --no-trunc --filter driver=bridge 2> /dev/null); do
        daemon_bridges+=" br-${id:0:12}"
    done
}

stop_pid() {
    local pid="$1" i
    [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null || return 0
    kill -TERM "$pid" 2> /dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$pid" 2> /dev/null || return 0
        sleep 0.2
    done
    kill -KILL "$pid" 2> /dev/null || true
}

cleanup() {
    local status=$? pid mount bridge table
    trap - EXIT INT TERM
    set +e
    if [ "$status" != 0 ] && [ -S "$WORK/docker.sock" ]; then
        say "failed (status $status); the daemon's log is $WORK/dockerd.log until cleanup, last lines:"
        tail -n 20 "$WORK/dockerd.log" 2> /dev/null
        compose logs --no-color --tail=40 2> /dev/null
    fi
    if [ -S "$WORK/docker.sock" ]; then
        remember_bridges
        timeout 60 "$COMPOSE" --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" \
            down -v --remove-orphans --timeout 5 > /dev/null 2>&1
    fi
    for pid in "${saves[@]}"; do stop_pid "$pid"; done
    stop_pid "$(cat "$WORK/dockerd.pid" 2> /dev/null)"
    stop_pid "${dockerd_pid:-}"
    # Container shims and the containerd this script started: found by this run's folder.
    for pid in $(pgrep -f "$WORK/" 2> /dev/null); do
        [ "$pid" != "$$" ] && stop_pid "$pid"
    done
    stop_pid "${containerd_pid:-}"
    for mount in $(awk -v w="$WORK" '$2 == w || index($2, w "/") == 1 {print $2}' /proc/mounts | sort -r); do
        umount -l "$mount" 2> /dev/null
    done
    for dir in $host_dirs; do rmdir "$dir" 2> /dev/null; done
    for bridge in $daemon_bridges; do
        if ip link show "$bridge" > /dev/null 2>&1 && ! grep -qx "$bridge" <<< "$bridges_before"; then
            ip link delete "$bridge" 2> /dev/null && say "removed bridge $bridge"
        fi
    done
    if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$ip_forward_before" ]; then
        echo "$ip_forward_before" > /proc/sys/net/ipv4/ip_forward && say "restored ip_forward"
    fi
    for table in iptables ip6tables; do
        [ -f "$WORK/$table.before" ] || continue
        if ! "$table-save" 2> /dev/null | sed '/^#/d' | cmp -s - "$WORK/$table.before"; then
            "$table-restore" < "$WORK/$table.before" && say "restored $table"
        fi
    done
    rm -rf "$WORK" "$base_tar.tmp" "$app_tar.tmp"
    if [ -n "$skipped" ]; then
        :
    elif [ "$status" = 0 ]; then
        say "passed in $((SECONDS - START)) s"
    else
        say "FAILED"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$WORK/containerd"
cat > "$WORK/containerd/config.toml" << EOF
version = 2
root = "$WORK/containerd/root"
state = "$WORK/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$WORK/containerd/containerd.sock"
[ttrpc]
  address = "$WORK/containerd/containerd.sock.ttrpc"
[debug]
  address = "$WORK/containerd/debug.sock"
EOF
containerd --config "$WORK/containerd/config.toml" > "$WORK/containerd.log" 2>&1 &
containerd_pid=$!
# Its identity key in its own folder, not /etc/docker/key.json.
echo "{\"deprecated-key-path\": \"$WORK/key.json\"}" > "$WORK/daemon.json"
# No bridge of its own (builds use the host's network), no iptables rules, no ip_forward:
# published ports go through docker-proxy, and compose's network is a bridge removed by `down`.
dockerd --config-file "$WORK/daemon.json" --data-root "$WORK/data" --exec-root "$WORK/exec" \
    --pidfile "$WORK/dockerd.pid" --host "$DOCKER_HOST" \
    --containerd "$WORK/containerd/containerd.sock" \
    --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --storage-driver=overlay2 --log-level=warn > "$WORK/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 150); do
    "$DOCKER" version > /dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2> /dev/null || break
    sleep 0.2
done
"$DOCKER" version > /dev/null 2>&1 \
    || unable "dockerd did not start: $(tail -n 3 "$WORK/dockerd.log" "$WORK/containerd.log")"
say "dockerd $("$DOCKER" version -f '{{.Server.Version}}') up ($WORK)"

# --- Images: the bases made once from Debian, then loaded from the cache; the project's ------
# image built on them, its layers reused from the last run when nothing changed. Cache files
# are saved in the background and kept only when the whole test passed.

base_build() { # base_build NAME
    "$DOCKER" build --network host --build-arg "BASE_IMAGE=$PROJECT/bookworm" \
        -t "$PROJECT/$1" -f "$WORK/base/$1.Dockerfile" "$WORK/base" > "$WORK/build-$1.log" 2>&1 \
        || { tail -n 20 "$WORK/build-$1.log"; return 1; }
}

postgres_build=""
if [ -f "$base_tar" ]; then
    "$DOCKER" load -q -i "$base_tar" > /dev/null
    say "base images loaded from $base_tar"
else
    rootfs_tar="$CACHE/bookworm-minbase-$(sha256sum <<< "$include" | cut -c1-8).tar"
    if [ ! -f "$rootfs_tar" ]; then
        say "debootstrap --variant=minbase --include=$include bookworm from $MIRROR"
        debootstrap --variant=minbase --include="$include" bookworm "$WORK/rootfs" "$MIRROR" \
            > "$WORK/debootstrap.log" 2>&1 \
            || { tail -n 20 "$WORK/debootstrap.log"; exit 1; }
        rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/cache/apt/*.bin \
            "$WORK"/rootfs/var/lib/apt/lists/*
        rm -f "$CACHE"/bookworm-minbase*.tar
        tar -C "$WORK/rootfs" --numeric-owner -cf "$rootfs_tar.tmp" .
        mv "$rootfs_tar.tmp" "$rootfs_tar"
        rm -rf "$WORK/rootfs"
        say "root filesystem saved to $rootfs_tar"
    fi
    "$DOCKER" import "$rootfs_tar" "$PROJECT/bookworm" > /dev/null
    mkdir -p "$WORK/base/certs"
    cp "$BASE"/* "$WORK/base/"
    # The host's extra CA certificates (a TLS-inspecting proxy's), so pip can reach PyPI.
    cp /usr/local/share/ca-certificates/*.crt "$WORK/base/certs/" 2> /dev/null || true
    # PostgreSQL is needed only once the stack starts: it builds while the project does.
    base_build postgres &
    postgres_build=$!
    base_build python
    say "base image $PROJECT/python built"
fi

app_build() {
    "$DOCKER" build --network host --build-arg "PYTHON_IMAGE=$PROJECT/python" \
        "${cache_from[@]}" "$@" "$ROOT" >> "$WORK/build-app.log" 2>&1 \
        || { tail -n 30 "$WORK/build-app.log"; return 1; }
}
cache_from=()
if [ -f "$app_tar" ]; then
    "$DOCKER" load -q -i "$app_tar" > /dev/null
    cache_from=(--cache-from "$PROJECT/app" --cache-from "$PROJECT/app-build")
fi
app_before="$("$DOCKER" image inspect -f '{{.Id}}' "$PROJECT/app" 2> /dev/null || true)"
app_build -t "$PROJECT/app"
app_build --target build -t "$PROJECT/app-build"
mb() { echo "$(("$("$DOCKER" image inspect -f '{{.Size}}' "$1")" / 1000000)) MB"; }
say "image $PROJECT/app built: $(mb "$PROJECT/app") on a base of $(mb "$PROJECT/python")" \
    "($(grep -c 'Using cache' "$WORK/build-app.log") steps from the cache)"

if [ -n "$postgres_build" ]; then
    wait "$postgres_build"
    say "base image $PROJECT/postgres built"
    "$DOCKER" save -o "$base_tar.tmp" "$PROJECT/python" "$PROJECT/postgres" &
    saves+=($!)
fi
if [ "$("$DOCKER" image inspect -f '{{.Id}}' "$PROJECT/app")" != "$app_before" ]; then
    "$DOCKER" save -o "$app_tar.tmp" "$PROJECT/app" "$PROJECT/app-build" &
    saves+=($!)
fi

# --- The stack, used as a user would ---------------------------------------------------------

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export POSTGRES_IMAGE="$PROJECT/postgres" JURISCOPE_IMAGE="$PROJECT/app"
export PYTHON_IMAGE="$PROJECT/python" JURISCOPE_PORT="$port"
API="http://127.0.0.1:$port"

wait_healthy() {
    local id state
    id="$(compose ps -q api)"
    for _ in $(seq 1 90); do
        state="$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$id")"
        [ "$state" = healthy ] && return 0
        sleep 1
    done
    say "the api container is $state after 90 s"
    return 1
}

up() {
    compose up -d --no-build --quiet-pull > "$WORK/compose-up.log" 2>&1 \
        || { cat "$WORK/compose-up.log"; return 1; }
    remember_bridges
}

check() { # check WHAT EXPECTED_STATUS CURL_ARGS...: the body goes to $WORK/body
    local what="$1" expected="$2" status
    shift 2
    status="$(curl -sS --noproxy "*" -o "$WORK/body" -w '%{http_code}' "$@")"
    if [ "$status" != "$expected" ]; then
        say "$what: HTTP $status, expected $expected: $(head -c 500 "$WORK/body")"
        return 1
    fi
    say "$what: HTTP $status"
}

up
wait_healthy
say "stack up and healthy on $API"

check "GET /readyz" 200 "$API/readyz"
check "GET /v1/jurisdictions/HK" 200 "$API/v1/jurisdictions/HK"
[ "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["code"])' "$WORK/body")" = HK ]

key_output="$(compose run --rm --no-deps -T api juriscope keys create --name ci --scope write \
    2> "$WORK/keys.log")" || { cat "$WORK/keys.log"; exit 1; }
api_key="$(tail -n 1 <<< "$key_output")"
say "key created with docker-compose run: ${key_output%%$'\n'*}"

marker="docker-test $(date -u +%Y-%m-%dT%H:%M:%SZ)"
cat > "$WORK/value.json" << EOF
{"value": true, "valid_from": "2025-01-01", "note": "$marker",
 "source_ids": ["hk-hkma-fss"], "confidence": "verified"}
EOF
check "PUT /v1/jurisdictions/HK/features/regulatory_sandbox" 201 -X PUT \
    -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' \
    --data-binary "@$WORK/value.json" "$API/v1/jurisdictions/HK/features/regulatory_sandbox"

compose down --timeout 10 > /dev/null 2>&1
say "stack down (volume kept), up again"
up
for _ in $(seq 1 60); do
    curl -fsS --noproxy '*' -o /dev/null "$API/readyz" 2> /dev/null && break
    sleep 0.5
done
check "GET /v1/jurisdictions/HK/features/regulatory_sandbox after the restart" 200 \
    "$API/v1/jurisdictions/HK/features/regulatory_sandbox"
if ! grep -qF "\"$marker\"" "$WORK/body"; then
    say "the value written before the restart is gone: $(head -c 500 "$WORK/body")"
    exit 1
fi
say "the value written before the restart is there"

api_id="$(compose ps -q api)"
[ "$("$DOCKER" inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$api_id")" = true ]
[ "$("$DOCKER" exec "$api_id" id -u)" = 10001 ]
if "$DOCKER" run --rm --network none --entrypoint sh "$PROJECT/app" -c 'command -v gcc cc c++ make'; then
    say "the image has a compiler"
    exit 1
fi
say "api: read-only root filesystem, uid 10001, no compiler in the image"

compose down -v --timeout 10 > /dev/null 2>&1
say "docker-compose down -v"

for pid in "${saves[@]}"; do wait "$pid"; done
for tar in "$base_tar" "$app_tar"; do
    if [ -f "$tar.tmp" ]; then
        rm -f "${tar%-*}"-*.tar
        mv "$tar.tmp" "$tar"
        say "cached $tar"
    fi
done
