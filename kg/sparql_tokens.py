"""A SPARQL token stream, enough to find keywords and group braces where the parser would see them.

Whitespace, comments and strings (all four quote forms) are skipped; IRIs, variables and prefixed
names (with PN_LOCAL escapes such as ``ex:a\\#b``, whose ``#`` does not start a comment) are single
tokens. Anything unexpected becomes a one-character token: text is never swallowed. Used wherever
code must understand a query's text without evaluating it (parameter binding, the endpoint's
SERVICE/LOAD guard).
"""
from __future__ import annotations

import re

TOKEN = re.compile(
    r'(?P<skip>\s+|#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')'
    r'|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'
    r'|(?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)'
    r'|(?P<pname>(?:[^\W\d_][\w.-]*)?:(?:[\w:%-]|\\[_~.\-!$&\'()*+,;=/?#@%]|\.(?=[\w:%\\-]))*)'
    r'|(?P<word>[^\W\d][\w]*)'
    r'|(?P<other>.)',
    re.DOTALL,
)


def positioned_tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, offset) of every token but whitespace and comments; kind is one of ``iri``,
    ``var``, ``pname``, ``word``, ``other``."""
    return [(m.lastgroup or "", m.group(), m.start()) for m in TOKEN.finditer(text) if m.lastgroup != "skip"]


def group_openings(text: str) -> list[int]:
    """Offsets just after the ``{`` of every WHERE clause — the query's own and each subquery's —
    found in the token stream (so ``WHERE {`` inside a comment, string or IRI does not count). A
    query whose form is ASK or SELECT without the optional WHERE keyword gets its first ``{``."""
    tokens = positioned_tokens(text)
    out: list[int] = []
    for i, (kind, value, _) in enumerate(tokens):
        if kind == "word" and value.upper() == "WHERE" and i + 1 < len(tokens) and tokens[i + 1][1] == "{":
            out.append(tokens[i + 1][2] + 1)
    if not out:
        forms = [v.upper() for k, v, _ in tokens if k == "word" and v.upper() in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")]
        if forms and forms[0] in ("SELECT", "ASK"):
            first = next((o for k, v, o in tokens if v == "{"), None)
            if first is not None:
                out.append(first + 1)
    return out


def undeclared_prefixes(text: str) -> list[str]:
    """The prefixes that prefixed names in ``text`` use without a ``PREFIX`` declaration before them, in
    order of first use, each once (``""`` for the empty prefix of ``:name``). Comments, strings and
    IRIs do not count (the token stream skips them)."""
    declared: set[str] = set()
    out: list[str] = []
    tokens = positioned_tokens(text)
    for i, (kind, value, _) in enumerate(tokens):
        if kind != "pname":
            continue
        prefix = value.partition(":")[0]
        if i > 0 and tokens[i - 1][0] == "word" and tokens[i - 1][1].upper() == "PREFIX":
            declared.add(prefix)
        elif prefix not in declared and prefix not in out:
            out.append(prefix)
    return out


def missing_prefix_help(text: str) -> tuple[str, list[dict[str, str | None]]] | None:
    """For a query whose parser reported an unknown prefix: a message naming the undeclared prefixes of
    ``text`` (:func:`undeclared_prefixes`) with, for DLOM's own (:data:`kg.namespaces.PREFIXES`), the
    PREFIX line to add; and per prefix ``{prefix, iri, declaration}`` (``iri`` and ``declaration`` None
    for a prefix DLOM does not know). None when every prefix is declared."""
    from kg.namespaces import PREFIXES

    missing = undeclared_prefixes(text)
    if not missing:
        return None
    found = [{"prefix": p, "iri": PREFIXES.get(p), "declaration": f"PREFIX {p}: <{PREFIXES[p]}>" if p in PREFIXES else None}
             for p in missing]
    known = [d["declaration"] for d in found if d["declaration"]]
    unknown = [f"{p}:" for p in missing if p not in PREFIXES]
    message = (f"undeclared prefix {', '.join(f'{p}:' for p in missing)} (used without a PREFIX line)"
               + (f"; add {' and '.join(str(k) for k in known)} at the top" if known else "")
               + (f"; declare {', '.join(unknown)} with PREFIX name: <namespace IRI>" if unknown else ""))
    return message, found
