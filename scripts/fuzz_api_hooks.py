"""Schemathesis hooks for `scripts/fuzz-api`: real ids and versions, and ClaimTrack's checks.

The generator writes arguments at random, so an update, a delete, a publish, a link's
settlement or a purge would only ever meet ids that do not exist. Before each call the
document is rewritten: most ids (and slugs) are replaced by real ones of the type the
argument names, and each `version` beside an `id` by that record's current version (read
from its revisions, so deleted records count too). The pool of real values is read
through the API with an admin key, and read again every few seconds as the run creates
and deletes records.

Checks, on every response: no 5xx; a JSON body whose every error carries
`extensions.code`; no `INTERNAL`; no message that shows SQL or Rust internals. Each call
is also counted per operation (cases, and cases that came back with data), for the
script's report. Settings come from the environment (`FUZZ_API_*`, set by the script).
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
import urllib.request
from pathlib import Path

import graphql
import schemathesis

URL = os.environ["FUZZ_API_URL"]
ADMIN_KEY = os.environ["FUZZ_API_ADMIN_KEY"]
STATS = os.environ["FUZZ_API_STATS"]
# How often an id or slug the generator wrote is replaced by a real one.
REAL = float(os.environ.get("FUZZ_API_REAL", "0.85"))
REFRESH_SECONDS = 5.0
# The hooks' own randomness: Hypothesis reseeds the global `random` for every case it
# generates, which would make every choice below the same one.
RNG = random.Random(int(os.environ.get("FUZZ_API_SEED", "0")) or None)
# Where the records made by the run are listed, for later passes.
FRESH_FILE = os.environ.get("FUZZ_API_FRESH")
# A file to write every document sent to, when set.
DEBUG = os.environ.get("FUZZ_API_DEBUG")
# How often a text the generator wrote is made acceptable (control characters taken
# out, a web address or a language code put in where the field wants one), so that
# writes get past the input checks and reach the code behind them.
PLAIN = float(os.environ.get("FUZZ_API_PLAIN", "0.6"))
# What the service's input check refuses (`validate::plain` in api/src/service/validate.rs).
REFUSED_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
LANGUAGES = ["en", "pl", "de", "fr", "es", "uk"]

# Real ClaimReview documents, for `importClaimReview(document: JSON!)`.
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "claimreview"


def _json_node(value) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal, for the `JSON` scalar."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, float):
        return graphql.FloatValueNode(value=repr(value))
    if isinstance(value, str):
        return graphql.StringValueNode(value=value)
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(_json_node(v) for v in value))
    return graphql.ObjectValueNode(fields=tuple(
        graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=_json_node(v))
        for k, v in value.items()
    ))


def _documents():
    """JSON for the `JSON` scalar: a real ClaimReview document, one with a field taken out
    or made the wrong type, or any small JSON value."""
    from hypothesis import strategies as st

    real = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=12,
    )

    def spoil(doc, key, junk):
        doc = json.loads(json.dumps(doc))
        if isinstance(doc, dict) and doc:
            keys = sorted(doc)
            doc[keys[key % len(keys)]] = junk
        return doc

    documents = st.sampled_from(real) if real else json_values
    spoiled = st.builds(spoil, documents, st.integers(0, 50), json_values)
    return st.one_of(documents, spoiled, json_values).map(_json_node)


schemathesis.graphql.scalar("JSON", _documents())

# The type an id argument names, by argument name.
ID_ARGUMENTS = {
    "speakerId": "speaker", "speakerIds": "speaker", "reportedById": "speaker",
    "claimId": "claim", "claimIds": "claim",
    "statementId": "statement", "statementIds": "statement",
    "sourceStatementId": "statement", "targetStatementId": "statement",
    "reviewerId": "outlet", "outletId": "outlet",
    "articleId": "article", "articleIds": "article", "targetArticleId": "article",
    "topicId": "topic", "topicIds": "topic", "parentId": "topic",
    "roleId": "role",
    "entityId": "any",
    "watchlistId": "watchlist", "webhookId": "webhook", "deliveryId": "delivery",
}
SLUG_ARGUMENTS = {
    "speakerSlug": "speaker", "speakerSlugs": "speaker",
    "claimSlug": "claim", "claimSlugs": "claim",
}
# The type an `id` names, by the field it is given to (its root field's name, after a
# verb when there is one).
ID_OF_FIELD = [
    ("SpeakerRole", "role"), ("speakerRole", "role"), ("ApiKey", "key"),
    ("Speaker", "speaker"), ("speaker", "speaker"), ("Outlet", "outlet"), ("outlet", "outlet"),
    ("Article", "article"), ("article", "article"), ("Claim", "claim"), ("claim", "claim"),
    ("Topic", "topic"), ("topic", "topic"), ("Statement", "statement"), ("statement", "statement"),
    ("Verdict", "verdict"), ("verdict", "verdict"), ("Link", "link"), ("link", "link"),
    ("purgeRecord", "any"), ("Appearance", "statement"),
    ("Watchlist", "watchlist"), ("watchlist", "watchlist"), ("Webhook", "webhook"),
]
SCHEMA = graphql.build_schema(
    (Path(__file__).resolve().parent.parent / "api" / "schema.graphql").read_text(encoding="utf-8")
)
# The alias under which a create mutation's record is asked for its id (see `_fresh`).
FRESH = "fuzzFresh"
# Kinds of record by their object type, for the records the run creates.
KIND_OF_TYPE = {
    "Speaker": "speaker", "SpeakerRole": "role", "Outlet": "outlet", "Article": "article",
    "Claim": "claim", "Topic": "topic", "Statement": "statement", "Verdict": "verdict",
    "Link": "link", "ApiKey": "key", "Watchlist": "watchlist", "Webhook": "webhook",
}
# Arguments of which a field takes exactly one; the generator often gives several.
EXCLUSIVE = [{"id", "slug", "url"}, {"targetStatementId", "targetArticleId"}, {"statementId", "claimId"},
             {"speakerId", "speakerSlug"}, {"claimId", "claimSlug"}]
LEAKS = re.compile(
    r"SELECT |INSERT |UPDATE .* SET|DELETE FROM|sqlx|sea_orm|sea-orm|DbErr|panicked|\.rs:\d|"
    r"backtrace|violates|duplicate key|relation \"|syntax error at|pg_catalog|tokio|actix",
    re.IGNORECASE,
)

POOL_QUERY = """{
  speakers(first: 100) { nodes { id slug roles { id } } }
  claims(first: 100) { nodes { id slug } }
  statements(first: 100) { nodes { id links { id } backlinks { id } } }
  outlets(first: 100) { nodes { id slug } }
  articles(first: 100) { nodes { id url } }
  topics(first: 100) { nodes { id slug } }
  verdicts(first: 100) { nodes { id } }
  contradictionCandidates(first: 100) { nodes { id } }
  apiKeys(first: 100) { nodes { id name } }
  watchlists { id }
  webhooks { id }
}"""

DELIVERIES_QUERY = "query($id: ID!) { deliveries(webhookId: $id, first: 20) { edges { node { id } } } }"
# A watchlist and a webhook to start from (the webhook's target is on this machine, on
# the discard port: its deliveries fail and are retried, as a receiver that is down).
SEED = [
    ("mutation { createWatchlist(input: {name: \"fuzz seed\"}) { watchlist { id } } }", {}),
    ("mutation { createWebhook(input: {url: \"http://127.0.0.1:9/fuzz\", "
     "eventTypes: [STATEMENT_CREATED, VERDICT_PUBLISHED]}) { webhook { id } } }", {}),
]


def _post(query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        URL,
        data=body,
        headers={"content-type": "application/json", "authorization": f"Bearer {ADMIN_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Pool:
    """Real ids and slugs by type, read again every few seconds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.read_at = 0.0
        self.ids: dict[str, list[str]] = {}
        self.slugs: dict[str, list[str]] = {}
        # Records the run made (the lists read above show only the first hundred).
        self.fresh: dict[str, list[str]] = {}

    def remember(self, kind: str, record: str) -> None:
        """Keeps the last 200 records of a kind the run made."""
        fresh = self.fresh.setdefault(kind, [])
        fresh.append(record)
        del fresh[:-200]

    def made(self, kind: str, record: str) -> None:
        with self.lock:
            self.remember(kind, record)
            if FRESH_FILE:
                with open(FRESH_FILE, "a", encoding="utf-8") as out:
                    out.write(f"{kind} {record}\n")

    def read_fresh(self) -> None:
        """Records made by earlier passes of the run."""
        if not FRESH_FILE or not os.path.exists(FRESH_FILE):
            return
        with open(FRESH_FILE, encoding="utf-8") as lines:
            for line in lines:
                kind, _, record = line.strip().partition(" ")
                if record:
                    self.remember(kind, record)

    def refresh(self) -> None:
        with self.lock:
            if time.monotonic() - self.read_at < REFRESH_SECONDS:
                return
            self.read_at = time.monotonic()
        try:
            data = _post(POOL_QUERY).get("data") or {}
        except Exception:  # The service is judged by the checks, not here.
            return
        ids: dict[str, list[str]] = {}
        slugs: dict[str, list[str]] = {}

        def nodes(name: str) -> list[dict]:
            return ((data.get(name) or {}).get("nodes")) or []

        for kind, field in [("speaker", "speakers"), ("claim", "claims"), ("outlet", "outlets"),
                            ("topic", "topics"), ("statement", "statements"), ("article", "articles"),
                            ("verdict", "verdicts")]:
            ids[kind] = [n["id"] for n in nodes(field)]
        for kind, field in [("speaker", "speakers"), ("claim", "claims"), ("outlet", "outlets"), ("topic", "topics")]:
            slugs[kind] = [n["slug"] for n in nodes(field) if n.get("slug")]
        slugs["article"] = [n["url"] for n in nodes("articles") if n.get("url")]
        ids["role"] = [r["id"] for n in nodes("speakers") for r in n.get("roles") or []]
        ids["link"] = [link["id"] for n in nodes("statements") for link in (n.get("links") or []) + (n.get("backlinks") or [])]
        ids["link"] += [n["id"] for n in nodes("contradictionCandidates")]
        ids["watchlist"] = [w["id"] for w in data.get("watchlists") or []]
        ids["webhook"] = [w["id"] for w in data.get("webhooks") or []]
        ids["delivery"] = []
        for hook in ids["webhook"][:3]:
            try:
                page = _post(DELIVERIES_QUERY, {"id": hook}).get("data") or {}
            except Exception:
                continue
            ids["delivery"] += [e["node"]["id"] for e in (page.get("deliveries") or {}).get("edges") or []]
        # Never the keys the run itself uses.
        ids["key"] = [k["id"] for k in nodes("apiKeys") if not k["name"].startswith("fuzz ")]
        ids["any"] = [i for values in ids.values() for i in values]
        with self.lock:
            self.ids, self.slugs = ids, slugs

    def pick(self, table: dict[str, list[str]], kind: str) -> str | None:
        with self.lock:
            values = table.get(kind) or []
            if table is self.ids and RNG.random() < 0.5:
                fresh = self.fresh.get(kind) or []
                if kind == "any":
                    fresh = [i for ids in self.fresh.values() for i in ids]
                values = fresh or values
            return RNG.choice(values) if values else None


POOL = Pool()
POOL.read_fresh()
for _query, _variables in SEED:
    try:
        _post(_query, _variables)
    except Exception:  # A second worker's seed may find its name taken: fine.
        pass


# The lookup of each kind of record, for its current version.
LOOKUPS = {
    "speaker": "speaker", "role": "speakerRole", "outlet": "outlet", "article": "article",
    "claim": "claim", "topic": "topic", "statement": "statement", "verdict": "verdict", "link": "link",
}


def _version_of(kind: str, record: str) -> int | None:
    """A live record's version from its lookup; a deleted one's from its revisions."""
    try:
        if kind in LOOKUPS:
            field = LOOKUPS[kind]
            data = _post(f"query($id: ID!) {{ {field}(id: $id) {{ version }} }}", {"id": record})
            found = (data.get("data") or {}).get(field)
            if found:
                return found["version"]
        data = _post(
            "query($id: ID!) { revisions(entityId: $id, first: 100) { nodes { version } } }",
            {"id": record},
        )
    except Exception:
        return None
    nodes = (((data.get("data") or {}).get("revisions")) or {}).get("nodes") or []
    versions = [r["version"] for r in nodes]
    return max(versions) if versions else None


def _kind_of_field(field: str) -> str:
    for fragment, kind in ID_OF_FIELD:
        if fragment in field:
            return kind
    return "any"


def _string(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


class Rewriter:
    """Puts real ids, slugs and versions into one operation's arguments."""

    def __init__(self, field: str) -> None:
        self.field = field

    def real(self, table: dict[str, list[str]], kind: str, node: graphql.ValueNode) -> graphql.ValueNode:
        if RNG.random() > REAL:
            return node
        if isinstance(node, graphql.ListValueNode):
            return graphql.ListValueNode(values=tuple(self.real(table, kind, v) for v in node.values))
        if isinstance(node, graphql.StringValueNode):
            value = POOL.pick(table, kind)
            return _string(value) if value is not None else node
        return node

    def one_of_each(self, out: list) -> list:
        """Mostly, one argument of each exclusive group: the others are left out."""
        for group in EXCLUSIVE:
            given = [item.name.value for item in out
                     if item.name.value in group and not isinstance(item.value, graphql.NullValueNode)]
            if len(given) > 1 and RNG.random() < PLAIN:
                keep = RNG.choice(given)
                out = [item for item in out if item.name.value not in group or item.name.value == keep]
        return out

    def arguments(self, fields) -> list:
        """Rewrites argument or object fields (both have `name` and `value`)."""
        out = []
        chosen_id = None
        for item in fields:
            name, value = item.name.value, item.value
            if name in ID_ARGUMENTS:
                value = self.real(POOL.ids, ID_ARGUMENTS[name], value)
            elif name == "id":
                value = self.real(POOL.ids, _kind_of_field(self.field), value)
                if isinstance(value, graphql.StringValueNode):
                    chosen_id = value.value
            elif name in ("slug",) and isinstance(value, graphql.StringValueNode) and "create" not in self.field:
                value = self.real(POOL.slugs, _kind_of_field(self.field), value)
            elif name in SLUG_ARGUMENTS:
                value = self.real(POOL.slugs, SLUG_ARGUMENTS[name], value)
            elif name in ("after", "before") and RNG.random() < PLAIN:
                value = graphql.NullValueNode()
            elif name in ("first", "last") and RNG.random() < PLAIN:
                value = graphql.IntValueNode(value=str(RNG.randrange(1, 51)))
            elif name == "url" and self.field == "article":
                value = self.real(POOL.slugs, "article", value)
            else:
                value = plain(name, value)
            if isinstance(value, graphql.ObjectValueNode):
                value = graphql.ObjectValueNode(fields=tuple(self.arguments(value.fields)))
            out.append(item.__class__(name=item.name, value=value))
        out = self.one_of_each(out)
        if chosen_id is not None and RNG.random() < REAL:
            version = _version_of(_kind_of_field(self.field), chosen_id)
            if version is not None:
                out = [
                    item.__class__(name=item.name, value=graphql.IntValueNode(value=str(version)))
                    if item.name.value == "version" else item
                    for item in out
                ]
        return out


def plain(name: str, node: graphql.ValueNode) -> graphql.ValueNode:
    """Now and then, a text the input checks accept for the field `name`."""
    if isinstance(node, graphql.ListValueNode):
        return graphql.ListValueNode(values=tuple(plain(name, v) for v in node.values))
    if not isinstance(node, graphql.StringValueNode) or RNG.random() > PLAIN:
        return node
    if name.endswith("url") or name.endswith("Url"):
        return _string(f"https://example.org/{RNG.randrange(1 << 32):x}/{REFUSED_CHARACTERS.sub('', node.value)[:40]}")
    if name == "language":
        return _string(RNG.choice(LANGUAGES))
    text = REFUSED_CHARACTERS.sub("", node.value)
    return _string(text if text.strip() else "text")


def _fresh(field: graphql.FieldNode) -> graphql.FieldNode:
    """A create mutation also asks for its record's id, under the alias FRESH."""
    mutation = SCHEMA.mutation_type.fields.get(field.name.value) if SCHEMA.mutation_type else None
    if mutation is None or not field.name.value.startswith("create") or field.selection_set is None:
        return field
    payload = graphql.get_named_type(mutation.type)
    for name, inner in getattr(payload, "fields", {}).items():
        if graphql.get_named_type(inner.type).name in KIND_OF_TYPE:
            extra = graphql.FieldNode(
                alias=graphql.NameNode(value=FRESH), name=graphql.NameNode(value=name),
                arguments=(), directives=(),
                selection_set=graphql.SelectionSetNode(selections=(
                    graphql.FieldNode(name=graphql.NameNode(value="id"), arguments=(), directives=()),
                    graphql.FieldNode(name=graphql.NameNode(value="__typename"), arguments=(), directives=()),
                )),
            )
            selections = (*field.selection_set.selections, extra)
            return graphql.FieldNode(
                alias=field.alias, name=field.name, arguments=field.arguments, directives=field.directives,
                selection_set=graphql.SelectionSetNode(selections=selections),
            )
    return field


def _collect_fresh(data: dict) -> None:
    for payload in data.values():
        record = payload.get(FRESH) if isinstance(payload, dict) else None
        if isinstance(record, dict) and record.get("__typename") in KIND_OF_TYPE and record.get("id"):
            POOL.made(KIND_OF_TYPE[record["__typename"]], record["id"])


def _rewrite(query: str) -> str:
    document = graphql.parse(query)
    operation = document.definitions[0]
    if not isinstance(operation, graphql.OperationDefinitionNode):
        return query
    selections = []
    for selection in operation.selection_set.selections:
        if isinstance(selection, graphql.FieldNode):
            rewriter = Rewriter(selection.name.value)
            arguments = tuple(rewriter.arguments(selection.arguments or ()))
            selection = _fresh(graphql.FieldNode(
                alias=selection.alias, name=selection.name, arguments=arguments,
                directives=selection.directives, selection_set=selection.selection_set,
            ))
        selections.append(selection)
    operation = graphql.OperationDefinitionNode(
        operation=operation.operation, name=operation.name,
        variable_definitions=operation.variable_definitions, directives=operation.directives,
        selection_set=graphql.SelectionSetNode(selections=tuple(selections)),
    )
    return graphql.print_ast(graphql.DocumentNode(definitions=(operation, *document.definitions[1:])))


@schemathesis.hook
def before_call(context, case, kwargs):
    if not isinstance(case.body, str):
        return
    POOL.refresh()
    try:
        case.body = _rewrite(case.body)
    except graphql.GraphQLError:
        pass  # Not a document the generator meant to be valid: send it as it is.
    if DEBUG:
        with open(DEBUG, "a", encoding="utf-8") as out:
            out.write(case.body + "\n")


class Stats:
    """Cases and cases with data, per operation, written after every call."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.operations: dict[str, dict] = {}

    def record(self, label: str, with_data: bool, errors: list[tuple[str, str]]) -> None:
        with self.lock:
            entry = self.operations.setdefault(label, {"cases": 0, "with_data": 0, "codes": {}, "samples": {}})
            entry["cases"] += 1
            entry["with_data"] += int(with_data)
            for code, message in errors:
                entry["codes"][code] = entry["codes"].get(code, 0) + 1
                samples = entry["samples"].setdefault(code, [])
                if len(samples) < 5 and message not in samples:
                    samples.append(message)
            with open(STATS, "w", encoding="utf-8") as out:
                json.dump(self.operations, out, indent=1, sort_keys=True)


STATS_BY_OPERATION = Stats()


@schemathesis.hook
def after_call(context, case, response):
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    data = body.get("data") if isinstance(body, dict) else None
    with_data = isinstance(data, dict) and any(v is not None for v in data.values())
    if with_data:
        _collect_fresh(data)
    errors = body.get("errors") if isinstance(body, dict) else None
    coded = [(((e.get("extensions") or {}).get("code") or "NONE"), str(e.get("message", ""))[:200])
             for e in errors or [] if isinstance(e, dict)]
    STATS_BY_OPERATION.record(case.operation.label, with_data, coded)


@schemathesis.check
def claimtrack_errors_are_coded_and_plain(ctx, response, case):
    """Every error carries extensions.code, none is INTERNAL, none shows internals."""
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}")
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError("the body is not JSON") from None
    for error in (body.get("errors") if isinstance(body, dict) else None) or []:
        code = (error.get("extensions") or {}).get("code")
        if not code:
            raise AssertionError(f"an error without extensions.code: {error}")
        if code == "INTERNAL":
            raise AssertionError(f"INTERNAL: {error}")
        message = str(error.get("message", ""))
        if LEAKS.search(message):
            raise AssertionError(f"the message shows internals: {message}")
