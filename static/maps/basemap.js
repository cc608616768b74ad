/* The offline basemap under every map: land and coastline, state lines, county lines when zoomed
 * in, and the largest cities' names; plus buttons to jump to the mainland, Alaska, Hawaii and
 * Puerto Rico, and a memory of the view so a redrawn map (another shading) opens where it was.
 *
 * Boundaries come from the vendored us-atlas TopoJSON (US Census, ISC licence), decoded in the
 * browser by topojson-client; both are served by the app itself (/app/static/vendor/...), so
 * nothing is fetched from another host. City names arrive as data and are set with textContent.
 */
(function () {
  "use strict";

  var REGIONS = [["Mainland", [[24.4, -125.0], [49.4, -66.9]]], ["Alaska", [[51.2, -179.0], [71.4, -129.9]]],
                 ["Hawaii", [[18.9, -160.3], [22.3, -154.8]]], ["Puerto Rico", [[17.9, -67.3], [18.6, -65.2]]]];
  var COUNTIES_FROM_ZOOM = 7;
  // the smallest population named at each zoom (the largest cities first, more as you zoom in)
  var CITY_POPULATION = [[4, 1000000], [5, 500000], [6, 200000], [7, 100000], [8, 50000], [99, 0]];
  var CSS = ".territory-city{color:#3b3f45;font:11px/1.1 sans-serif;white-space:nowrap;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff}" +
            ".territory-city::before{content:'';display:inline-block;width:4px;height:4px;border-radius:2px;background:#3b3f45;margin-right:3px;vertical-align:middle}" +
            ".territory-regions button{display:block;width:100%;border:0;border-bottom:1px solid #ccc;background:#fff;padding:3px 8px;font:12px sans-serif;cursor:pointer;text-align:left}" +
            ".territory-regions button:last-child{border-bottom:0}.territory-regions button:hover{background:#f0f0f0}";
  var topologies = {};

  function load(url) {
    if (!topologies[url]) {
      topologies[url] = fetch(url).then(function (r) {
        if (!r.ok) throw new Error(url + ": HTTP " + r.status);
        return r.json();
      });
    }
    return topologies[url];
  }

  /* Views are kept on the page (the map frames come and go with each redraw). */
  function views() {
    var w = window.parent || window;
    w.__territoryViews = w.__territoryViews || {};
    return w.__territoryViews;
  }

  var Basemap = L.Layer.extend({
    initialize: function (opts) { this.opts = opts; },

    onAdd: function (map) {
      var self = this, opts = this.opts;
      this._map = map;
      this.stats = window.__basemap = {states: false, counties: false, cities: 0, error: null};
      if (!document.getElementById("territory-basemap-css")) {
        var style = document.createElement("style");
        style.id = "territory-basemap-css";
        style.textContent = CSS;
        document.head.appendChild(style);
      }
      if (!opts.tiles) map.getContainer().style.background = "#dbe7f0";  // water (tiles, when asked for, draw their own)
      ["territoryBasemap", "territoryCities"].forEach(function (name, k) {
        var pane = map.createPane(name);
        pane.style.zIndex = k === 0 ? 350 : 450;  // under the cells (400); names above them, click-through
        pane.style.pointerEvents = "none";
      });
      this._svg = L.svg({pane: "territoryBasemap", padding: 0.5});
      load(opts.states).then(function (us) {
        L.geoJSON(topojson.feature(us, us.objects.nation), {renderer: self._svg, interactive: false, style: {
          color: "#7d8794", weight: 1, fillColor: "#f6f4ee", fillOpacity: opts.tiles ? 0 : 1,
          className: "territory-basemap-coast"}}).addTo(map);
        L.geoJSON(topojson.mesh(us, us.objects.states, function (a, b) { return a !== b; }), {
          renderer: self._svg, interactive: false,
          style: {color: "#8d96a3", weight: 1.2, className: "territory-basemap-state"}}).addTo(map);
        self.stats.states = true;
      }).catch(function (err) { self.stats.error = String(err); });
      this._cities = (opts.cities || []).map(function (c) {
        var label = document.createElement("span");
        label.textContent = c[2];
        return {pop: c[3], width: 8 + 6 * c[2].length, marker: L.marker([c[0], c[1]], {pane: "territoryCities", interactive: false, keyboard: false,
          icon: L.divIcon({className: "territory-city", html: label, iconSize: null, iconAnchor: [2, 6]})})};
      });
      map.on("zoomend moveend", this._refresh, this);
      this._regions(map);
      this._remember(map);
      this._refresh();
    },

    _refresh: function () {
      var map = this._map, zoom = map.getZoom(), self = this;
      var min = CITY_POPULATION.find(function (z) { return zoom <= z[0]; })[1];
      var view = map.getBounds().pad(0.2), shown = 0, taken = [];
      this._cities.forEach(function (c) {  // largest first; a name that would overlap a larger one is left out
        var on = c.pop >= min && view.contains(c.marker.getLatLng());
        if (on) {
          var p = map.latLngToContainerPoint(c.marker.getLatLng()), box = [p.x - 4, p.y - 8, p.x + c.width, p.y + 8];
          on = !taken.some(function (t) { return box[0] < t[2] && t[0] < box[2] && box[1] < t[3] && t[1] < box[3]; });
          if (on) taken.push(box);
        }
        if (on && !map.hasLayer(c.marker)) c.marker.addTo(map);
        if (!on && map.hasLayer(c.marker)) map.removeLayer(c.marker);
        shown += on ? 1 : 0;
      });
      this.stats.cities = shown;
      if (zoom >= COUNTIES_FROM_ZOOM && !this._counties) {
        this._counties = "loading";
        load(this.opts.counties).then(function (us) {
          self._counties = L.geoJSON(topojson.mesh(us, us.objects.counties, function (a, b) {
            return a !== b && a.id.slice(0, 2) === b.id.slice(0, 2);  // county lines inside a state
          }), {renderer: self._svg, interactive: false,
               style: {color: "#b3b9c2", weight: 0.7, className: "territory-basemap-county"}});
          self._refresh();
        }).catch(function (err) { self.stats.error = String(err); self._counties = null; });
      }
      if (this._counties && this._counties !== "loading") {
        var want = zoom >= COUNTIES_FROM_ZOOM;
        if (want && !map.hasLayer(this._counties)) this._counties.addTo(map);
        if (!want && map.hasLayer(this._counties)) map.removeLayer(this._counties);
        this.stats.counties = want;
      }
    },

    /* Mainland, Alaska, Hawaii, Puerto Rico: one click each. */
    _regions: function (map) {
      var Control = L.Control.extend({
        options: {position: "topright"},
        onAdd: function () {
          var box = L.DomUtil.create("div", "leaflet-bar territory-regions");
          REGIONS.forEach(function (r) {
            var b = L.DomUtil.create("button", "", box);
            b.type = "button";
            b.textContent = r[0];
            L.DomEvent.on(b, "click", function (e) { L.DomEvent.stop(e); map.fitBounds(r[1], {animate: false}); });
          });
          L.DomEvent.disableClickPropagation(box);
          return box;
        }
      });
      new Control().addTo(map);
    },

    /* The first view: where the user left a map with the same key, else ``bounds``, fitted again
       when the frame is resized (Streamlit sizes it after the map is made) until the user moves
       the map. The view is remembered once the user has moved it. */
    _remember: function (map) {
      var key = this.opts.view_key, bounds = this.opts.bounds, saved = key ? views()[key] : null;
      var touched = !!saved;
      function fit() {
        map.invalidateSize({animate: false});
        if (!touched && bounds) map.fitBounds(bounds, {animate: false});
      }
      if (saved) map.setView(saved.center, saved.zoom, {animate: false});
      else fit();
      window.addEventListener("resize", fit);
      setTimeout(fit, 50);
      ["mousedown", "wheel", "touchstart", "keydown"].forEach(function (type) {
        map.getContainer().addEventListener(type, function () { touched = true; }, {passive: true, capture: true});
      });
      map.on("moveend", function () {
        if (key && touched) views()[key] = {center: map.getCenter(), zoom: map.getZoom()};
      });
    }
  });

  L.territoryBasemap = function (opts) { return new Basemap(opts); };
  L.territoryBasemap.savedView = function (key) { return key ? views()[key] : null; };
  L.territoryBasemap.REGIONS = REGIONS;
})();
