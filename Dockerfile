# driftd container image: a Debian bookworm build stage and a slim runtime stage.
#
#   docker build -t driftd:0.1.0 .
#   docker run --rm -p 9470:9470 -p 7070:7070 -p 7070:7070/udp driftd:0.1.0
#   docker run --rm -v /path/to/etc-driftd:/etc/driftd:ro -p 9470:9470 driftd:0.1.0
#
# Without a mounted /etc/driftd the image runs the demo configuration (config/examples), listening
# on all interfaces. The build compiles only the driftd target (tests are configured, not built).

# ---- build -----------------------------------------------------------------------------------
FROM debian:bookworm AS build

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake libboost-dev nlohmann-json3-dev libspdlog-dev prometheus-cpp-dev \
      libsimdjson-dev libcli11-dev libgtest-dev libbenchmark-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# Only the sources: local build folders never enter the image.
COPY CMakeLists.txt ./
COPY core core
COPY config config
COPY daemon daemon
COPY tests tests

RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DDRIFTD_BENCHMARKS=OFF \
 && cmake --build /build --target driftd -j"$(nproc)" \
 && strip /build/daemon/driftd \
 && /build/daemon/driftd version

# The demo configuration, made reachable from outside the container.
RUN mkdir -p /out/etc/driftd \
 && sed 's/"127\.0\.0\.1:/"0.0.0.0:/g' config/examples/driftd.json > /out/etc/driftd/driftd.json \
 && cp -r config/examples/references /out/etc/driftd/references \
 && /build/daemon/driftd check-config --config /out/etc/driftd/driftd.json

# ---- runtime ---------------------------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libspdlog1.10 libprometheus-cpp-core1.0 libsimdjson14 libfmt9 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 driftd \
 && useradd --system --uid 10001 --gid driftd --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin driftd

COPY --from=build /build/daemon/driftd /usr/local/bin/driftd
COPY --from=build /out/etc/driftd /etc/driftd

# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
# 9470: HTTP (metrics, health, status, ingest); 7070: TCP and UDP ingest.
EXPOSE 9470 7070 7070/udp
ENTRYPOINT ["driftd"]
CMD ["run", "--config", "/etc/driftd/driftd.json"]
