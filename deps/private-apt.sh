# deps/private-apt.sh - sourced by the deps scripts: runs apt-get on a
# private source list and state under a folder of build/, so that the
# host's package sources are not changed (its proxy settings still apply)
# while apt verifies what it fetches as it verifies every package: the
# archive's Release signature, then the hashes down to each file.
# The Release file's Valid-Until is not enforced: mirrors and proxies that
# serve a snapshot of the archive carry an expired one, and the expiry
# guards against being held on an old index, which cannot change what an
# exact version (the only thing fetched here) hashes to.
#
#   papt_init DIR TYPE SUITE...   TYPE deb or deb-src; DEBIAN_MIRROR (or
#                                 the Debian mirror) is the archive
#   papt ARGS...                  apt-get with that configuration

papt_mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

papt_init() {
    papt_dir=$1
    papt_type=$2
    shift 2
    mkdir -p "$papt_dir/lists/partial" "$papt_dir/cache/archives/partial" \
        "$papt_dir/sources.list.d" "$papt_dir/preferences.d"
    for s in "$@"; do
        echo "$papt_type [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $papt_mirror $s main"
    done > "$papt_dir/sources.list"
    # Downloads run as apt's unprivileged user where there is one.
    if [ "$(id -u)" -eq 0 ] && getent passwd _apt >/dev/null; then
        chown -R _apt "$papt_dir/lists" "$papt_dir/cache"
    fi
}

papt() {
    apt-get -q -o Dir::Etc::SourceList="$papt_dir/sources.list" \
        -o Dir::Etc::SourceParts="$papt_dir/sources.list.d" \
        -o Dir::Etc::Preferences="$papt_dir/preferences" \
        -o Dir::Etc::PreferencesParts="$papt_dir/preferences.d" \
        -o Dir::State::Lists="$papt_dir/lists" \
        -o Dir::State::status=/dev/null \
        -o Dir::Cache="$papt_dir/cache" \
        -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
        -o APT::Get::List-Cleanup=0 \
        -o Acquire::Check-Valid-Until=false "$@"
}

# A folder apt's download user may write to (the current folder of papt).
papt_dl_dir() {
    mkdir -p "$1"
    if [ "$(id -u)" -eq 0 ] && getent passwd _apt >/dev/null; then
        chown _apt "$1"
    fi
}
