# Stand-in for prom/prometheus built from Debian's `prometheus` package: the compose `prometheus` service where no
# registry is reachable (this project's CI). Same layout as upstream: ENTRYPOINT /bin/prometheus, data in /prometheus,
# uid nobody, wget for the healthcheck. Never tag it as the upstream image.
#   docker build --network host -f infra/prometheus/standin.Dockerfile -t bankchurn-standin/prometheus:debian \
#     --build-arg DEBIAN_SLIM_IMAGE=bankchurn-standin/debian:13-slim infra/prometheus
# Debian's package serves the HTTP API and a minimal UI; upstream's React UI is not part of it.

ARG DEBIAN_SLIM_IMAGE=debian:13-slim

FROM ${DEBIAN_SLIM_IMAGE} AS package
# Only the two Go binaries are kept; the package's JavaScript dependencies stay in this stage.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/*

FROM ${DEBIAN_SLIM_IMAGE}
# wget: the compose healthcheck calls it, as it does in upstream's busybox image.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends wget \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /prometheus /etc/prometheus \
 && chown nobody:nogroup /prometheus
COPY --from=package /usr/bin/prometheus /usr/bin/promtool /bin/
# nobody:nogroup, as upstream (numeric: compose's `user:` and volume ownership compare numbers).
USER 65534:65534
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]

ARG DEBIAN_SLIM_IMAGE
ARG CREATED=unknown
LABEL org.opencontainers.image.title="bankchurn-standin/prometheus" \
      org.opencontainers.image.description="Debian's prometheus package laid out like prom/prometheus; a local substitute where no registry is reachable" \
      org.opencontainers.image.version="debian-trixie" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.revision="n/a: Debian package" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${DEBIAN_SLIM_IMAGE}"
