/* The browser's own parseFloat, parseInt, String#trim, Math.sinh and Function#toString back
   after Dash's polyfill replaced them with slower JavaScript (why: assets/vendor/keep-builtins.js,
   which saved them before the polyfill ran). The first asset: it runs after the polyfill, React
   and the component bundles' own code, before Dash's renderer and any chunk (plotly.js, AG Grid)
   that calls them on every render. */
(function () {
  for (const [owner, name, descriptor] of window.irisBuiltins || []) {
    Object.defineProperty(owner, name, descriptor);
  }
  delete window.irisBuiltins;
})();
