/* AG Grid's code for the first grid: dash-ag-grid keeps the grid itself in an async webpack chunk
   (async-community.js, ~870 KB) that it loads only when a grid first renders, i.e. after the
   page's layout arrived — fetch, parse and run then stand between the layout and the grid.
   A page whose first view shows a grid (``grids=True`` in its ``register_page``: the page
   registry's list, dashboard/app.py) starts that chunk when the renderer asks the server for
   the page's content (Dash's request_pre hook), as plotly.js is (05-plotly-bundle.js): it runs
   while the server builds the page. The chunk registers itself in dash-ag-grid's webpack chunk
   list, so the grid finds it installed; if the grid asks for it before it has run, webpack
   finds this script tag by its URL (the one webpack builds: the bundle's folder and the
   chunk's name) and waits for it instead of loading the chunk twice. Should a dash-ag-grid
   release rename the chunk, the grid loads its own: slower, never broken (tests/browser
   checks the chunk is fetched once). */
(function () {
  let started = false;
  window.irisEarlyGrid = function (payload, pages) {
    if (started || !payload || String(payload.output).indexOf('_pages_content.') < 0) { return; }
    if ((pages || []).indexOf(window.location.pathname.replace(/\/+$/, '') || '/') < 0) { return; }
    const main = document.querySelector('script[src*="/dash_ag_grid/dash_ag_grid."]');
    const chunks = window.webpackChunkdash_ag_grid || [];
    if (!main || chunks.length) { return; }  // the only chunks it pushes are the grid's
    started = true;
    const script = document.createElement('script');
    script.src = main.src.replace(/[^/]*$/, 'async-community.js');
    script.async = true;
    document.head.appendChild(script);
  };
})();
