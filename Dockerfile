# The DLOM API (`dlom serve`) with the core install only (no torch): the knowledge graph, SPARQL,
# GraphQL, REST, the UI and prediction with the shipped ONNX scorer (onnxruntime). The store comes from
# DLOM_STORE (docker-compose.yml points it at Neo4j); without it the embedded store under
# DLOM_HOME=/data (a volume) is used. Training and measuring need the 'gnn'/'bench' extras: build
# with --build-arg DLOM_EXTRAS="[all]" for those.
#
# Stage 1 fetches the UI's front-end libraries from npm (exact versions in ui/package-lock.json) and
# builds the wheel; stage 2 installs only the wheel.
FROM node:20-bookworm-slim AS ui
WORKDIR /src
COPY ui ./ui
COPY scripts/setup_ui.sh ./scripts/
RUN mkdir -p api/static && bash scripts/setup_ui.sh

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY bench ./bench
COPY decision ./decision
COPY dlom ./dlom
COPY gnn ./gnn
COPY kg ./kg
COPY measure ./measure
COPY --from=ui /src/api/static/vendor ./api/static/vendor
RUN pip install --no-cache-dir "build>=1.2" && python -m build --wheel --outdir /dist .

FROM python:3.11-slim
ARG DLOM_EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DLOM_HOME=/data
COPY --from=wheel /dist /dist
# neo4j-rust-ext: the Neo4j driver's optional native speed-up (compose runs the API on Neo4j).
RUN pip install "$(ls /dist/dlom-*.whl)${DLOM_EXTRAS}" neo4j-rust-ext && rm -rf /dist \
 && useradd --create-home --uid 10001 dlom && mkdir -p /data && chown dlom /data
USER dlom
WORKDIR /home/dlom
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"
CMD ["dlom", "serve", "--host", "0.0.0.0", "--port", "8000"]
