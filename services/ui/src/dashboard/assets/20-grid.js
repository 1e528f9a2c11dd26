/* Clientside callbacks of the one grid component (dashboard/components/grid.py). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  grid: {
    /* What a server-side grid shows changed: drop its cached blocks, ask for page 1 again. */
    reset: function (_changed, gridId) {
      if (window.dash_ag_grid) {
        window.dash_ag_grid.getApiAsync(gridId).then(function (api) {
          api.paginationGoToFirstPage();
          api.purgeInfiniteCache();
        }).catch(function () {});
      }
      return Date.now();
    },
  },
});
