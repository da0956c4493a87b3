"""Keys are built only in the key module (chalicelib/store/keys.py): a source scan fails on any other.

Two rules over every chalicelib module but keys.py, read with `ast` (docstrings are skipped):
1. No string literal or f-string looks like a key: it starts with a prefix keys.py uses (`T#`, `OP#`),
   contains one of its `#` segments (`USER#`, `#TENANT`, ...), or is exactly one of its fixed sort
   keys (`TENANT`, `PROFILE`, ...). The vocabulary is read from keys.py itself.
2. A value given to a key attribute (PK, SK, GSI<n>PK, GSI<n>SK) - as a keyword argument, an attribute
   or subscript assignment, or a low-level `{"PK": {"S": ...}}` entry - comes from the key module
   (`keys.user_pk(...)`, `keys.USER_SK`) or is None.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"
KEYS = PACKAGE / "store" / "keys.py"
KEYS_MODULE = "chalicelib.store.keys"
DOC = ROOT / "docs" / "access-patterns.md"
KEY_ATTR = re.compile(r"^(PK|SK|GSI\d+PK|GSI\d+SK)$")


# --- what keys look like, learnt from keys.py itself ---------------------------------------------------

@dataclass(frozen=True)
class KeyVocabulary:
    prefixes: frozenset[str]  # a key starts with one of these: T#, OP#
    segments: frozenset[str]  # '#'-delimited pieces: USER#, EMAIL#, EVENTS#, ...
    words: frozenset[str]  # upper-case key words: TENANT, USERS, HEALTH, ... (suspect after a '#')
    sort_keys: frozenset[str]  # the fixed sort keys: TENANT, PROFILE, ... (suspect on their own)


def _fstring_text(node: ast.JoinedStr) -> str:
    """An f-string with each placeholder as `{}`: f"T#{t}#USER" -> "T#{}#USER"."""
    return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
                   for v in node.values)


@lru_cache(maxsize=1)
def vocabulary() -> KeyVocabulary:
    tree = ast.parse(KEYS.read_text())
    skip = _docstrings(tree) | {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    fstrings = [_fstring_text(n) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)]
    plain = [n.value for n in ast.walk(tree)
             if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip]
    texts = fstrings + plain
    prefixes, segments, words = set(), set(), set()
    sort_keys = {t for t in plain if re.fullmatch(r"[A-Z]{3,}", t)}
    for text in texts:
        for piece in re.findall(r"[A-Z][A-Z0-9_]*#", text):
            (prefixes if text.startswith(piece) else segments).add(piece)
        words |= {w for w in re.findall(r"(?<![A-Za-z])[A-Z]{3,}(?![A-Za-z])", text)}
    words -= {p.rstrip("#") for p in prefixes}
    return KeyVocabulary(frozenset(prefixes), frozenset(segments), frozenset(words), frozenset(sort_keys))


def key_like(text: str, vocab: KeyVocabulary) -> bool:
    if any(text.startswith(p) for p in vocab.prefixes) or any(s in text for s in vocab.segments):
        return True
    if text in vocab.sort_keys:
        return True
    return any(f"#{w}" in text for w in vocab.words)


# --- the scan -----------------------------------------------------------------------------------------

def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _key_module_names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """Names bound to the key module (`keys`) and names imported from it (`user_pk`)."""
    modules, members = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "chalicelib.store":
            modules |= {a.asname or a.name for a in node.names if a.name == "keys"}
        elif isinstance(node, ast.ImportFrom) and node.module == KEYS_MODULE:
            members |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name == KEYS_MODULE and a.asname}
    return modules, members


class _Checker:
    def __init__(self, tree: ast.AST) -> None:
        self.modules, self.members = _key_module_names(tree)

    def from_keys(self, node: ast.AST | None) -> bool:
        """True when the value comes from the key module (or is None)."""
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return True
        if isinstance(node, ast.Call):
            return self.from_keys_ref(node.func)
        if isinstance(node, ast.IfExp):
            return self.from_keys(node.body) and self.from_keys(node.orelse)
        if isinstance(node, ast.Dict):  # low-level attribute values: {"S": keys.x(...)}
            return bool(node.values) and all(self.from_keys(v) for v in node.values)
        return self.from_keys_ref(node)

    def from_keys_ref(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return isinstance(node.value, ast.Name) and node.value.id in self.modules
        return isinstance(node, ast.Name) and node.id in self.members


def _target_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)
    return None


def _pairs(targets: list[ast.expr], value: ast.expr) -> list[tuple[ast.AST, ast.AST]]:
    out: list[tuple[ast.AST, ast.AST]] = []
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List) and isinstance(value, ast.Tuple | ast.List) \
                and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts, strict=True):
                out += _pairs([t], v)
        else:
            out.append((target, value))
    return out


class _Scan:
    def __init__(self, tree: ast.AST, filename: str) -> None:
        self.filename, self.vocab, self.check = filename, vocabulary(), _Checker(tree)
        self.skip = _docstrings(tree) | {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)
                                         for v in n.values}  # an f-string is judged whole
        self.problems: list[str] = []

    def report(self, node: ast.AST, what: str) -> None:
        self.problems.append(f"{self.filename}:{getattr(node, 'lineno', '?')}: {what}")

    def literal(self, node: ast.Constant | ast.JoinedStr) -> None:
        if isinstance(node, ast.JoinedStr):
            if key_like(_fstring_text(node), self.vocab):
                self.report(node, f"f-string key {_fstring_text(node)!r}")
        elif isinstance(node.value, str) and id(node) not in self.skip and key_like(node.value, self.vocab):
            self.report(node, f"key-like literal {node.value!r}")

    def value(self, node: ast.AST, label: str, value: ast.AST) -> None:
        if not self.check.from_keys(value):
            self.report(node, f"{label} is not built by the key module")

    def call(self, node: ast.Call) -> None:
        for kw in node.keywords:
            if kw.arg and KEY_ATTR.match(kw.arg):
                self.value(kw.value, f"{kw.arg}= {ast.unparse(kw.value)}", kw.value)

    def assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target, value in _pairs(targets, node.value) if node.value is not None else ():
            name = _target_name(target)
            if name and KEY_ATTR.match(name):
                self.value(value, f"{ast.unparse(target)} = {ast.unparse(value)}", value)

    def dict(self, node: ast.Dict) -> None:
        for k, v in zip(node.keys, node.values, strict=True):
            if isinstance(k, ast.Constant) and isinstance(k.value, str) and KEY_ATTR.match(k.value):
                self.value(v, f"{{{k.value!r}: {ast.unparse(v)}}}", v)


def scan_source(source: str, filename: str = "<snippet>") -> list[str]:
    """Every place in `source` that builds a key outside the key module."""
    tree = ast.parse(source, filename)
    scan = _Scan(tree, filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant | ast.JoinedStr):
            scan.literal(node)
        elif isinstance(node, ast.Call):
            scan.call(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            scan.assign(node)
        elif isinstance(node, ast.Dict):
            scan.dict(node)
    return scan.problems


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != KEYS)


def test_keys_are_built_only_in_the_key_module() -> None:
    problems = [p for path in _modules()
                for p in scan_source(path.read_text(), str(path.relative_to(ROOT)))]
    assert not problems, "keys built outside chalicelib/store/keys.py:\n  " + "\n  ".join(problems)


# --- the guard guards ---------------------------------------------------------------------------------

OFFENDING = '''
from chalicelib.store import keys
from chalicelib.store.models import Item, User

def bad(tenant_id, user_id, email, slug):
    item = Item(PK=f"T#{tenant_id}#USER#{user_id}", SK="PROFILE")
    user = User(PK=keys.user_pk(tenant_id, user_id), SK=keys.USER_SK, GSI1SK=email.lower())
    user.GSI1PK = "T#" + tenant_id + "#USERS"
    user.GSI2PK, user.GSI2SK = keys.reports_gsi2pk(tenant_id, user_id), slug
    low = {"PK": {"S": tenant_id}, "SK": {"S": "HEALTH"}}
    pk = "OP#TENANTS"
    return item, user, low, pk
'''

CLEAN = '''
"""Docstrings may talk about T#<t>#USER#<u> keys."""
from chalicelib.store import keys
from chalicelib.store.keys import user_pk
from chalicelib.store.models import Item, User

def good(tenant_id, user_id, parent):
    item = Item(PK=user_pk(tenant_id, user_id), SK=keys.USER_SK, GSI2PK=None,
                GSI1PK=keys.child_tenants_gsi1pk(parent) if parent else None)
    item.GSI2PK = item.GSI2SK = None
    item.PK, item.SK = keys.user_pk(tenant_id, user_id), keys.USER_SK
    low = {"PK": {"S": keys.health_pk()}}
    pointer = {"field": "slug", "pointer": "#/slug"}
    color = "#1f6feb"
    return item, low, pointer, color, Item.PK.does_not_exist(), {"key_attr": "PK"}
'''


def test_the_guard_catches_keys_built_elsewhere() -> None:
    found = scan_source(OFFENDING)
    expected = [":6: f-string key", ":6: key-like literal 'PROFILE'", ":6: PK= ", ":7: GSI1SK= email.lower()",
                ":8: key-like literal 'T#'", ":8: user.GSI1PK = ", ":9: user.GSI2SK = slug",
                ":10: {'PK': {'S': tenant_id}}", ":10: {'SK': {'S': 'HEALTH'}}",
                ":11: key-like literal 'OP#TENANTS'"]
    for fragment in expected:
        assert any(fragment in p for p in found), (fragment, found)
    assert not any(":7: PK=" in p or ":7: SK=" in p or ":9: user.GSI2PK" in p for p in found), found


def test_the_guard_passes_keys_from_the_key_module() -> None:
    assert scan_source(CLEAN) == []


def test_the_vocabulary_comes_from_keys_py() -> None:
    vocab = vocabulary()
    assert {"T#", "OP#"} <= vocab.prefixes
    assert {"USER#", "EMAIL#", "CLIENT#", "EVENTS#"} <= vocab.segments
    assert {"TENANT", "PROFILE", "USERS", "HEALTH"} <= vocab.words
    assert {"TENANT", "PROFILE", "EMAIL", "CLIENT", "SLUG", "HEALTH", "LRSKEY", "STATEMENT", "COURSE", "CSLUG",
            "UPLOAD", "ENROLLMENT", "ATTEMPT", "PATH", "EXTID", "CERTPROG", "CERT", "CERTID", "XFWD", "XACT",
            "JOBSTATE", "CERTCOUNTS", "CERTEXPORT", "PTIERS",
            "LEADROUTING", "LEAD", "LEADEXT",
            "BKDRAFT",
            "SLACAL", "SLAPOLICY", "CASE",
            "ONBPLAN", "SCORECFG",
            "CRMCFG", "CRMREC", "CRMEVT", "SCIMTOKEN", "GROUP", "GROUPNAME", "UIMPORT", "UNAME"} == vocab.sort_keys


# --- the access-pattern document ----------------------------------------------------------------------

def key_builders() -> list[str]:
    """Public functions of keys.py that return a key (annotated `-> str`)."""
    tree = ast.parse(KEYS.read_text())
    return [node.name for node in tree.body
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
            and isinstance(node.returns, ast.Name | ast.Constant)
            and (getattr(node.returns, "id", None) or getattr(node.returns, "value", None)) == "str"]


def test_access_patterns_doc_names_every_key_builder() -> None:
    assert DOC.exists(), f"{DOC.relative_to(ROOT)} is missing: it documents the access patterns of keys.py"
    text = DOC.read_text()
    missing = [name for name in key_builders() if name not in text]
    assert not missing, f"{DOC.relative_to(ROOT)} does not mention these key builders: {missing}"
