# partop's container image. Build from the repository root:
#   docker build -t partop:0.1.0 .
#
# The build stage is a plain Debian bookworm that runs scripts/build exactly as a developer
# would (scripts/build runs scripts/deps, which apt-installs the toolchain and the -dev
# packages, then builds with CMake into build/). The runtime stage holds the binary and the
# runtime halves of those -dev packages only; keep the two lists in lockstep:
#   scripts/deps              runtime package
#   libpqxx-dev               libpqxx-6.4 (pulls in libpq5)
#   libyaml-cpp-dev           libyaml-cpp0.7
#   libssl-dev                libssl3
#   libcpp-httplib-dev        libcpp-httplib0.11 (shared library; its -dev compile flags must match)
#   prometheus-cpp-dev        libprometheus-cpp-core1.0
#   nlohmann-json3-dev, doctest-dev, libcli11-dev: header-only, nothing at runtime
# The last RUN fails the image build if the binary needs a library that is not installed.
# scripts/image builds this same image without Docker by reading the stage below: it reproduces
# FROM debian:SUITE-slim, RUN apt-get install, COPY --from=build, RUN, USER and ENTRYPOINT, and
# refuses anything else (e2e/image_checks.sh), so extend scripts/image with any new instruction.

FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN scripts/build

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpqxx-6.4 libyaml-cpp0.7 libssl3 libcpp-httplib0.11 libprometheus-cpp-core1.0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/operator/partop /usr/local/bin/partop
RUN ! ldd /usr/local/bin/partop | grep 'not found' && /usr/local/bin/partop version
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/partop"]
