#!/bin/sh
# Turns a minimal Debian root filesystem into the benchmark template. Runs as root *inside* the
# new root (the local build runs it under bubblewrap right after debootstrap; a Dockerfile can
# COPY packages.txt + this script and RUN it). Reads packages.txt from its own directory.
# Changing this file changes the template's recipe hash, so the local template is rebuilt.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
user_name=${E2B_USER:-user}
user_uid=${E2B_UID:-1000}
user_gid=${E2B_GID:-1000}
user_home=${E2B_HOME:-/home/user}
user_shell=${E2B_SHELL:-/bin/bash}

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

packages=$(sed -e 's/#.*//' "$here/packages.txt" | tr -s ' \t\r\n' ' ')

# No init system runs here: keep maintainer scripts from trying to start services.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d

# No documentation, manual pages or translations (about 80 MB): the sandbox runs benchmarks.
# dpkg keeps them out of packages installed from now on; the cleanup below strips the rest.
cat >/etc/dpkg/dpkg.cfg.d/01-e2b-nodoc <<'NODOC'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
NODOC

apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -q --no-install-recommends $packages

rm -f /usr/sbin/policy-rc.d

# The account commands run as, like E2B's templates: `user`, home /home/user, login shell bash.
if ! getent group "$user_name" >/dev/null; then
  groupadd --gid "$user_gid" "$user_name"
fi
if ! id -u "$user_name" >/dev/null 2>&1; then
  useradd --create-home --home-dir "$user_home" --shell "$user_shell" \
    --uid "$user_uid" --gid "$user_gid" "$user_name"
fi

# As in E2B's base template, the account may use sudo without a password.
printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$user_name" >/etc/sudoers.d/90-e2b-user
chmod 440 /etc/sudoers.d/90-e2b-user

find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
find /usr/share/doc -mindepth 1 -type d -empty -delete
rm -rf /usr/share/man/* /usr/share/info/* /usr/share/groff/* /usr/share/lintian/*
find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +

# Small, reproducible image: no package lists, caches, logs or build-host leftovers.
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old \
  /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log /var/log/bootstrap.log \
  /root/.cache /root/.npm /var/tmp/*
