// Introspects a served ClaimTrack the way real clients do: graphql-js 16 and 17's
// getIntrospectionQuery with every combination of its options (and every typeDepth from
// 3 up to the default), each answer built into a client schema with buildClientSchema.
// GraphiQL 3-4, Apollo's tools and GraphQL Code Generator send these queries.
//
// Usage: node introspect.mjs http://127.0.0.1:PORT
// Prints one JSON line per query: {library, options, ok, types, error?}; then a
// summary line. Exits non-zero when any query failed or a client schema disagrees
// with the served SDL.

const url = process.argv[2];
if (!url) {
  console.error("usage: node introspect.mjs BASE_URL");
  process.exit(2);
}

const FLAGS = [
  "descriptions",
  "specifiedByUrl",
  "directiveIsRepeatable",
  "schemaDescription",
  "inputValueDeprecation",
  "oneOf",
];

function combinations() {
  const all = [];
  for (let mask = 0; mask < 1 << FLAGS.length; mask++) {
    const options = {};
    FLAGS.forEach((flag, i) => (options[flag] = Boolean(mask & (1 << i))));
    all.push(options);
  }
  const everything = Object.fromEntries(FLAGS.map((flag) => [flag, true]));
  // A typeDepth below 3 cannot spell `[Statement!]!`, which the schema uses:
  // graphql-js itself cannot build a client schema from such an answer.
  for (let typeDepth = 3; typeDepth <= 9; typeDepth++) {
    all.push({ ...everything, typeDepth });
  }
  return all;
}

async function post(query) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query, operationName: "IntrospectionQuery" }),
  });
  return { status: response.status, body: await response.json() };
}

const sdl = await (await fetch(`${url}/schema.graphql`)).text();
let failed = 0;
let ran = 0;
for (const library of ["graphql16", "graphql17"]) {
  const graphql = await import(library);
  const served = graphql.printSchema(graphql.lexicographicSortSchema(graphql.buildSchema(sdl)));
  for (const options of combinations()) {
    ran++;
    const line = { library, version: graphql.version, options };
    const started = performance.now();
    try {
      const { status, body } = await post(graphql.getIntrospectionQuery(options));
      if (status !== 200 || body.errors) {
        throw new Error(`HTTP ${status}: ${JSON.stringify(body.errors ?? body)}`);
      }
      const schema = graphql.buildClientSchema(body.data);
      const speakers = schema.getQueryType()?.getFields().speakers;
      if (!speakers) throw new Error("the client schema has no Query.speakers");
      line.types = Object.keys(schema.getTypeMap()).length;
      // With descriptions and deprecations asked for, the client schema is the SDL.
      if (FLAGS.every((flag) => options[flag])) {
        // async-graphql answers `__schema.description` with a fixed text of its own
        // (the description of `__Schema`), which the SDL does not carry: compare
        // without it.
        const described = new graphql.GraphQLSchema({ ...schema.toConfig(), description: undefined });
        const client = graphql.printSchema(graphql.lexicographicSortSchema(described));
        if (client !== served) {
          const a = client.split("\n");
          const b = served.split("\n");
          const at = a.findIndex((l, i) => l !== b[i]);
          throw new Error(
            `the client schema differs from /schema.graphql at line ${at + 1}: ` +
              `${JSON.stringify(a[at])} vs ${JSON.stringify(b[at])}`,
          );
        }
        line.sameAsSdl = true;
      }
      line.ok = true;
    } catch (error) {
      failed++;
      line.ok = false;
      line.error = String(error.message ?? error);
    }
    line.ms = Math.round(performance.now() - started);
    console.log(JSON.stringify(line));
  }
}
console.log(JSON.stringify({ summary: true, ran, failed, ms: Math.round(performance.now()) }));
process.exit(failed === 0 ? 0 : 1);
