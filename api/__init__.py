"""The DLOM web service: SPARQL 1.1 endpoint, GraphQL, REST and the web UI in one FastAPI app."""
