# Multi-stage build: a Rust toolchain image compiles the release binaries
# (SQLite is bundled, TLS is rustls: no system library is needed at run
# time), and a slim Debian image runs them as an unprivileged user.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin scrape-server --bin scrapectl \
    && mkdir -p /out && cp target/release/scrape-server target/release/scrapectl /out/

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/scrape --create-home scrape \
    && mkdir -p /var/lib/scrape/exports \
    && chown scrape:scrape /var/lib/scrape/exports
COPY --from=build /out/scrape-server /out/scrapectl /usr/local/bin/
USER scrape
WORKDIR /var/lib/scrape
# 0.0.0.0 needs tokens: mount a tokens file at /run/secrets/scrape-tokens
# (a compose secret, a Kubernetes secret or `-v ./tokens:/run/secrets/scrape-tokens:ro`);
# without it the server refuses to start. Make one with
#   docker run --rm scrape-tasks token new --role operator --name ci
ENV SCRAPE_LISTEN=0.0.0.0:50051 \
    DATABASE_URL=sqlite:///var/lib/scrape/scrape.db \
    SCRAPE_EXPORT_DIR=/var/lib/scrape/exports \
    SCRAPE_TOKENS_FILE=/run/secrets/scrape-tokens
EXPOSE 50051
VOLUME ["/var/lib/scrape"]
# The health check asks the port the server listens on, whatever SCRAPE_LISTEN says.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD ["sh", "-c", "exec scrapectl --server \"http://127.0.0.1:${SCRAPE_LISTEN##*:}\" health"]
ENTRYPOINT ["scrape-server"]
