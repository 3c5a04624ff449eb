# syntax=docker/dockerfile:1
# driftscope container: compiled with the Rust toolchain, run from a slim Debian image as an
# unprivileged user. The image serves the bundled demo (monitors.yaml + reference_data/);
# mount your own config and reference files over /app to watch your models.
#
#   docker build -t driftscope .
#   mkdir -p secrets && openssl rand -hex 32 > secrets/ingest_token \
#     && openssl rand -hex 32 > secrets/read_token
#   docker run --rm -p 127.0.0.1:8000:8000 -v "$PWD/secrets:/app/secrets:ro" driftscope
#   docker run --rm driftscope check --config /app/monitors.yaml
#
# docker-compose.yml runs it with Prometheus, Alertmanager and Grafana.

# The toolchain CI builds with (Cargo.toml's rust-version is the minimum). Builder and runtime
# share the Debian release, so the binary's glibc matches.
ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder
WORKDIR /src
# Only what `cargo build --bin driftscope` reads. benches/ because Cargo.toml declares the bench
# target by name.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
# GET /openapi.json serves this file, embedded at compile time (include_str!).
COPY docs/openapi.json ./docs/openapi.json
# Cache mounts keep the registry and the compiled dependencies (polars takes minutes) across
# builds; the binary is copied out because the target mount is not part of the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin driftscope \
 && install -D -m 0755 target/release/driftscope /out/driftscope

FROM debian:${DEBIAN_RELEASE}-slim
# A fixed, unprivileged UID/GID; the files it serves stay root-owned and read-only to it.
RUN groupadd --system --gid 10001 driftscope \
 && useradd --system --uid 10001 --gid driftscope --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin driftscope
COPY --from=builder /out/driftscope /usr/local/bin/driftscope
WORKDIR /app
COPY monitors.yaml monitors.container.yaml ./
COPY reference_data ./reference_data
# server.state_dir of monitors.container.yaml; the only path the service writes.
RUN install -d -o 10001 -g 10001 -m 0750 /var/lib/driftscope
USER 10001:10001
EXPOSE 8000
# Liveness: GET /healthz; readiness: GET /readyz (references load before the port opens).
# SIGTERM (docker stop) shuts down gracefully.
ENTRYPOINT ["/usr/local/bin/driftscope"]
# monitors.container.yaml: the bundled demo with bearer-token authentication on (tokens from
# /app/secrets/ingest_token and read_token, mounted by the operator), listening on all
# interfaces. Without tokens it refuses to start, naming the missing file.
CMD ["serve", "--config", "/app/monitors.container.yaml"]
