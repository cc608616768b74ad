/* The Designer's plan layer: every plan cell drawn on one canvas, coloured by territory.
 *
 * The map is built once per dataset (cells, metric shading); what changes per stroke arrives
 * as a small "patch" (the territory of every cell, territories, strays, tool settings) through
 * the designer bridge component. Cell shapes come from h3-js in the browser, so no polygon
 * is ever sent over the wire. A click recolours the cells under the brush at once (before the
 * server answers) and is sent to the server, whose next patch confirms or corrects it.
 *
 * The bridge and the map are two iframes of the same page; they meet on the page's window
 * (`window.parent.__territoryDesigner`). Text from the data (territory names) only ever goes
 * into the page through textContent, never as HTML.
 */
(function () {
  "use strict";

  var UNASSIGNED = "#9e9e9e";
  var OUTLINE = "#222222";
  var STRAY = "#d62728";
  var HIGHLIGHT = "#ff00ff";
  var SHADES = [0.35, 0.52, 0.68, 0.85];

  function hub() {
    var w = window.parent || window;
    w.__territoryDesigner = w.__territoryDesigner || {};
    return w.__territoryDesigner;
  }

  function now() { return performance.now(); }

  var PlanLayer = L.Layer.extend({
    initialize: function (base) {
      this.base = base;
      this.res = base.res;            // the plan's base resolution
      this.levels = (base.levels || [base.res]).slice().sort(function (a, b) { return b - a; });  // finest first
      this.index = new Map();          // h3 id -> cell index
      this.ids = [];
      this.accounts = [];
      this.values = [];
      this.shade = [];
      this.terr = [];                 // territory slot per cell: 0 = unassigned, -1 = not in plan
      this.stray = [];                // true: the cell is in a piece split off its territory
      this.locked = new Set();
      this.territories = [];          // slot - 1 -> {id, name, color, locked}
      this.slotOf = new Map();        // territory id -> slot
      this.settings = {tool: "paint", territory: null, brush: 0, only_unassigned: false};
      this.stats = {ready: false, clicks: 0, lastClickAt: 0, optimisticMs: null, patchAppliedAt: 0, patchVersion: null,
                    drawMs: null};
      this.xy = [];                   // projected vertices at zoom 0, per cell
      this.nb = [];                   // neighbour cell index across each edge (-1: none), on demand
      this.cx = [];                   // projected centre at zoom 0
      this.cy = [];
      for (var i = 0; i < base.cells.length; i++) {
        this._addCell(base.cells[i], base.accounts[i], base.values[i], base.shade.charCodeAt(i) - 48, 0);
      }
    },

    _addCell: function (id, accounts, value, shade, slot) {
      var i = this.ids.length;
      this.ids.push(id);
      this.index.set(id, i);
      this.accounts.push(accounts);
      this.values.push(value);
      this.shade.push(shade);
      this.terr.push(slot);
      this.stray.push(false);
      this.xy.push(null);
      this.nb.push(null);
      this.cx.push(0);
      this.cy.push(0);
      return i;
    },

    onAdd: function (map) {
      this._map = map;
      this._canvas = L.DomUtil.create("canvas", "territory-plan-canvas");
      this._canvas.style.pointerEvents = "none";
      map.getPane("overlayPane").appendChild(this._canvas);
      var t0 = now();
      for (var i = 0; i < this.ids.length; i++) this._geometry(i);
      this.stats.geometryMs = now() - t0;
      map.on("moveend zoomend resize viewreset", this._schedule, this);
      map.on("zoomstart", this._hide, this);
      map.on("click", this._onClick, this);
      map.on("mousemove", this._onHover, this);
      map.on("mouseout", this._closeTip, this);
      map.on("draw:created", this._onDraw, this);
      this._tip = L.tooltip({sticky: true, direction: "top", offset: [0, -6]});
      document.addEventListener("keydown", function (e) { var h = hub(); if (h.keys) h.keys(e); });  // Ctrl+Z / Ctrl+Y
      this._homes(map);
      var h = hub();
      h.map = this;
      window.__tpStats = this.stats;
      if (h.patch) this.apply(h.patch);
      var self = this;
      // fit the plan into the frame, and again whenever the frame is resized (Streamlit sizes it
      // after the map is made) until the user moves the map themselves
      var touched = !!(L.territoryBasemap && L.territoryBasemap.savedView("designer"));  // kept from the last map
      function fit() {
        map.invalidateSize({animate: false});
        if (self.base.bounds && !touched) map.fitBounds(self.base.bounds, {animate: false});
      }
      ["mousedown", "wheel", "touchstart", "keydown"].forEach(function (type) {
        map.getContainer().addEventListener(type, function () { touched = true; }, {passive: true});
      });
      window.addEventListener("resize", fit);
      setTimeout(function () {
        fit();
        (function settled() {  // ready once no zoom animation is running (it would swallow a setView)
          if (map._animatingZoom) return setTimeout(settled, 50);
          self.stats.ready = true;
        })();
      }, 50);
    },

    /* The reps' homes as white dots; the name goes in as text, never as HTML. */
    _homes: function (map) {
      var homes = this.base.homes || [];
      for (var i = 0; i < homes.length; i++) {
        var label = document.createElement("span");
        label.textContent = homes[i][2] + " (home)";
        L.circleMarker([homes[i][0], homes[i][1]], {radius: 6, color: "#000000", weight: 2, fill: true,
                                                    fillColor: "#ffffff", fillOpacity: 1, className: "territory-home"})
          .bindTooltip(label).addTo(map);
      }
    },

    _geometry: function (i) {
      var ring = h3.cellToBoundary(this.ids[i]);
      var xy = new Float64Array(ring.length * 2);
      for (var k = 0; k < ring.length; k++) {
        var p = this._map.project([ring[k][0], ring[k][1]], 0);
        xy[2 * k] = p.x;
        xy[2 * k + 1] = p.y;
      }
      this.xy[i] = xy;
      var cx = 0, cy = 0;
      for (var v = 0; v < ring.length; v++) { cx += xy[2 * v]; cy += xy[2 * v + 1]; }
      this.cx[i] = cx / ring.length;
      this.cy[i] = cy / ring.length;
    },

    /* The cell across each edge: step past the edge's midpoint and ask h3 which cell is there. */
    _neighbours: function (i) {
      var ring = h3.cellToBoundary(this.ids[i]);
      var c = h3.cellToLatLng(this.ids[i]);
      var n = ring.length, out = new Int32Array(n);
      for (var k = 0; k < n; k++) {
        var a = ring[k], b = ring[(k + 1) % n];
        var mlat = (a[0] + b[0]) / 2, mlng = (a[1] + b[1]) / 2;
        var id = this._unitAt(c[0] + (mlat - c[0]) * 1.6, c[1] + (mlng - c[1]) * 1.6);
        var j = this.index.get(id);
        out[k] = j === undefined ? -1 : j;
      }
      this.nb[i] = out;
      return out;
    },

    /* Redraw at the next frame, once, however many map events asked for it. */
    _schedule: function () {
      var self = this;
      if (this._frame) return;
      this._frame = L.Util.requestAnimFrame(function () { self._frame = null; self.redraw(); });
    },

    _hide: function () { if (this._canvas) this._canvas.style.visibility = "hidden"; },

    colorOf: function (slot) {
      if (slot <= 0) return UNASSIGNED;
      var t = this.territories[slot - 1];
      return t && t.color ? t.color : UNASSIGNED;
    },

    redraw: function () {
      var map = this._map;
      if (!map) return;
      var t0 = now();
      var canvas = this._canvas, f = L.territoryCanvas(map, canvas);
      var ctx = f.ctx, w = f.w, hgt = f.h, scale = f.scale, ox = f.ox, oy = f.oy;
      this._tx = {scale: scale, ox: ox, oy: oy};
      var first = this.xy[0], cellPx = first ? Math.max(Math.abs(first[0] - first[6]), Math.abs(first[1] - first[7])) * scale : 10;
      function width(div, lo, hi) { return Math.max(lo, Math.min(hi, cellPx / div)); }
      var visible = [], m = cellPx + 2;
      for (var i = 0; i < this.ids.length; i++) {
        if (this.terr[i] < 0) continue;
        var x0 = this.cx[i] * scale + ox, y0 = this.cy[i] * scale + oy;
        if (x0 < -m || y0 < -m || x0 > w + m || y0 > hgt + m) continue;
        visible.push(i);
      }
      var dots = cellPx < 4;  // zoomed far out: a cell is a few pixels, draw it as a square
      // fills, grouped by colour and shade so the canvas state changes a few dozen times
      var groups = new Map();
      for (var v = 0; v < visible.length; v++) {
        var c = visible[v], key = this.terr[c] * 4 + this.shade[c];
        var g = groups.get(key);
        if (!g) groups.set(key, g = []);
        g.push(c);
      }
      var self = this;
      var side = Math.max(1.5, cellPx);
      groups.forEach(function (cells, key) {
        ctx.globalAlpha = SHADES[key % 4];
        ctx.fillStyle = self.colorOf(Math.floor(key / 4));
        if (dots) {
          for (var d = 0; d < cells.length; d++) {
            ctx.fillRect(self.cx[cells[d]] * scale + ox - side / 2, self.cy[cells[d]] * scale + oy - side / 2, side, side);
          }
          return;
        }
        ctx.beginPath();
        for (var q = 0; q < cells.length; q++) self._path(ctx, cells[q]);
        ctx.fill();
      });
      ctx.globalAlpha = 1;
      canvas.style.visibility = "visible";
      if (dots) {  // outlines would be noise at this scale; the colours tell the territories
        if (this.highlight && this.highlight.length) {
          ctx.fillStyle = HIGHLIGHT;
          for (var hd = 0; hd < this.highlight.length; hd++) {
            var c0 = this.highlight[hd];
            ctx.fillRect(this.cx[c0] * scale + ox - side / 2, this.cy[c0] * scale + oy - side / 2, side, side);
          }
        }
        this._labels(ctx, scale, ox, oy, w, hgt);
        this.stats.drawMs = now() - t0;
        return;
      }
      if (map.getZoom() >= 8) {  // cell edges once cells are big enough to see
        ctx.beginPath();
        for (var e = 0; e < visible.length; e++) this._path(ctx, visible[e]);
        ctx.strokeStyle = "rgba(255,255,255,0.6)";
        ctx.lineWidth = 0.5;
        ctx.stroke();
      }
      // territory outlines: the edges between cells of different territories
      ctx.beginPath();
      for (var o = 0; o < visible.length; o++) {
        var i2 = visible[o], s = this.terr[i2];
        if (s <= 0) continue;
        var nb = this.nb[i2] || this._neighbours(i2), pts = this.xy[i2], n = nb.length;
        for (var k = 0; k < n; k++) {
          var j = nb[k];
          if (j >= 0 && this.terr[j] === s) continue;
          var k2 = (k + 1) % n;
          ctx.moveTo(pts[2 * k] * scale + ox, pts[2 * k + 1] * scale + oy);
          ctx.lineTo(pts[2 * k2] * scale + ox, pts[2 * k2 + 1] * scale + oy);
        }
      }
      ctx.strokeStyle = OUTLINE;
      ctx.lineWidth = width(10, 0.4, 1.8);
      ctx.stroke();
      this._strays(ctx, visible, scale, ox, oy);
      if (this.highlight && this.highlight.length) {  // cells a rebalance preview would change
        ctx.beginPath();
        for (var hi = 0; hi < this.highlight.length; hi++) this._path(ctx, this.highlight[hi]);
        ctx.strokeStyle = HIGHLIGHT;
        ctx.lineWidth = width(5, 1, 3.5);
        ctx.stroke();
      }
      this._labels(ctx, scale, ox, oy, w, hgt);
      canvas.style.visibility = "visible";
      this.stats.drawMs = now() - t0;
    },

    /* Pieces split off their territory: a thin dashed red line around each piece (not around
       each cell) once zoomed in; before that a red dot at each cell's centre, a third of its size,
       so the territory's colour still shows; nothing while cells are mere dots themselves. */
    _strays: function (ctx, visible, scale, ox, oy) {
      var self = this, strays = visible.filter(function (c) { return self.stray[c] && self.terr[c] > 0; });
      if (!strays.length) return;
      if (this._map.getZoom() < 7) {
        var first = this.xy[0], dot = Math.max(2, Math.min(4, Math.abs(first[0] - first[6]) * scale / 3));
        ctx.fillStyle = STRAY;
        strays.forEach(function (c) { ctx.fillRect(self.cx[c] * scale + ox - dot / 2, self.cy[c] * scale + oy - dot / 2, dot, dot); });
        return;
      }
      ctx.beginPath();
      for (var q = 0; q < strays.length; q++) {
        var i = strays[q], nb = this.nb[i] || this._neighbours(i), pts = this.xy[i], n = nb.length;
        for (var k = 0; k < n; k++) {
          var j = nb[k];
          if (j >= 0 && this.stray[j] && this.terr[j] === this.terr[i]) continue;  // inside the piece
          var k2 = (k + 1) % n;
          ctx.moveTo(pts[2 * k] * scale + ox, pts[2 * k + 1] * scale + oy);
          ctx.lineTo(pts[2 * k2] * scale + ox, pts[2 * k2 + 1] * scale + oy);
        }
      }
      ctx.setLineDash([4, 3]);
      ctx.strokeStyle = STRAY;
      ctx.lineWidth = 1.5;
      ctx.stroke();
      ctx.setLineDash([]);
    },

    /* Where each territory's name goes: its cell nearest the mean of its cells (so the label sits
       on the territory even when it is not convex), recomputed when the plan changes. */
    _anchors: function () {
      if (this._anchorsFor === this._revision) return this.anchors;
      var sum = new Map();
      for (var i = 0; i < this.ids.length; i++) {
        var s = this.terr[i];
        if (s <= 0 || this.stray[i]) continue;
        var a = sum.get(s);
        if (!a) sum.set(s, a = {x: 0, y: 0, n: 0, cells: []});
        a.x += this.cx[i]; a.y += this.cy[i]; a.n += 1; a.cells.push(i);
      }
      var out = [], self = this;
      sum.forEach(function (a, s) {
        var mx = a.x / a.n, my = a.y / a.n, best = a.cells[0], dist = Infinity;
        a.cells.forEach(function (c) {
          var d = (self.cx[c] - mx) * (self.cx[c] - mx) + (self.cy[c] - my) * (self.cy[c] - my);
          if (d < dist) { dist = d; best = c; }
        });
        out.push({slot: s, cell: best, size: a.n});
      });
      out.sort(function (p, q) { return q.size - p.size; });  // the largest territories are named first
      this.anchors = out;
      this._anchorsFor = this._revision;
      return out;
    },

    /* Territory names at their centres, as text on the canvas; a name that would overlap a larger
       territory's is left out until you zoom in. */
    _labels: function (ctx, scale, ox, oy, w, hgt) {
      var taken = [], shown = [];
      ctx.font = "bold 12px sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.lineJoin = "round";
      var anchors = this._anchors();
      for (var a = 0; a < anchors.length; a++) {
        var t = this.territories[anchors[a].slot - 1];
        if (!t) continue;
        var x = this.cx[anchors[a].cell] * scale + ox, y = this.cy[anchors[a].cell] * scale + oy;
        if (x < 0 || y < 0 || x > w || y > hgt) continue;
        var half = ctx.measureText(t.name).width / 2 + 3, box = [x - half, y - 9, x + half, y + 9];
        if (taken.some(function (b) { return box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3]; })) continue;
        taken.push(box);
        ctx.lineWidth = 3;
        ctx.strokeStyle = "rgba(255,255,255,0.9)";
        ctx.strokeText(t.name, x, y);  // canvas text is drawn as text: a name is never markup here
        ctx.fillStyle = "#111111";
        ctx.fillText(t.name, x, y);
        shown.push(t.name);
      }
      this.stats.labels = shown;
    },

    /* Touching cells of different territories drawn in the same colour (0 on a legible map). */
    clashes: function () {
      var n = 0;
      for (var i = 0; i < this.ids.length; i++) {
        var s = this.terr[i];
        if (s <= 0) continue;
        var nb = this.nb[i] || this._neighbours(i);
        for (var k = 0; k < nb.length; k++) {
          var j = nb[k];
          if (j > i && this.terr[j] > 0 && this.terr[j] !== s && this.colorOf(this.terr[j]) === this.colorOf(s)) n++;
        }
      }
      return n;
    },

    /* Fit the map to a territory's cells (from the legend, or the server's "zoom to"): its main
       piece, without the pieces split off it, when it has one. */
    zoomTo: function (slot) {
      var b = null, main = false;
      for (var m = 0; m < this.ids.length && !main; m++) main = this.terr[m] === slot && !this.stray[m];
      for (var i = 0; i < this.ids.length; i++) {
        if (this.terr[i] !== slot || (main && this.stray[i])) continue;
        var p = this._map.unproject([this.cx[i], this.cy[i]], 0);
        b = b ? b.extend(p) : L.latLngBounds(p, p);
      }
      if (b) this._map.fitBounds(b.pad(0.15), {maxZoom: 9});
    },

    /* The territories' colours and names in the map's corner; a click zooms to the territory. */
    _legend: function () {
      var key = JSON.stringify(this.territories.map(function (t) { return [t.name, t.color]; }));
      if (key === this._legendKey) return;
      this._legendKey = key;
      var box = this._legendBox, self = this;
      if (!box) {
        box = this._legendBox = L.DomUtil.create("div", "territory-legend", this._map.getContainer());
        box.style.cssText = "position:absolute;left:10px;bottom:24px;z-index:1000;background:rgba(255,255,255,0.95);" +
          "border:1px solid #999;border-radius:4px;font:11px sans-serif;max-height:32%;overflow:auto;padding:3px 6px;max-width:210px";
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
      }
      box.textContent = "";
      var title = document.createElement("b"), list = document.createElement("div");
      title.textContent = (this._legendOpen === false ? "▸ " : "▾ ") + "Territories (click one to zoom)";
      title.style.cursor = "pointer";
      title.addEventListener("click", function () {  // fold the legend away, and back
        self._legendOpen = self._legendOpen === false;
        self._legendKey = null;
        self._legend();
      });
      box.appendChild(title);
      box.appendChild(list);
      if (this._legendOpen === false) return;
      this.territories.forEach(function (t, k) {
        var row = document.createElement("div"), sw = document.createElement("span"), name = document.createElement("span");
        row.className = "territory-legend-row";
        row.style.cssText = "cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;padding:1px 0";
        sw.style.cssText = "display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-2px;border:1px solid #555";
        sw.style.background = t.color || UNASSIGNED;
        name.textContent = t.name + (t.locked ? " (locked)" : "");
        row.title = t.name;
        row.appendChild(sw);
        row.appendChild(name);
        row.addEventListener("click", function () { self.zoomTo(k + 1); });
        list.appendChild(row);
      });
    },

    _path: function (ctx, i) {
      var t = this._tx, xy = this.xy[i];
      ctx.moveTo(xy[0] * t.scale + t.ox, xy[1] * t.scale + t.oy);
      for (var k = 2; k < xy.length; k += 2) ctx.lineTo(xy[k] * t.scale + t.ox, xy[k + 1] * t.scale + t.oy);
      ctx.closePath();
    },

    cellAt: function (latlng) { return this._unitAt(latlng.lat, latlng.lng); },

    /* The plan's unit under a point: the ancestor of the point's resolution-10 cell that is on
       the map (plans may mix resolutions: split cells are finer), else its base cell; the server
       (units.unit_at) finds the same. */
    _unitAt: function (lat, lng) {
      var fine = h3.latLngToCell(lat, lng, 10);
      for (var k = 0; k < this.levels.length; k++) {
        if (this.levels[k] === this.res) continue;
        var id = h3.cellToParent(fine, this.levels[k]);
        if (this.index.has(id)) return id;
      }
      return h3.cellToParent(fine, this.res);
    },

    /* Called by the bridge with the server's view of the plan. */
    apply: function (patch) {
      if (!patch || patch.base !== this.base.id) return;
      this.territories = patch.territories;
      this.slotOf = new Map();
      for (var t = 0; t < patch.territories.length; t++) this.slotOf.set(patch.territories[t].id, t + 1);
      var n = this.base.cells.length;
      for (var i = 0; i < n; i++) this._set(i, patch.assign[i]);
      var seen = new Set();
      for (var e = 0; e < patch.extra.length; e++) {
        var id = patch.extra[e][0], j = this.index.get(id);
        if (j === undefined) j = this._addExtra(id);
        this._set(j, patch.extra[e][1]);
        seen.add(j);
      }
      for (var x = n; x < this.ids.length; x++) if (!seen.has(x)) this.terr[x] = -1;
      this.locked = new Set(patch.locked.map(this._idx, this));
      this.highlight = (patch.highlight || []).map(this._idx, this).filter(function (v) { return v >= 0; });
      this.settings = patch.settings;
      this.version = patch.version;
      this._revision = (this._revision || 0) + 1;
      this._legend();
      var h = hub();  // a fit or zoom asked for once is done once, not again by the next map drawn
      if (patch.zoom_to && patch.zoom_to.nonce !== h.zoomNonce) {
        h.zoomNonce = patch.zoom_to.nonce;
        var slot = this.slotOf.get(patch.zoom_to.territory);
        if (slot) this.zoomTo(slot);
      }
      if (patch.fit && patch.fit.nonce !== h.fitNonce) {
        h.fitNonce = patch.fit.nonce;
        this._map.fitBounds(patch.fit.bounds);
      }
      this.redraw();
      this.stats.patchAppliedAt = now();
      this.stats.patchVersion = patch.version;
    },

    _set: function (i, code) {  // the server's slot; negative: a split-off piece
      this.terr[i] = Math.abs(code);
      this.stray[i] = code < 0;
    },

    _idx: function (id) { var j = this.index.get(id); return j === undefined ? -1 : j; },

    _addExtra: function (id) {
      var j = this._addCell(id, 0, 0, 0, -1);
      this._geometry(j);
      if (this.levels.length > 1) { this.nb = []; return j; }  // mixed resolutions: recompute every outline
      var ring = h3.gridDisk(id, 1);  // its neighbours now have a neighbour there: recompute them
      for (var r = 0; r < ring.length; r++) {
        var k = this.index.get(ring[r]);
        if (k !== undefined) this.nb[k] = null;
      }
      return j;
    },

    /* What the server will do with a stroke, done at once so the user sees it immediately. */
    _paint: function (cells) {
      var s = this.settings;
      var target = s.tool === "erase" ? 0 : (this.slotOf.get(s.territory) || 0);
      if (s.tool !== "erase" && !target) return 0;
      if (target && this.territories[target - 1].locked) return 0;
      var changed = 0;
      for (var c = 0; c < cells.length; c++) {
        var i = cells[c], cur = this.terr[i];
        if (this.locked.has(i)) continue;
        if (cur > 0 && this.territories[cur - 1] && this.territories[cur - 1].locked) continue;
        if (s.only_unassigned && cur > 0) continue;
        if (cur === target) continue;
        this.terr[i] = target;
        this.stray[i] = false;
        changed++;
      }
      this._revision = (this._revision || 0) + 1;
      if (changed) this.redraw();
      return changed;
    },

    _onClick: function (e) {
      var t0 = now();
      // the cell under the cursor (Leaflet reports a small marker's own position instead)
      var latlng = e.originalEvent ? this._map.mouseEventToLatLng(e.originalEvent) : e.latlng;
      this.stats.clicks += 1;
      this.stats.lastClickAt = t0;
      var s = this.settings, id = this.cellAt(latlng);
      this.stats.lastCell = id;
      if (s.tool === "paint" || s.tool === "erase") {  // split, merge and inspect wait for the server
        var cells = [];
        var disk = h3.gridDisk(id, Math.max(0, Math.min(5, s.brush | 0))), taken = new Set();
        for (var d = 0; d < disk.length; d++) {
          var j = this.index.get(disk[d]);
          if (j === undefined && this.levels.length > 1) {  // another resolution: the unit at its centre
            var c = h3.cellToLatLng(disk[d]);
            j = this.index.get(this._unitAt(c[0], c[1]));
          }
          if (j !== undefined && !taken.has(j) && (this.terr[j] >= 0 || disk[d] === id)) { taken.add(j); cells.push(j); }
        }
        if (this.index.get(id) === undefined) cells.push(this._addExtra(id));
        this._paint(cells);
        this.stats.optimisticMs = now() - t0;
      }
      send({kind: "click", lat: latlng.lat, lng: latlng.lng});
    },

    _onDraw: function (e) {
      var layer = e.layer, ring = layer.getLatLngs()[0].map(function (p) { return [p.lat, p.lng]; });
      var self = this;
      setTimeout(function () {
        if (window.drawnItems && window.drawnItems.removeLayer) window.drawnItems.removeLayer(layer);
        self._map.removeLayer(layer);
      }, 0);
      var t0 = now();
      var cells = [];
      for (var k = 0; k < this.levels.length; k++) {  // each unit whose centre is inside, at its own resolution
        var inside = h3.polygonToCells(ring, this.levels[k]);
        for (var c = 0; c < inside.length; c++) {
          var j = this.index.get(inside[c]);
          if (j !== undefined && this.terr[j] >= 0) cells.push(j);
        }
      }
      if (this.settings.tool === "paint" || this.settings.tool === "erase") this._paint(cells);
      this.stats.optimisticMs = now() - t0;
      send({kind: "shape", ring: ring});
    },

    _onHover: function (e) {
      var i = this.index.get(this.cellAt(e.latlng));
      if (i === undefined || this.terr[i] < 0) return this._closeTip();
      var slot = this.terr[i], t = slot > 0 ? this.territories[slot - 1] : null;
      var box = document.createElement("div");
      var rows = [["Territory", t ? t.name : "unassigned"], ["Accounts", this.accounts[i].toLocaleString("en-US")],
                  [this.base.metric_label, Math.round(this.values[i]).toLocaleString("en-US")], ["Cell", this.ids[i]]];
      if (this.locked.has(i)) rows.push(["Locked", "yes"]);
      for (var r = 0; r < rows.length; r++) {
        var line = document.createElement("div"), b = document.createElement("b");
        b.textContent = rows[r][0] + ": ";
        line.appendChild(b);
        line.appendChild(document.createTextNode(rows[r][1]));
        box.appendChild(line);
      }
      this._tip.setLatLng(e.latlng).setContent(box);
      if (!this._map.hasLayer(this._tip)) this._tip.addTo(this._map);
    },

    _closeTip: function () { if (this._map && this._map.hasLayer(this._tip)) this._map.removeLayer(this._tip); }
  });

  function send(event) {
    var bridge = hub().bridge;
    try {
      if (bridge) bridge.send(event);
    } catch (err) {
      console.error("territory designer: the bridge is gone", err);
    }
  }

  L.territoryPlan = function (base) { return new PlanLayer(base); };
})();
