/* Clientside callbacks of the one grid component (dashboard/components/grid.py). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  grid: {
    /* A block request of a server-side grid goes to the page's callback, except the first
       one (page 1, unsorted, unfiltered) when the layout holds that block: answered here. */
    relay: function (request, block) {
      const nothing = window.dash_clientside.no_update;
      const first = request && !request.startRow && !(request.sortModel || []).length &&
        !Object.keys(request.filterModel || {}).length;
      if (block && first) { return [nothing, block, null]; }
      return [request, nothing, block ? null : nothing];
    },
    /* What a server-side grid shows changed: drop its cached blocks and an unused first block
       (it shows what was shown before), ask for page 1 again. A grid that is not ready yet
       needs nothing more: when it gets ready it asks for its first block itself. */
    reset: function (_changed, gridId) {
      const dc = window.dash_clientside;  // set_props: in the store before the grid asks again
      dc.set_props(gridId + '-first', {data: null});
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
