"""Print the CQL library generated from the packaged knowledge base (``make cpg`` commits it)."""

from __future__ import annotations

import sys

from fasciculate._kb import knowledge_base
from fasciculate.cpg._cql import cql_library

if __name__ == "__main__":  # pragma: no cover - run by `make cpg`, checked by its staleness test
    sys.stdout.write(cql_library(knowledge_base()))
