/* Clientside callbacks of the one grid component (dashboard/components/grid.py). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  grid: {
    /* What a server-side grid shows changed: drop its cached blocks, ask for page 1 again.
       A grid that is not ready yet needs nothing: when it gets ready it asks for its first
       block itself, with what is shown now (no second request for the same page). */
    reset: function (_changed, gridId) {
      const grids = window.dash_ag_grid;
      let api = null;
      try { api = grids && grids.getApi(gridId); } catch (e) { api = null; }
      if (api) {
        api.paginationGoToFirstPage();
        api.purgeInfiniteCache();
      }
      return Date.now();
    },
  },
});
