# syntax=docker/dockerfile:1
# The leftovers service: a uv build stage, then a slim non-root runtime with state on a volume.

FROM ghcr.io/astral-sh/uv:0.9.5 AS uv

FROM python:3.11-slim-bookworm AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first, so that code changes do not rebuild them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY scanner ./scanner
COPY emulator ./emulator
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 leftovers \
    && useradd --system --uid 10001 --gid leftovers --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin leftovers \
    && mkdir -p /var/lib/leftovers /etc/leftovers \
    && chown 10001:10001 /var/lib/leftovers
COPY --from=build /app/.venv /app/.venv
COPY config/leftovers.yaml /etc/leftovers/leftovers.yaml
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /var/lib/leftovers
VOLUME ["/var/lib/leftovers"]
USER 10001:10001
EXPOSE 9100
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["leftovers"]
CMD ["serve", "--config", "/etc/leftovers/leftovers.yaml", "--listen", "0.0.0.0:9100", "--state", "/var/lib/leftovers/state.db"]
