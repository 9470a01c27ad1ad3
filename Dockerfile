# driftd container image: a Debian bookworm build stage and a slim runtime stage.
#
#   docker build -t driftd:0.1.0 .
#   docker run --rm -p 9470:9470 -p 7070:7070 -p 7070:7070/udp driftd:0.1.0
#   docker run --rm -v /path/to/etc-driftd:/etc/driftd:ro -p 9470:9470 driftd:0.1.0
#
# Without a mounted /etc/driftd the image runs the demo configuration (config/examples), listening
# on all interfaces. The build compiles only the driftd target (tests are configured, not built).
#
# The runtime stage takes driftd from the stage DRIFTD_BINARY_STAGE names:
#   build      (the default) compiles it here;
#   prebuilt   takes an already built one from the build context, .image/driftd with
#              .image/runtime-packages, so that CI, which has compiled the tree already, does not
#              compile it again. scripts/image --prebuilt PATH stages both and builds with
#                docker build --build-arg DRIFTD_BINARY_STAGE=prebuilt .
#              (buildah bud, in scripts/image). The binary must have been built on Debian bookworm.
# Either stage leaves /out/driftd and /out/runtime-packages: the Debian packages that hold the shared
# libraries driftd links (dpkg -S on what ldd lists), which is all the runtime stage installs.
# Builders that skip unused stages (BuildKit, docker build's default since Docker 23; buildah) build
# only the chosen one; buildah 1.28 needs the argument given, even for the default
# (--build-arg DRIFTD_BINARY_STAGE=build). The legacy builder (DOCKER_BUILDKIT=0) builds every
# stage, prebuilt too, so it needs .image/ filled either way.
ARG DRIFTD_BINARY_STAGE=build

# ---- build -----------------------------------------------------------------------------------
FROM debian:bookworm AS build

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake libboost-dev nlohmann-json3-dev libspdlog-dev prometheus-cpp-dev \
      libsimdjson-dev libcli11-dev libyaml-cpp-dev libssl-dev libcrypt-dev zlib1g-dev \
      libgtest-dev libbenchmark-dev \
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
 && mkdir -p /out \
 && strip -o /out/driftd /build/daemon/driftd \
 && /out/driftd version

# The package of each shared library: its path as ldd prints it, or, on merged /usr, the file it
# resolves to. A library no package owns (or one ldd cannot find) fails the build.
RUN set -e; \
    for lib in $(ldd /out/driftd | awk '$2 == "=>" { print $3 }'); do \
      dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")"; \
    done > /tmp/owners; \
    cut -d: -f1 /tmp/owners | sort -u > /out/runtime-packages; \
    cat /out/runtime-packages

# ---- prebuilt --------------------------------------------------------------------------------
FROM scratch AS prebuilt
COPY .image/driftd .image/runtime-packages /out/

# ---- the chosen binary -----------------------------------------------------------------------
FROM ${DRIFTD_BINARY_STAGE} AS binary
# A step of its own: buildah leaves a stage with none behind as a working container
# (containers/buildah#4572).
WORKDIR /out

# ---- runtime ---------------------------------------------------------------------------------
FROM debian:bookworm-slim

RUN groupadd --system --gid 10001 driftd \
 && useradd --system --uid 10001 --gid driftd --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin driftd

# Only the shared libraries driftd links. bookworm-slim's dpkg configuration already keeps
# documentation, man pages and translations out (copyright files stay).
COPY --from=binary /out/runtime-packages /usr/local/share/driftd/runtime-packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(cat /usr/local/share/driftd/runtime-packages) \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log

COPY --from=binary /out/driftd /usr/local/bin/driftd

# The demo configuration, made reachable from outside the container, and checked by the driftd
# and the libraries the image ships.
COPY config/examples/driftd.json /etc/driftd/driftd.json
COPY config/examples/references /etc/driftd/references
RUN sed -i 's/"127\.0\.0\.1:/"0.0.0.0:/g' /etc/driftd/driftd.json \
 && driftd version \
 && driftd check-config --config /etc/driftd/driftd.json

# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
# 9470: HTTP (metrics, health, status, ingest); 7070: TCP and UDP ingest.
EXPOSE 9470 7070 7070/udp
ENTRYPOINT ["driftd"]
CMD ["run", "--config", "/etc/driftd/driftd.json"]
