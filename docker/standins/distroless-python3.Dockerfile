# Stand-in for gcr.io/distroless/python3-debian13:nonroot, built offline by scripts/images/standins.sh: never tag it as the real image.
# Same recipe as upstream (GoogleContainerTools/distroless base, cc and python3 for debian13): Debian packages
# unpacked without maintainer scripts, no shell, no package manager, uid 65532.
# Needs `--network host`: the unpack stage fetches the .debs from deb.debian.org with apt.
ARG BUILDER_IMAGE=bankchurn-standin/debian:13-slim

FROM ${BUILDER_IMAGE} AS unpack
# The union of upstream's package lists: base (static + libc/ssl), cc and python3 for debian13.
ARG PACKAGES="base-files netbase tzdata ca-certificates \
    libc6 libssl3t64 libzstd1 zlib1g \
    libgomp1 libstdc++6 libgcc-s1 gcc-14-base \
    libbz2-1.0 libdb5.3t64 libexpat1 liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 \
    libcom-err2 libcrypt1 libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libnsl2 \
    libreadline8t64 libtirpc3t64 libffi8 \
    libpython3.13-minimal libpython3.13-stdlib python3.13-minimal python3.13-venv"
WORKDIR /debs
# `dpkg-deb -x` unpacks files only: no postinst, hence no stdlib .pyc (py3compile runs there) - exactly like upstream.
# Each package's control data goes to /var/lib/dpkg/status.d/ as upstream does, so SBOM scanners can list them.
RUN set -eux; \
    apt-get update; \
    apt-get download ${PACKAGES}; \
    mkdir -p /rootfs/var/lib/dpkg/status.d; \
    for deb in ./*.deb; do \
        dpkg-deb -x "${deb}" /rootfs; \
        dpkg-deb -f "${deb}" > "/rootfs/var/lib/dpkg/status.d/$(dpkg-deb -f "${deb}" Package)"; \
    done; \
    rm -rf /var/lib/apt/lists/*

COPY distroless/passwd distroless/group distroless/nsswitch.conf /rootfs/etc/
# ca-certificates ships single PEM files; update-ca-certificates never ran, so build the bundle the way upstream's
# cacerts rule does (concatenation). /tmp is world-writable with the sticky bit; homes are private.
# The ld.so.cache mirrors upstream's prebuilt cache for debian13; the python/python3 links mirror its aliases.
RUN set -eux; \
    mkdir -p /rootfs/etc/ssl/certs; \
    cat /rootfs/usr/share/ca-certificates/mozilla/*.crt > /rootfs/etc/ssl/certs/ca-certificates.crt; \
    install -d -m 1777 /rootfs/tmp; \
    install -d -m 0700 /rootfs/root; \
    install -d -m 0700 -o 65532 -g 65532 /rootfs/home/nonroot; \
    ln -s python3.13 /rootfs/usr/bin/python3; \
    ln -s python3.13 /rootfs/usr/bin/python; \
    ldconfig -r /rootfs; \
    test ! -e /rootfs/bin/sh; \
    test -z "$(find /rootfs/usr/lib/python3.13 -name '*.pyc' -print -quit)"

FROM scratch
LABEL org.opencontainers.image.title="bankchurn stand-in for gcr.io/distroless/python3-debian13:nonroot" \
      org.opencontainers.image.description="Debian trixie packages unpacked like distroless: python3.13, no shell, no package manager, uid 65532; a local substitute where no registry is reachable."
COPY --from=unpack /rootfs/ /
# The config upstream's image carries (base + python3 rules).
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    LANG=C.UTF-8
USER 65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/bin/python3.13"]
