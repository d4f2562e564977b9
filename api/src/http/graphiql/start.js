// Starts GraphiQL on this service's GraphQL endpoint. Served as a file of its own (see
// graphiql.rs) rather than inline, so the page's Content-Security-Policy can allow
// scripts from this origin only. The page hands over its settings as JSON data.
(function () {
  'use strict';
  var settings = JSON.parse(document.getElementById('graphiql-settings').textContent);
  var fetcher = GraphiQL.createFetcher({
    url: new URL(settings.endpoint, window.location.href).toString(),
  });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      // The README's examples, on a first visit; GraphiQL keeps the tabs after that.
      defaultTabs: settings.tabs,
      // First-time users see the schema at once; GraphiQL remembers a closed explorer.
      visiblePlugin: GraphiQL.React.DOC_EXPLORER_PLUGIN,
    })
  );
})();
