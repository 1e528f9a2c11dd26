/* plotly.js for dcc.Graph: the vendored "cartesian" partial bundle (assets/vendor/, 1.5 MB, has
   every trace type the dashboard draws: scatter, bar, heatmap) instead of plotly.py's full
   4.8 MB bundle. dcc.Graph loads plotly.js only when a graph first mounts, from the URL Dash's
   renderer stores in window._dashPlotlyJSURL; that URL is pinned here (the renderer's later
   write is ignored), so pages without a graph still load no plotly.js at all. Should a Dash
   release stop reading that name, graphs fall back to the full bundle: slower, never broken
   (tests/browser checks which bundle a page loaded). Update: scripts/vendor-plotly.sh. */
(function () {
  const bundle = 'vendor/plotly-cartesian-4.1.1.min.js';
  const url = document.currentScript.src.replace(/[^/]*$/, bundle);
  Object.defineProperty(window, '_dashPlotlyJSURL', {
    configurable: true,
    get: function () { return url; },
    set: function () {},
  });
})();
