/* plotly.js for dcc.Graph: the vendored partial bundle (assets/vendor/, 1.2 MB: plotly.js's core
   with the only traces the dashboard draws: scatter, bar, heatmap) instead of plotly.py's full
   4.8 MB bundle. dcc.Graph loads plotly.js only when a graph first mounts, from the URL Dash's
   renderer stores in window._dashPlotlyJSURL; that URL is pinned here (the renderer's later
   write is ignored), so pages without a graph still load no plotly.js at all. Should a Dash
   release stop reading that name, graphs fall back to the full bundle: slower, never broken
   (tests/browser checks which bundle a page loaded). Update: scripts/vendor-plotly.sh.

   A page that draws a graph in its first view (``pages``: the page registry's, dashboard/app.py)
   starts plotly.js early: when the renderer asks the server for the page's content (Dash's
   request_pre hook), so the bundle runs while the server builds the page
   instead of after the page arrived. Until it has run, window.Plotly is a promise of it:
   dcc.Graph waits for that (Promise.resolve adopts it) rather than loading the bundle twice. */
(function () {
  const bundle = 'vendor/plotly-iris-4.1.1.min.js';
  const url = document.currentScript.src.replace(/[^/]*$/, bundle);
  Object.defineProperty(window, '_dashPlotlyJSURL', {
    configurable: true,
    get: function () { return url; },
    set: function () {},
  });
  window.irisEarlyPlotly = function (payload, pages) {
    if (window.Plotly || !payload || String(payload.output).indexOf('_pages_content.') < 0) {
      return;
    }
    if ((pages || []).indexOf(window.location.pathname.replace(/\/+$/, '') || '/') < 0) { return; }
    window.Plotly = new Promise(function (resolve, reject) {
      const script = document.createElement('script');
      script.src = url;
      script.async = true;
      script.onload = function () { resolve(window.Plotly); };
      script.onerror = function (e) { window.Plotly = undefined; reject(e); };
      document.head.appendChild(script);
    });
  };
})();
