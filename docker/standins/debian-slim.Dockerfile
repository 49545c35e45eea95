# Stand-in for debian:13-slim (trixie), built offline by scripts/images/standins.sh: never tag it as the real image.
# ROOTFS is an mmdebstrap minbase trixie root imported with `docker import` (apt sources: deb.debian.org over http).
ARG ROOTFS=bankchurn-standin/rootfs:debian-13-slim
FROM ${ROOTFS}

LABEL org.opencontainers.image.title="bankchurn stand-in for debian:13-slim" \
      org.opencontainers.image.description="Debian trixie minbase from deb.debian.org; a local substitute for the upstream image where no registry is reachable."

# `docker import` leaves the config empty; the official image sets only this PATH and a bash CMD.
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["bash"]
