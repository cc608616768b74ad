/* One canvas over the map for a layer of cells (cells.js, the Designer's planmap.js): sized to the
 * map plus half its size on each side (so a pan shows drawn cells before the redraw), placed at
 * the map's top-left, scaled for the screen's pixel density. Returns what drawing needs: the
 * context, its size in CSS pixels, and the zoom-0 → screen transform (x * scale + ox). */
(function () {
  "use strict";
  L.territoryCanvas = function (map, canvas) {
    var size = map.getSize(), pad = 0.5;
    var topLeft = map.containerPointToLayerPoint([-size.x * pad, -size.y * pad]);
    var w = Math.round(size.x * (1 + 2 * pad)), h = Math.round(size.y * (1 + 2 * pad));
    var dpr = window.devicePixelRatio || 1;
    L.DomUtil.setPosition(canvas, topLeft);
    canvas.width = w * dpr;
    canvas.height = h * dpr;
    canvas.style.width = w + "px";
    canvas.style.height = h + "px";
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    var origin = map.getPixelOrigin();
    return {ctx: ctx, w: w, h: h, scale: map.options.crs.scale(map.getZoom()) / map.options.crs.scale(0),
            ox: -origin.x - topLeft.x, oy: -origin.y - topLeft.y};
  };
})();
