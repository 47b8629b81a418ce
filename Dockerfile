# syntax=docker/dockerfile:1
#
# The Airlock server as a container: a builder stage compiles the `airlock` binary (the
# bundled plugins are compiled to WebAssembly and embedded by host/build.rs), and the
# runtime stage is distroless: the binary, CA certificates, glibc, no shell, non-root.
#
#   docker build -t airlock .
#   docker build --build-arg FEATURES=otel -t airlock:otel .   # with OpenTelemetry traces
#   docker run --rm -p 8080:8080 -v airlock-data:/var/lib/airlock airlock
#
# See docs/deployment.md (configuration, health checks, compose.yaml).

# Debian 12 (bookworm) like the runtime image, so the binary needs no newer glibc than
# the runtime has.
ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS builder
# Cargo features of the `airlock` crate, comma-separated (e.g. `otel`); none by default.
ARG FEATURES=""
WORKDIR /src
# The toolchain and the guest targets first (rust-toolchain.toml pins the version), so
# that this layer is cached across source changes.
COPY rust-toolchain.toml ./
RUN rustup show active-toolchain || rustup toolchain install; \
    rustup target add wasm32-wasip2 wasm32-unknown-unknown
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p airlock --features "${FEATURES}" \
    && install -D -m 0755 target/release/airlock /out/usr/local/bin/airlock \
    && install -d -m 0750 /out/var/lib/airlock

FROM ${RUNTIME_IMAGE}
# distroless/cc has glibc, libgcc and the CA bundle; the builder's bundle is copied over
# it so the trust store matches the one the binary was built and tested with.
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=builder /out/usr/local/bin/airlock /usr/local/bin/airlock
# The data directory (compiled-plugin cache, uploaded plugins, the SQLite store), owned
# by the non-root user (65532 is `nonroot` in distroless images).
COPY --from=builder --chown=65532:65532 /out/var/lib/airlock /var/lib/airlock
USER 65532:65532
WORKDIR /var/lib/airlock
ENV AIRLOCK_LISTEN=0.0.0.0:8080 \
    AIRLOCK_DATA_DIR=/var/lib/airlock \
    RUST_LOG=info
VOLUME ["/var/lib/airlock"]
EXPOSE 8080
# No HEALTHCHECK: the image has no shell and no HTTP client to run one. Probe
# GET /healthz (liveness) and GET /readyz (readiness) from the orchestrator instead
# (docs/deployment.md).
ENTRYPOINT ["/usr/local/bin/airlock"]
CMD ["serve"]
