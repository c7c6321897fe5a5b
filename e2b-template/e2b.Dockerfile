# Benchmark sandbox template for E2B: the same Debian release, package list and bench scripts as
# the local template (packages.txt, rootfs-setup.sh, bench/), so in-sandbox results from E2B and
# from the local runtime compare like with like. Build context: this directory.
#
#   e2b template build --name e2b-bench --dockerfile e2b.Dockerfile --cpu-count 2 --memory-mb 1024
#
# Only instructions E2B's builders accept (FROM, RUN, COPY, WORKDIR). E2B adds its own
# sandbox daemon and the `user` account commands run as; do not create them here.
# The package list below must equal packages.txt (a test compares them).
FROM debian:bookworm

# DEBIAN_FRONTEND inline rather than ARG/ENV: E2B's builder would keep it in the sandbox's env.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bash \
      coreutils \
      passwd \
      procps \
      ca-certificates \
      curl \
      git \
      sudo \
      python3 \
      python3-pip \
      python3-venv \
      nodejs \
      npm \
      sysbench \
      fio \
      iperf3 \
      stress-ng \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

# The pinned suites and helpers the sandbox.* probes run (they upload their own copy when these
# differ from theirs, so a stale template is never measured with stale scripts).
COPY bench/ /opt/e2b-bench/bench/
RUN chmod -R a+rX /opt/e2b-bench

WORKDIR /home/user
