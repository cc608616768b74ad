/* A read-only layer of H3 cells drawn on one canvas from their ids (the Data page's density map,
 * the Scenarios page's map of changed cells). h3-js computes the shapes in the browser, so the
 * server sends ids and a few numbers per cell instead of polygons: 48,000 cells draw in well
 * under a second where an SVG layer took most of a minute.
 *
 * data = {cells: [h3 id], fill: [palette index], line: [palette index] | null, palette: [colour],
 *         alpha, columns: {key: [value per cell]}, tooltip: [[key, label]]}
 * Values reach the page only through textContent.
 */
(function () {
  "use strict";

  function fmt(v) {
    if (typeof v !== "number") return v == null ? "" : String(v);
    return Math.abs(v) >= 10 || v === Math.round(v) ? Math.round(v).toLocaleString("en-US")
      : v.toLocaleString("en-US", {maximumFractionDigits: 2});
  }

  var Cells = L.Layer.extend({
    initialize: function (data) {
      this.data = data;
      this.index = new Map();
      var res = new Set();
      for (var i = 0; i < data.cells.length; i++) {
        this.index.set(data.cells[i], i);
        res.add(h3.getResolution(data.cells[i]));
      }
      this.resolutions = Array.from(res);
      this.stats = window.__cellsStats = {ready: false, cells: data.cells.length, drawMs: null, geometryMs: null};
    },

    onAdd: function (map) {
      this._map = map;
      this._canvas = L.DomUtil.create("canvas", "territory-cells-canvas");
      this._canvas.style.pointerEvents = "none";
      map.getPane("overlayPane").appendChild(this._canvas);
      var t0 = performance.now(), n = this.data.cells.length;
      this.xy = new Array(n);
      this.cx = new Float64Array(n);
      this.cy = new Float64Array(n);
      for (var i = 0; i < n; i++) {
        var ring = h3.cellToBoundary(this.data.cells[i]), xy = new Float64Array(ring.length * 2), sx = 0, sy = 0;
        for (var k = 0; k < ring.length; k++) {
          var p = map.project([ring[k][0], ring[k][1]], 0);
          xy[2 * k] = p.x;
          xy[2 * k + 1] = p.y;
          sx += p.x;
          sy += p.y;
        }
        this.xy[i] = xy;
        this.cx[i] = sx / ring.length;
        this.cy[i] = sy / ring.length;
      }
      this.stats.geometryMs = performance.now() - t0;
      this._tip = L.tooltip({sticky: true, direction: "top", offset: [0, -6]});
      map.on("moveend zoomend resize viewreset", this._schedule, this);
      map.on("zoomstart", function () { this._canvas.style.visibility = "hidden"; }, this);
      map.on("mousemove", this._onHover, this);
      map.on("mouseout", this._closeTip, this);
      this.redraw();
      this.stats.ready = true;
    },

    _schedule: function () {
      var self = this;
      if (this._frame) return;
      this._frame = L.Util.requestAnimFrame(function () { self._frame = null; self.redraw(); });
    },

    redraw: function () {
      var d = this.data, t0 = performance.now(), canvas = this._canvas;
      var f = L.territoryCanvas(this._map, canvas), ctx = f.ctx, w = f.w, h = f.h, scale = f.scale, ox = f.ox, oy = f.oy;
      var xy = this.xy, cx = this.cx, cy = this.cy;
      var first = xy[0], cellPx = first ? Math.max(Math.abs(first[0] - first[6]), Math.abs(first[1] - first[7])) * scale : 10;
      var dots = cellPx < 4, side = Math.max(d.line ? 5 : 2, cellPx);
      var groups = new Map(), m = cellPx + 2;
      for (var i = 0; i < xy.length; i++) {
        var x0 = cx[i] * scale + ox, y0 = cy[i] * scale + oy;
        if (x0 < -m || y0 < -m || x0 > w + m || y0 > h + m) continue;
        var g = groups.get(d.fill[i]);
        if (!g) groups.set(d.fill[i], g = []);
        g.push(i);
      }
      function path(i) {
        var p = xy[i];
        ctx.moveTo(p[0] * scale + ox, p[1] * scale + oy);
        for (var k = 2; k < p.length; k += 2) ctx.lineTo(p[k] * scale + ox, p[k + 1] * scale + oy);
        ctx.closePath();
      }
      ctx.globalAlpha = d.alpha || 0.75;
      groups.forEach(function (cells, colour) {
        ctx.fillStyle = d.palette[colour];
        if (dots) {
          for (var q = 0; q < cells.length; q++) ctx.fillRect(cx[cells[q]] * scale + ox - side / 2, cy[cells[q]] * scale + oy - side / 2, side, side);
          return;
        }
        ctx.beginPath();
        cells.forEach(path);
        ctx.fill();
      });
      ctx.globalAlpha = 1;
      if (d.line) {  // each cell's outline in a second colour (e.g. its territory in the other plan)
        var lines = new Map();
        groups.forEach(function (cells) {
          cells.forEach(function (c) {
            var l = lines.get(d.line[c]);
            if (!l) lines.set(d.line[c], l = []);
            l.push(c);
          });
        });
        ctx.lineWidth = dots ? 1.5 : Math.max(1.5, Math.min(3, cellPx / 8));
        lines.forEach(function (cells, colour) {
          ctx.strokeStyle = d.palette[colour];
          ctx.beginPath();
          if (dots) cells.forEach(function (c) { ctx.rect(cx[c] * scale + ox - side / 2, cy[c] * scale + oy - side / 2, side, side); });
          else cells.forEach(path);
          ctx.stroke();
        });
      }
      canvas.style.visibility = "visible";
      this.stats.drawMs = performance.now() - t0;
    },

    _onHover: function (e) {
      var i;
      for (var r = 0; r < this.resolutions.length && i === undefined; r++) {
        i = this.index.get(h3.latLngToCell(e.latlng.lat, e.latlng.lng, this.resolutions[r]));
      }
      if (i === undefined) return this._closeTip();
      var box = document.createElement("div"), d = this.data;
      d.tooltip.forEach(function (row) {
        var line = document.createElement("div"), b = document.createElement("b");
        b.textContent = row[1] + ": ";
        line.appendChild(b);
        line.appendChild(document.createTextNode(row[0] === "cell" ? d.cells[i] : fmt(d.columns[row[0]][i])));
        box.appendChild(line);
      });
      this._tip.setLatLng(e.latlng).setContent(box);
      if (!this._map.hasLayer(this._tip)) this._tip.addTo(this._map);
    },

    _closeTip: function () { if (this._map && this._map.hasLayer(this._tip)) this._map.removeLayer(this._tip); }
  });

  L.territoryCells = function (data) { return new Cells(data); };
})();
