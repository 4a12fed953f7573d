# wsgate's container image: the gateway binary and the example plugins.
#
#   docker build -t wsgate .
#   docker run -p 8080:8080 wsgate                      # the chat example on ws://localhost:8080
#   docker run -v $PWD/plugins:/plugins wsgate --plugins /plugins
#
# Stage 1 builds the host and every component with the project's own tasks
# (`cargo xtask plugins` also installs the Python and JavaScript component
# toolchains, which need python3-venv and npm); stage 2 is a slim Debian with
# only what runs.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv npm \
    && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
RUN cargo xtask plugins \
    && cargo build --release -p wsgate --bin wsgate \
    && mkdir -p /out/plugins/chat /out/plugins/echo \
    && cp target/release/wsgate /out/ \
    && cp examples/chat/plugins/chat.wasm examples/chat/plugins/wsgate.toml /out/plugins/chat/ \
    && cp 'plugins/echo/dist/$default.wasm' /out/plugins/echo/

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/wsgate --create-home wsgate
COPY --from=build /out/wsgate /usr/local/bin/wsgate
COPY --from=build /out/plugins /usr/share/wsgate/plugins
USER wsgate
# Compiled components are cached here, so a restart skips compiling; the
# embedded key-value store lives in data (mount a volume to keep it; in a
# cluster the store is the cluster's Redis instead).
ENV WSGATE_CACHE_DIR=/var/lib/wsgate/cache \
    WSGATE_DATA_DIR=/var/lib/wsgate/data \
    WSGATE_LISTEN=0.0.0.0:8080 \
    WSGATE_PLUGINS=/usr/share/wsgate/plugins/chat
# 8080: WebSocket clients, GET /health and GET /ready; 8081: the management API.
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/wsgate", "serve"]
