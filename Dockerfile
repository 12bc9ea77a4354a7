# phonebot: build wheels of the dependencies, then of the project, in a builder stage; install only
# those wheels in a slim runtime stage that runs as a non-root user.
# Needs BuildKit (the default builder since Docker 23) for the RUN --mount below.
#
#   docker build -t phonebot .
#   docker run -p 3000:3000 -e SLACK_BOT_TOKEN=... -e SLACK_SIGNING_SECRET=... \
#       -e REDIS_URL=redis://redis:6379/0 -e PHONEBOT_CONFIG=/config/phonebot.yml \
#       -v "$PWD/phonebot.yml:/config/phonebot.yml:ro" phonebot
#
# compose.yaml (beside this file) starts it with Valkey and mounts the config at the same /config path.

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Dependencies first, from pyproject.toml and constraints.txt only: a source edit reuses this layer
# instead of rebuilding every wheel. constraints.txt pins every dependency, so two builds of one
# commit install the same versions.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip wheel --constraint constraints.txt --wheel-dir /wheels --requirement requirements.txt
# .dockerignore keeps tests, the venv, caches, git metadata and local secrets out of the context.
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000
RUN groupadd --system --gid 10001 phonebot \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/phonebot \
       --shell /usr/sbin/nologin phonebot
# Install from the builder's wheels only (no index, no build tools, no source tree in this stage);
# the version is pinned by the wheel that was just built.
# hadolint ignore=DL3013
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels phonebot
WORKDIR /home/phonebot
EXPOSE 3000
# slim has no curl: probe with the interpreter that is already there. Shell form so that
# ${PORT} is read from the container's environment at check time.
# hadolint ignore=DL3025
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PORT}/healthz', timeout=4)" || exit 1
# The phonebot user, by number so that Kubernetes' runAsNonRoot can verify it is not root.
USER 10001:10001
CMD ["phonebot", "serve", "--host", "0.0.0.0"]
