#!/usr/bin/env bash
# Makes debian:bookworm-slim on the local Docker engine when no registry can
# give it: debootstrap (minbase) from the Debian mirror this machine's apt
# uses, trimmed as the slim image is (no manuals, no documentation but the
# copyright files, no locales, no apt lists or package cache), then
# `docker import`.  The root file system is kept as a tarball in CACHE_DIR
# (default build/compose), so only the first run pays for debootstrap.
#
#   tests/compose/base-image.sh            # needs root, debootstrap, docker
#   LCA_DEBIAN_MIRROR=http://… tests/compose/base-image.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${CACHE_DIR:-$root/build/compose}
image=debian:bookworm-slim
tarball=$cache/bookworm-slim.tar

if docker image inspect "$image" >/dev/null 2>&1; then
    echo "# $image: already there"
    exit 0
fi

if [ ! -s "$tarball" ]; then
    [ "$(id -u)" = 0 ] || { echo "base-image: debootstrap needs root" >&2; exit 1; }
    command -v debootstrap >/dev/null || { echo "base-image: install debootstrap" >&2; exit 1; }
    # The mirrors apt already uses: "500 URI bookworm/main amd64 Packages".
    mirror=${LCA_DEBIAN_MIRROR:-$(apt-cache policy | awk '$3 ~ /^bookworm\/main$/ { print $2; exit }')}
    security=${LCA_DEBIAN_SECURITY:-$(apt-cache policy | awk '$3 ~ /^bookworm-security\/main$/ { print $2; exit }')}
    [ -n "$mirror" ] || { echo "base-image: no bookworm mirror in apt's sources; set LCA_DEBIAN_MIRROR" >&2; exit 1; }
    mkdir -p "$cache"
    dir=$(mktemp -d "$cache/rootfs-XXXXXX")
    trap 'rm -rf "$dir"' EXIT
    debootstrap --variant=minbase --components=main bookworm "$dir" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
        { tail -20 "$cache/debootstrap.log" >&2; exit 1; }

    # apt sources as a container's: the mirror, its updates, security fixes.
    rm -f "$dir/etc/apt/sources.list"
    {
        printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n' "$mirror"
        printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        if [ -n "$security" ]; then
            printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\n' "$security"
            printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
        fi
    } >"$dir/etc/apt/sources.list.d/debian.sources"
    # What later installs leave out, and what this one already has.
    cat >"$dir/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
CFG
    printf 'Binary::apt::APT::Keep-Downloaded-Packages "false";\n' >"$dir/etc/apt/apt.conf.d/slim"
    find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$dir"/usr/share/{man,info,locale,groff,lintian}/* \
        "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/var/cache/debconf/*-old \
        "$dir"/var/log/* "$dir"/tmp/* "$dir"/root/.bash_history
    tar -C "$dir" --numeric-owner --xattrs -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
fi

docker import -c 'CMD ["bash"]' "$tarball" "$image" >/dev/null
echo "# $image: imported from $(basename "$tarball") ($(du -m "$tarball" | cut -f1) MB)"
