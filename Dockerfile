# Container images for every microshop binary, from one multi-stage Dockerfile.
#
# One target per binary: products, users, orders, payments, notifications, storefront, operator, loadgen.
#
#   docker build --target products -t ghcr.io/microshop/microshop-products:0.1.0 .
#
# Multi-arch (linux/amd64 + linux/arm64): the Rust stages run on the build machine's own platform
# (--platform=$BUILDPLATFORM) and cross-compile for $TARGETARCH, so no slow QEMU emulation of rustc:
#
#   docker buildx build --platform linux/amd64,linux/arm64 --target products \
#     -t ghcr.io/microshop/microshop-products:0.1.0 --push .
#
# Stages:
#   chef     Rust toolchain + cargo-chef (pinned), on the build platform
#   planner  `cargo chef prepare`: reduces the workspace to a recipe (manifests + lock file)
#   builder  cross toolchain for the target, `cargo chef cook` (dependencies only: this layer is
#            cached until Cargo.toml/Cargo.lock change), then the real release build of all binaries
#   runtime  distroless cc-debian12 (glibc + libgcc, CA certificates, no shell), uid/gid 65532
#   <binary> one thin stage per binary: the runtime plus that executable
#
# The services talk to Postgres without TLS and the operator uses rustls (ring): no OpenSSL anywhere.
# See docs/deployment.md ("Images") and docs/deployment-contract.md.

# Bookworm for the build so the binaries link against the same glibc (2.36) as distroless debian12.
ARG RUST_VERSION=1.95
ARG DEBIAN_SUITE=bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-slim-${DEBIAN_SUITE} AS chef
ARG CARGO_CHEF_VERSION=0.1.78
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}" \
    && rm -rf "${CARGO_HOME}/registry" "${CARGO_HOME}/git"
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# Set by BuildKit from --platform (or the host when no --platform is given).
ARG TARGETARCH
# Map the Docker architecture to a Rust target triple, install the cross C toolchain when the
# target differs from the build machine (ring compiles C and assembly), and record the triple.
# The cross packages are not version-pinned (DL3008): they follow the pinned Debian suite, and exact
# Debian versions disappear from the mirrors at every point release.
# hadolint ignore=DL3008
RUN set -eu; \
    build_arch="$(dpkg --print-architecture)"; \
    target_arch="${TARGETARCH:-$build_arch}"; \
    case "$target_arch" in \
      amd64) triple=x86_64-unknown-linux-gnu;  cross_gcc=gcc-x86-64-linux-gnu;  cross_libc=libc6-dev-amd64-cross ;; \
      arm64) triple=aarch64-unknown-linux-gnu; cross_gcc=gcc-aarch64-linux-gnu; cross_libc=libc6-dev-arm64-cross ;; \
      *) echo "unsupported TARGETARCH '$target_arch' (supported: amd64, arm64)" >&2; exit 1 ;; \
    esac; \
    if [ "$target_arch" != "$build_arch" ]; then \
      apt-get update; \
      apt-get install -y --no-install-recommends "$cross_gcc" "$cross_libc"; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    rustup target add "$triple"; \
    echo "$triple" > /rust-target
# Linker and C compiler per target. On a native build these names are Debian's own gcc aliases
# (x86_64-linux-gnu-gcc on amd64, aarch64-linux-gnu-gcc on arm64), so one setting serves both cases.
# The release profile is tightened here rather than in Cargo.toml: stripped symbols and thin LTO
# aim at the 40 MB image target. SQLX_OFFLINE makes sqlx macros use the committed .sqlx/ data.
ENV CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=x86_64-linux-gnu-gcc \
    CC_x86_64_unknown_linux_gnu=x86_64-linux-gnu-gcc \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    CARGO_PROFILE_RELEASE_LTO=thin \
    CARGO_TERM_COLOR=never \
    SQLX_OFFLINE=true
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: rebuilt when the recipe (manifests, lock file) changes, not when source does.
RUN cargo chef cook --release --locked --workspace --target "$(cat /rust-target)" --recipe-path recipe.json
COPY . .
# One build for every binary: the image targets below share this stage, so building all of
# them (compose, scripts/kind-up.sh, buildx bake) compiles the workspace once.
RUN set -eu; \
    triple="$(cat /rust-target)"; \
    cargo build --release --locked --target "$triple" \
      -p products -p users -p orders -p payments -p notifications -p storefront -p operator -p loadgen; \
    mkdir -p /out; \
    for bin in products users orders payments notifications storefront operator loadgen; do \
      cp "target/$triple/release/$bin" /out/; \
    done; \
    ls -l /out

FROM ${RUNTIME_IMAGE} AS runtime
ARG RUNTIME_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ARG SOURCE=https://github.com/microshop/microshop
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.url="${SOURCE}" \
      org.opencontainers.image.documentation="${SOURCE}/blob/main/docs/deployment.md" \
      org.opencontainers.image.vendor="microshop" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"
# Numeric uid/gid so Kubernetes' runAsNonRoot can verify it (docs/deployment-contract.md).
USER 65532:65532
# Every binary listens on 8080 (LISTEN_ADDR defaults to 0.0.0.0:8080; the operator serves metrics and health there).
EXPOSE 8080

FROM runtime AS products
LABEL org.opencontainers.image.title="microshop-products" \
      org.opencontainers.image.description="microshop products service: catalogue, search and stock reservations"
COPY --from=builder /out/products /usr/local/bin/products
ENTRYPOINT ["/usr/local/bin/products"]

FROM runtime AS users
LABEL org.opencontainers.image.title="microshop-users" \
      org.opencontainers.image.description="microshop users service: accounts, login and JWT issuing"
COPY --from=builder /out/users /usr/local/bin/users
ENTRYPOINT ["/usr/local/bin/users"]

FROM runtime AS orders
LABEL org.opencontainers.image.title="microshop-orders" \
      org.opencontainers.image.description="microshop orders service: the purchase saga"
COPY --from=builder /out/orders /usr/local/bin/orders
ENTRYPOINT ["/usr/local/bin/orders"]

FROM runtime AS payments
LABEL org.opencontainers.image.title="microshop-payments" \
      org.opencontainers.image.description="microshop payments service: a simulated card processor"
COPY --from=builder /out/payments /usr/local/bin/payments
ENTRYPOINT ["/usr/local/bin/payments"]

FROM runtime AS notifications
LABEL org.opencontainers.image.title="microshop-notifications" \
      org.opencontainers.image.description="microshop notifications service: order events from NATS JetStream become e-mails"
COPY --from=builder /out/notifications /usr/local/bin/notifications
ENTRYPOINT ["/usr/local/bin/notifications"]

FROM runtime AS storefront
LABEL org.opencontainers.image.title="microshop-storefront" \
      org.opencontainers.image.description="microshop storefront: the server-rendered web shop"
COPY --from=builder /out/storefront /usr/local/bin/storefront
ENTRYPOINT ["/usr/local/bin/storefront"]

FROM runtime AS operator
LABEL org.opencontainers.image.title="microshop-operator" \
      org.opencontainers.image.description="microshop Kubernetes operator: reconciles Shop resources"
COPY --from=builder /out/operator /usr/local/bin/operator
ENTRYPOINT ["/usr/local/bin/operator"]
CMD ["run"]

FROM runtime AS loadgen
LABEL org.opencontainers.image.title="microshop-loadgen" \
      org.opencontainers.image.description="microshop load generator: simulated shoppers and admin restocks"
COPY --from=builder /out/loadgen /usr/local/bin/loadgen
ENTRYPOINT ["/usr/local/bin/loadgen"]
