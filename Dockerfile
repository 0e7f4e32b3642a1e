# The HTTP server (docs/server.md): any shipped scenario and the graded tasks on port 8000.
#   docker build -t invmgmt-marl-server .
#   docker run --rm -p 8000:8000 invmgmt-marl-server
# Only the core dependencies and the server extra are installed (no torch, no ray).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    INVMGMT_MARL_CACHE=/tmp/invmgmt-marl-cache

WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY invmgmt_marl ./invmgmt_marl
COPY scenarios ./scenarios
RUN pip install ".[server]" && rm -rf /src

# an unprivileged user; tuned baselines are cached under /tmp
RUN useradd --create-home --uid 10001 invmgmt
USER invmgmt
WORKDIR /home/invmgmt

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"
CMD ["invmgmt-marl", "serve", "--host", "0.0.0.0", "--port", "8000"]
