# The DLOM API (`dlom serve`) for docker-compose.yml. The store comes from DLOM_STORE (the compose file
# points it at the Neo4j service); without it the embedded store under DLOM_HOME=/data is used.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DLOM_HOME=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY bench ./bench
COPY decision ./decision
COPY dlom ./dlom
COPY gnn ./gnn
COPY kg ./kg
# The Neo4j and remote-SPARQL store backends need these at run time (kg/stores/neo4j.py, sparql_remote.py).
RUN pip install . "neo4j>=5" neo4j-rust-ext "rdflib>=7" "sparqlwrapper>=2" \
 && useradd --create-home --uid 10001 dlom && mkdir -p /data && chown dlom /data
USER dlom
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"
CMD ["dlom", "serve", "--host", "0.0.0.0", "--port", "8000"]
