# Multi-stage build of the etl and vault binaries; the runtime image carries only the three
# C libraries they link (libpq, OpenSSL, libcurl).
# The toolchain the tests run on (scripts/check-packaging.py compares it with `swift --version`).
FROM swift:6.3.1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev libssl-dev libcurl4-openssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Plugins ./Plugins
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product etl \
 && swift build -c release --static-swift-stdlib --product vault \
 && mkdir -p /out && cp "$(swift build -c release --show-bin-path)"/etl "$(swift build -c release --show-bin-path)"/vault /out/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libssl3 libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app fetchde
COPY --from=build /out/etl /out/vault /usr/local/bin/
COPY config /app/config
COPY docker/entrypoint.sh /usr/local/bin/fetchde-entrypoint
WORKDIR /app
USER fetchde
ENTRYPOINT ["/usr/local/bin/fetchde-entrypoint"]
CMD ["etl", "run"]
