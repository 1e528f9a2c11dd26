/* Runs before Dash's polyfill@7.12.1 (babel-polyfill, core-js 2), which Dash loads first on every
   page: it is the dashboard's only script in the page's template ahead of Dash's own
   (dashboard/app.py). core-js 2 replaces a few of the browser's built-ins with JavaScript because
   of a spec check that modern engines fail on purpose: parseFloat, parseInt and String#trim
   because U+180E is no longer white space (Unicode 6.3), Math.sinh for its precision test, and
   Function#toString to hide its own replacements. Its parseFloat/parseInt/trim run a regular
   expression on every call, and plotly.js and AG Grid call them thousands of times a first
   render. This keeps the browser's own; assets/01-builtins.js puts them back right after the
   polyfill ran (what a browser without the polyfill would run: the natives, per the current
   spec). Anything the polyfill adds that the browser lacks stays. */
(function () {
  const keep = [
    [window, ['parseFloat', 'parseInt']],
    [Number, ['parseFloat', 'parseInt']],
    [String.prototype, ['trim', 'trimStart', 'trimEnd', 'trimLeft', 'trimRight']],
    [Math, ['sinh']],
    [Function.prototype, ['toString']],
  ];
  const saved = [];
  for (const [owner, names] of keep) {
    for (const name of names) {
      const descriptor = Object.getOwnPropertyDescriptor(owner, name);
      if (descriptor) { saved.push([owner, name, descriptor]); }
    }
  }
  window.irisBuiltins = saved;
})();
