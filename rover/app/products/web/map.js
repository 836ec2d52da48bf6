/* frigoris map.html: draws the run described by the JSON in #frigoris-data with Leaflet.
 *
 * Map coordinates are the run's CRS in metres: a Leaflet LatLng holds (lat = y, lng = x) in a
 * CRS.Simple whose zoom 0 shows the whole site in 256 px. The rover follows timeline.csv's
 * rows: at a row's time it sits at that row's position, between two rows it moves linearly.
 * window.frigoris exposes the map, the layers and setTime() for tests and the console.
 */
(function () {
  "use strict";

  var D = JSON.parse(document.getElementById("frigoris-data").textContent);
  var B = D.crs.bounds; // [left, bottom, right, top] in metres
  var span = Math.max(B[2] - B[0], B[3] - B[1]);
  var scale0 = 256 / span;
  var crs = L.extend({}, L.CRS.Simple, {
    transformation: new L.Transformation(scale0, -scale0 * B[0], -scale0, scale0 * B[3]),
  });
  var maxZoom = Math.max(2, Math.ceil(Math.log2(16 / (D.crs.res_m * scale0))));

  function ll(x, y) { return L.latLng(y, x); }
  function coordsToLatLng(c) { return L.latLng(c[1], c[0]); }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function el(tag, attrs, html) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (html !== undefined) { e.innerHTML = html; }
    return e;
  }
  function fmt(v, nd) {
    if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) { return "–"; }
    if (typeof v === "boolean") { return v ? "yes" : "no"; }
    if (typeof v === "number") {
      if (Number.isInteger(v)) { return String(v); }
      return String(Number(v.toPrecision(nd || 4)));
    }
    return String(v);
  }

  // ------------------------------------------------------------------------------------------
  // the map

  var map = L.map("map", {
    crs: crs,
    minZoom: -3,
    maxZoom: maxZoom,
    zoomSnap: 0.25,
    zoomDelta: 0.5,
    preferCanvas: true,
    attributionControl: true,
  });
  map.attributionControl.setPrefix(
    '<a href="https://leafletjs.com" title="Leaflet 1.9.4, BSD-2-Clause">Leaflet</a>');
  map.attributionControl.addAttribution("frigoris · " + esc(D.crs.name));
  var siteBounds = L.latLngBounds(ll(B[0], B[1]), ll(B[2], B[3]));
  map.fitBounds(siteBounds); // a view before any layer: vector renderers need one
  L.control.scale({ imperial: false, maxWidth: 160 }).addTo(map);

  var layers = {}; // id -> Leaflet layer
  var entries = []; // {id, label, group, legend, layer, visible}

  function register(id, label, group, layer, legend, visible) {
    layers[id] = layer;
    entries.push({ id: id, label: label, group: group, layer: layer, legend: legend,
      visible: !!visible });
    if (visible) { layer.addTo(map); }
  }

  // rasters: each in its own pane so the list order is the drawing order
  D.rasters.forEach(function (r, i) {
    var pane = "raster-" + i;
    map.createPane(pane).style.zIndex = String(200 + i);
    var b = r.bounds;
    var layer = L.imageOverlay(r.src, L.latLngBounds(ll(b[0], b[1]), ll(b[2], b[3])), {
      opacity: r.opacity, pane: pane, interactive: false, className: "raster raster-" + r.id,
    });
    register(r.id, r.label, r.group, layer, r.legend, r.visible);
  });

  function popupTable(title, props, skip, at) {
    var rows = Object.keys(props).filter(function (k) {
      return props[k] !== null && props[k] !== "" && (!skip || skip.indexOf(k) < 0);
    }).map(function (k) {
      return "<tr><th>" + esc(k.replace(/_/g, " ")) + "</th><td>" + esc(fmt(props[k], 5)) +
        "</td></tr>";
    });
    var where = at ? latLonText(at.lng, at.lat) : "";
    if (where) { rows.push("<tr><th>lat, lon</th><td>" + esc(where) + "</td></tr>"); }
    return '<div class="popup"><h3>' + esc(title) + "</h3><table>" + rows.join("") +
      "</table></div>";
  }
  // a point feature's popup also gives its latitude and longitude (computed here)
  function bindPointPopup(layer, title, props, skip) {
    layer.bindPopup(function () { return popupTable(title, props, skip, layer.getLatLng()); });
  }

  function geo(features, opts) {
    return L.geoJSON({ type: "FeatureCollection", features: features }, L.extend({
      coordsToLatLng: coordsToLatLng,
    }, opts));
  }

  var V = D.vectors, VL = V.layers;
  var swatch = function (c, cls) { return { type: "swatch", colour: c, shape: cls || "" }; };

  if (VL.touchdown_ellipse) {
    register("touchdown_ellipse", "touchdown dispersion: 1, 2, 3 sigma", "touchdown",
      geo(VL.touchdown_ellipse, {
        style: function (f) {
          return { color: "#ffffff", weight: 1.5, fill: false,
            dashArray: f.properties.n_sigma === 1 ? "2 4" : (f.properties.n_sigma === 2 ? "6 4" : null) };
        },
        onEachFeature: function (f, l) {
          l.bindPopup(popupTable(f.properties.n_sigma + "-sigma touchdown ellipse", f.properties));
        },
      }), swatch("#ffffff", "ring"), true);
  }
  if (VL.aim_point) {
    register("aim_point", "aim point (touchdown target)", "touchdown", geo(VL.aim_point, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#ffffff", weight: 2, fill: false });
      },
      onEachFeature: function (f, l) { bindPointPopup(l, "aim point", f.properties); },
    }), swatch("#ffffff", "ring"), true);
  }
  Object.keys(V.touchdowns).forEach(function (scenario) {
    register("touchdowns_" + scenario, "Monte Carlo touchdowns: " + scenario, "touchdown",
      geo(V.touchdowns[scenario], {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {
            radius: 3.5, weight: 0.6, color: "#000", fillOpacity: 0.9,
            fillColor: V.outcome_colours[f.properties.outcome] || "#17becf",
          });
        },
        onEachFeature: function (f, l) {
          bindPointPopup(l, "touchdown " + scenario + " run " + f.properties.run, f.properties,
            ["scenario", "run"]);
        },
      }), { type: "outcomes", colours: V.outcome_colours }, false);
  });
  if (V.impacts.length) {
    register("impacts", "descent impact points (crashed runs, " + V.impacts.length + ")",
      "touchdown", geo(V.impacts, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 5, color: "#d62728", weight: 1.5, fill: false });
        },
        onEachFeature: function (f, l) {
          bindPointPopup(l, "impact: " + f.properties.scenario + " run " + f.properties.run,
            f.properties, ["run"]);
        },
      }), swatch("#d62728", "ring"), !(D.timeline && D.timeline.t_s)); // on at first without a traverse
  }
  if (V.reference_impact) {
    var ri = V.reference_impact;
    register("reference_impact", "Mission 2 impact (LRO image, published)", "touchdown",
      L.marker(ll(ri.x, ri.y), {
        icon: L.divIcon({ className: "impact-ref", html: "&#9733;", iconSize: [22, 22] }),
        keyboard: false,
      }).bindPopup(popupTable("Resilience impact, 2025-06-05", {
        source: "LRO image (published)", x_m: ri.x, y_m: ri.y })),
      { type: "swatch", colour: "#d62728", shape: "star" }, true);
  }

  if (VL.plume_zone) {
    register("plume_zone", "plume-disturbed zone", "deployment", geo(VL.plume_zone, {
      style: function () { return { color: "#ffbf00", weight: 1.5, dashArray: "4 4", fillOpacity: 0.08 }; },
      onEachFeature: function (f, l) { l.bindPopup(popupTable("plume zone", f.properties)); },
    }), swatch("#ffbf00", "ring"), true);
  }
  var SIDE_COLOURS = { chosen: "#2ca02c", ok: "#ffffff", blocked: "#d62728" };
  if (VL.deployment_sides) {
    register("deployment_sides", "deployment sides (chosen, ok, blocked)", "deployment",
      geo(VL.deployment_sides, {
        style: function (f) {
          return { color: SIDE_COLOURS[f.properties.verdict] || "#999", weight: 4,
            dashArray: f.properties.verdict === "blocked" ? "3 3" : null };
        },
        onEachFeature: function (f, l) {
          l.bindPopup(popupTable("side " + f.properties.side_deg + " deg: " + f.properties.verdict,
            f.properties));
        },
      }), { type: "outcomes", colours: SIDE_COLOURS }, true);
  }
  if (VL.egress) {
    register("egress", "egress past the plume zone", "deployment", geo(VL.egress, {
      style: function () { return { color: "#ff7f0e", weight: 3 }; },
      onEachFeature: function (f, l) { l.bindPopup(popupTable("egress", f.properties)); },
    }), swatch("#ff7f0e", "line"), true);
  }
  if (VL.lander) {
    register("lander", "lander " + D.lander, "deployment", geo(VL.lander, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 8, color: "#000", weight: 2, fillColor:
          V.outcome_colours[f.properties.outcome] || "#fff", fillOpacity: 1 });
      },
      onEachFeature: function (f, l) {
        bindPointPopup(l, D.lander + ": " + f.properties.outcome, f.properties);
      },
    }), swatch("#ffffff", "ring"), true);
  }

  // craters and rocks: circles of their diameter
  function circles(id, label, feats, colour) {
    var g = L.layerGroup(feats.map(function (f) {
      var c = f.geometry.coordinates;
      var circle = L.circle(ll(c[0], c[1]), { radius: f.properties.diameter_m / 2, color: colour,
        weight: 1, fill: false });
      bindPointPopup(circle, label.replace(/s? \(.*$/, ""), f.properties);
      return circle;
    }));
    register(id, label, "hazard", g, swatch(colour, "ring"), false);
  }
  if (VL.craters) { circles("craters", "craters (detected, " + VL.craters.length + ")", VL.craters, "#ffcc00"); }
  if (VL.rocks) { circles("rocks", "rocks (detected, " + VL.rocks.length + ")", VL.rocks, "#ff3355"); }

  // ------------------------------------------------------------------------------------------
  // the traverse and its timeline

  var T = D.timeline, P = D.plan;
  var nRows = T && T.t_s ? T.t_s.length : 0;
  var VIRIDIS = ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"];
  function ramp(stops, f) {
    f = Math.min(Math.max(f, 0), 1) * (stops.length - 1);
    var i = Math.min(Math.floor(f), stops.length - 2), u = f - i;
    var a = stops[i], b = stops[i + 1];
    var ch = function (s, k) { return parseInt(s.substr(1 + 2 * k, 2), 16); };
    var out = "#";
    for (var k = 0; k < 3; k++) {
      var v = Math.round(ch(a, k) + u * (ch(b, k) - ch(a, k)));
      out += (v < 16 ? "0" : "") + v.toString(16);
    }
    return out;
  }

  var tEnd = nRows ? T.t_s[nRows - 1] : 0;
  var drivenM = [];
  var cycles = []; // {first, last, t0, t1, day, length_m}: rows first-1 .. last
  if (nRows) {
    var bins = 32, runs = [], cur = null, d = 0;
    for (var i = 0; i < nRows; i++) {
      if (i > 0) {
        var dx = T.x_m[i] - T.x_m[i - 1], dy = T.y_m[i] - T.y_m[i - 1];
        var step = Math.sqrt(dx * dx + dy * dy);
        d += step;
        if (step > 0) {
          var bin = Math.min(bins - 1, Math.floor(bins * 0.5 * (T.t_s[i] + T.t_s[i - 1]) / Math.max(tEnd, 1)));
          if (!cur || cur.bin !== bin) {
            cur = { bin: bin, pts: [ll(T.x_m[i - 1], T.y_m[i - 1])] };
            runs.push(cur);
          }
          cur.pts.push(ll(T.x_m[i], T.y_m[i]));
        }
      }
      drivenM.push(d);
    }
    register("legs", "traverse, coloured by time", "traverse", L.layerGroup(runs.map(function (r) {
      return L.polyline(r.pts, { color: ramp(VIRIDIS, (r.bin + 0.5) / bins), weight: 3.5,
        interactive: false });
    })), { type: "ramp", colours: VIRIDIS, min: "day 1", max: "day " + Math.ceil(tEnd / 86400 || 1),
      units: "" }, true);

    var driveCode = T.activities.indexOf("drive");
    for (var j = 1; j < nRows; j++) {
      if (T.activity[j] === driveCode && T.activity[j - 1] !== driveCode) {
        var k = j;
        while (k + 1 < nRows && T.activity[k + 1] === driveCode) { k++; }
        cycles.push({ first: j, last: k, t0: T.t_s[j - 1], t1: T.t_s[k],
          day: Math.floor(T.t_s[j - 1] / 86400), length_m: drivenM[k] - drivenM[j - 1] });
        j = k;
      }
    }
  }
  if (VL.traverse_legs) {
    register("leg_popups", "legs (click for times and energy)", "traverse", geo(VL.traverse_legs, {
      style: function () { return { color: "#000", opacity: 0.0001, weight: 10 }; },
      onEachFeature: function (f, l) {
        l.bindPopup(popupTable("leg " + f.properties.leg + ": stop " + f.properties.from_stop +
          " to " + f.properties.to_stop, f.properties, ["leg"]));
      },
    }), swatch("#777777", "line"), true);
  }
  if (VL.targets) {
    register("targets", "user targets", "traverse", geo(VL.targets, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 7, color: "#17becf", weight: 2, fill: false });
      },
      onEachFeature: function (f, l) { bindPointPopup(l, "target: " + f.properties.name, f.properties); },
    }), swatch("#17becf", "ring"), true);
  }
  var STOP_ORDER = ["kind", "stop", "value", "reason", "arrival_utc", "departure_utc",
    "soc_arrival_wh", "dwell_s"];
  if (VL.stops) {
    register("stops", "stops (click: kind, value, reason, times, battery)", "traverse", geo(VL.stops, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#000", weight: 1.2, fillOpacity: 1,
          fillColor: V.stop_colours[f.properties.kind] || "#17becf" });
      },
      onEachFeature: function (f, l) {
        var p = f.properties, props = {};
        STOP_ORDER.concat(Object.keys(p)).forEach(function (k) { if (k in p) { props[k] = p[k]; } });
        props.battery_on_arrival_wh = props.soc_arrival_wh;
        delete props.soc_arrival_wh;
        bindPointPopup(l, "stop " + p.stop + ": " + p.kind, props);
        l.bindTooltip("stop " + p.stop + ": " + p.kind, { direction: "top" });
      },
    }), { type: "outcomes", colours: V.stop_colours }, true);
  }

  var cycleLine = L.polyline([], { color: "#ff00ff", weight: 7, opacity: 0.85, interactive: false });
  var rover = L.marker(ll(B[0], B[3]), {
    icon: L.divIcon({ className: "rover-icon", iconSize: [18, 18] }),
    keyboard: false, zIndexOffset: 1000, title: D.rover,
  }).bindTooltip(esc(D.rover), { permanent: true, direction: "right", offset: [10, 0],
    className: "rover-label" });
  if (nRows) {
    register("command_cycle", "current command cycle (drive until the ground turnaround)",
      "traverse", cycleLine, swatch("#ff00ff", "line"), true);
    register("rover", "rover " + D.rover + " at the slider time", "traverse", rover,
      { type: "swatch", colour: "#ff2020" }, true);
  }

  // ------------------------------------------------------------------------------------------
  // side panel: title, chain, layers

  var side = document.getElementById("side");
  side.appendChild(el("h1", {}, esc(D.title)));
  side.appendChild(el("div", { class: "meta" }, esc(D.subtitle)));
  side.appendChild(el("ol", { class: "steps" }, D.steps.map(function (s) {
    return '<li><span class="' + esc(s.status) + '">' + esc(s.name) + " " + esc(s.status) +
      "</span>: " + esc(s.detail) + "</li>";
  }).join("")));
  if (D.stopped) { side.appendChild(el("div", { class: "note" }, "<b>The chain stopped:</b> " + esc(D.stopped))); }
  var views = el("div", { class: "views" });
  var bWhole = el("button", { type: "button", id: "view-site" }, "whole site");
  var bArea = el("button", { type: "button", id: "view-area" }, "mission area");
  views.appendChild(bWhole); views.appendChild(bArea);
  side.appendChild(views);

  var nowBox = el("div", { id: "now" });
  if (nRows) {
    side.appendChild(el("h2", {}, "At the slider time"));
    side.appendChild(nowBox);
    side.appendChild(el("canvas", { class: "chart", id: "chart", height: "120" }));
    side.appendChild(el("canvas", { class: "chart", id: "daystrip", height: "74" }));
    side.appendChild(el("div", { class: "chips", id: "chips" }, T.activities.map(function (a, i) {
      return '<span><span class="swatch" style="background:' + T.activity_colours[i] + '"></span>' +
        esc(a) + "</span>";
    }).join("") + '<span><span class="swatch" style="background:#dbeafe"></span>drive window</span>' +
      '<span><span class="swatch" style="background:#fff;border-color:#ff00ff;border-width:2px"></span>command cycle</span>'));
  } else {
    side.appendChild(el("div", { class: "note" }, "No traverse plan in this run" +
      (D.stopped ? "." : (P && P.reason ? ": " + esc(P.reason) : "."))));
  }

  function legendHtml(lg) {
    if (!lg) { return ""; }
    if (lg.type === "swatch") {
      var cls = lg.shape === "ring" ? "swatch ring" : (lg.shape === "line" ? "swatch line" : "swatch");
      var st = lg.shape === "ring" || lg.shape === "line" ? "border-color:" + lg.colour + ";background:transparent"
        : "background:" + lg.colour;
      if (lg.shape === "star") { return '<span style="color:' + lg.colour + '">&#9733;</span>'; }
      return '<span class="' + cls + '" style="' + st + '"></span>';
    }
    if (lg.type === "ramp") {
      return '<span class="ramp" style="background:linear-gradient(to right,' + lg.colours.join(",") +
        ')"></span>';
    }
    if (lg.type === "outcomes") {
      return Object.keys(lg.colours).map(function (k) {
        return '<span class="swatch" title="' + esc(k) + '" style="background:' + lg.colours[k] + '"></span>';
      }).join("");
    }
    return "";
  }
  function legendText(lg) {
    if (!lg) { return ""; }
    if (lg.type === "ramp") {
      return " <small>" + esc(fmt(lg.min)) + " … " + esc(fmt(lg.max)) + (lg.units ? " " + esc(lg.units) : "") + "</small>";
    }
    if (lg.type === "outcomes") {
      return " <small>" + Object.keys(lg.colours).map(esc).join(", ") + "</small>";
    }
    if (lg.type === "swatch" && lg.share !== undefined) {
      return " <small>" + esc(fmt(100 * lg.share, 3)) + " % of the map</small>";
    }
    return "";
  }

  var GROUPS = [["traverse", "Traverse"], ["deployment", "Deployment"], ["touchdown", "Touchdown"],
    ["hazard", "Hazard (" + fmt(D.raster_res_m) + " m display pixels: a pixel shows its worst DEM cell)"],
    ["terrain", "Terrain"]];
  side.appendChild(el("h2", {}, "Layers"));
  var layerBox = el("div", { id: "layers" });
  side.appendChild(layerBox);
  GROUPS.forEach(function (g) {
    var members = entries.filter(function (e) { return e.group === g[0]; });
    if (!members.length) { return; }
    layerBox.appendChild(el("div", { class: "group" }, esc(g[1])));
    members.forEach(function (e) {
      var lab = el("label", { class: "layer", "data-layer": e.id });
      var box = el("input", { type: "checkbox", "data-layer": e.id });
      box.checked = e.visible;
      box.addEventListener("change", function () {
        if (box.checked) { map.addLayer(e.layer); } else { map.removeLayer(e.layer); }
      });
      lab.appendChild(box);
      lab.appendChild(el("span", {}, legendHtml(e.legend)));
      lab.appendChild(el("span", {}, esc(e.label) + legendText(e.legend)));
      layerBox.appendChild(lab);
    });
  });
  D.raster_notes.forEach(function (n) { layerBox.appendChild(el("div", { class: "meta" }, esc(n))); });
  if (D.hazard_sun_deg) {
    layerBox.appendChild(el("div", { class: "meta" }, "Hazard layers at the hazard map's sun: azimuth " +
      fmt(D.hazard_sun_deg[0], 4) + " deg, elevation " + fmt(D.hazard_sun_deg[1], 3) + " deg."));
  }
  side.appendChild(el("h2", {}, "Map"));
  side.appendChild(el("div", { class: "meta" }, "Coordinates: " + esc(D.crs.name) +
    " (metres). Grid north is up; true north at the centre is " + fmt(D.crs.true_north_deg, 3) +
    " deg from it. Mission files and GIS layers are in the run folder (mission.gpkg, *.tif)."));

  // ------------------------------------------------------------------------------------------
  // cursor position, north arrow

  // Transverse Mercator on a sphere, inverse in closed form (Snyder 1987, eqs. 8-6 and 8-7):
  // the local CRS of every reprojected site. proj4js 2.22 is not used for it: its exact tmerc
  // refuses a sphere and its +approx series flips the latitude south of lat_0.
  function tmercSphereInverse(p, x, y) {
    var rk = p.radius_m * p.k0, xs = (x - p.x0_m) / rk;
    var d = (y - p.y0_m) / rk + p.lat0_deg * Math.PI / 180;
    var lat = Math.asin(Math.max(-1, Math.min(1, Math.sin(d) / Math.cosh(xs))));
    var lon = p.lon0_deg + Math.atan2(Math.sinh(xs), Math.cos(d)) * 180 / Math.PI;
    return [((lon + 540) % 360) - 180, lat * 180 / Math.PI];
  }
  var toLonLat = null;
  if (D.crs.tmerc_sphere) {
    toLonLat = function (x, y) { return tmercSphereInverse(D.crs.tmerc_sphere, x, y); };
  } else if (D.crs.proj4 && D.crs.geographic_proj4 && typeof proj4 === "function") {
    try {
      var conv = proj4(D.crs.proj4, D.crs.geographic_proj4);
      conv.forward([0.5 * (B[0] + B[2]), 0.5 * (B[1] + B[3])]);
      toLonLat = function (x, y) { return conv.forward([x, y]); };
    } catch (err) {
      toLonLat = null;
    }
  }
  function toLatLon(x, y) {
    if (!toLonLat) { return null; }
    var p = toLonLat(x, y);
    return [p[1], p[0]];
  }
  function latLonText(x, y) {
    var q = toLatLon(x, y);
    if (!q || !isFinite(q[0]) || !isFinite(q[1])) { return ""; }
    return Math.abs(q[0]).toFixed(5) + "° " + (q[0] >= 0 ? "N" : "S") + ", " +
      Math.abs(q[1]).toFixed(5) + "° " + (q[1] >= 0 ? "E" : "W");
  }
  var CursorBox = L.Control.extend({
    options: { position: "bottomright" },
    onAdd: function () { this._div = L.DomUtil.create("div", "cursor-box"); this._div.id = "cursor";
      this._div.innerHTML = "move the cursor over the map"; return this._div; },
  });
  var cursorBox = new CursorBox().addTo(map);
  map.on("mousemove", function (e) {
    var x = e.latlng.lng, y = e.latlng.lat, t = latLonText(x, y);
    cursorBox._div.textContent = "x " + x.toFixed(1) + " m, y " + y.toFixed(1) + " m" + (t ? " · " + t : "");
  });
  var North = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      var div = L.DomUtil.create("div", "north");
      div.title = "true north at the map centre (grid north is up)";
      div.innerHTML = '<svg width="26" height="34" viewBox="-13 -17 26 34"><g transform="rotate(' +
        D.crs.true_north_deg + ')"><path d="M0,-15 L7,8 L0,3 L-7,8 Z" fill="#000"/></g></svg><br>N';
      return div;
    },
  });
  new North().addTo(map);

  // ------------------------------------------------------------------------------------------
  // time: slider, play, the moment's values, charts

  var tNow = 0;
  function rowAtOrAfter(t) { // first row with t_s >= t (binary search), nRows if none
    var lo = 0, hi = nRows;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (T.t_s[mid] < t) { lo = mid + 1; } else { hi = mid; } }
    return lo;
  }
  function stateAt(t) {
    var i = rowAtOrAfter(t);
    if (i >= nRows) { i = nRows - 1; t = T.t_s[i]; }
    if (i === 0 || T.t_s[i] === t) {
      return { row: i, near: i, x: T.x_m[i], y: T.y_m[i], soc: T.soc_wh[i], sun: T.sun_elevation_deg[i],
        solar: T.solar_w[i], act: T.activity[i], driven: drivenM[i], margin: T.link_margin_db ? T.link_margin_db[i] : null };
    }
    var a = i - 1, f = (t - T.t_s[a]) / (T.t_s[i] - T.t_s[a]);
    var lerp = function (col) { return col[a] === null || col[i] === null ? null : col[a] + f * (col[i] - col[a]); };
    return { row: i, near: f < 0.5 ? a : i, x: lerp(T.x_m), y: lerp(T.y_m), soc: lerp(T.soc_wh),
      sun: lerp(T.sun_elevation_deg), solar: lerp(T.solar_w), act: T.activity[i],
      driven: drivenM[a] + f * (drivenM[i] - drivenM[a]), margin: T.link_margin_db ? lerp(T.link_margin_db) : null };
  }
  function clock(t) {
    var d = new Date(P.start_ms + Math.round(t * 1000));
    return d.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }
  function currentCycle(t) {
    var best = null;
    cycles.forEach(function (c) {
      if (c.t0 <= t && (c.t1 >= t || (c.day === Math.floor(t / 86400)))) { best = c; }
    });
    return best;
  }

  var slider, clockBox, playBtn, speedSel, playing = false, lastFrame = null;
  var timebar = document.getElementById("timebar");
  if (nRows) {
    var bStart = el("button", { type: "button", id: "t-start", title: "the start of the plan" }, "|&#9664;");
    var bPrev = el("button", { type: "button", id: "t-prev", title: "the previous timeline row" }, "&#9664;");
    playBtn = el("button", { type: "button", id: "t-play", title: "play / pause" }, "&#9654;");
    var bNext = el("button", { type: "button", id: "t-next", title: "the next timeline row" }, "&#9654;|");
    speedSel = el("select", { id: "t-speed", title: "plan time per second" },
      '<option value="600">10 min/s</option><option value="3600" selected>1 h/s</option>' +
      '<option value="21600">6 h/s</option><option value="86400">1 day/s</option>');
    slider = el("input", { type: "range", id: "slider", min: String(T.t_s[0]), max: String(tEnd),
      step: "any", value: String(T.t_s[0]) });
    clockBox = el("span", { id: "clock" });
    [bStart, bPrev, playBtn, bNext, speedSel, slider, clockBox].forEach(function (e) { timebar.appendChild(e); });
    slider.addEventListener("input", function () { setTime(parseFloat(slider.value), true); });
    bStart.addEventListener("click", function () { setTime(T.t_s[0]); });
    bPrev.addEventListener("click", function () {
      var i = rowAtOrAfter(tNow) - 1; setTime(T.t_s[Math.max(i, 0)]);
    });
    bNext.addEventListener("click", function () {
      var i = rowAtOrAfter(tNow); if (i < nRows && T.t_s[i] === tNow) { i++; }
      setTime(T.t_s[Math.min(i, nRows - 1)]);
    });
    playBtn.addEventListener("click", function () {
      playing = !playing;
      if (playing && tNow >= tEnd) { setTime(T.t_s[0]); }
      playBtn.innerHTML = playing ? "&#10074;&#10074;" : "&#9654;";
      lastFrame = null;
      if (playing) { window.requestAnimationFrame(tick); }
    });
  } else {
    timebar.className = "empty";
    timebar.textContent = "No timeline: the rover was never deployed or the run has no plan.";
  }
  function tick(ts) {
    if (!playing) { return; }
    if (lastFrame !== null) {
      var t = Math.min(tNow + (ts - lastFrame) / 1000 * parseFloat(speedSel.value), tEnd);
      setTime(t);
      if (t >= tEnd) { playing = false; playBtn.innerHTML = "&#9654;"; return; }
    }
    lastFrame = ts;
    window.requestAnimationFrame(tick);
  }

  function setupCanvas(c) {
    var dpr = window.devicePixelRatio || 1, w = c.clientWidth || 340, h = parseInt(c.getAttribute("height"), 10);
    if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.style.height = h + "px"; }
    var g = c.getContext("2d");
    g.setTransform(c.width / w, 0, 0, c.width / w, 0, 0);
    g.clearRect(0, 0, w, h);
    return { g: g, w: w, h: h };
  }
  function windows(t0, t1) { // drive windows [a, b] overlapping [t0, t1] (plan seconds)
    var out = [], ws = P.window_start_h * 3600, wl = P.window_length_h * 3600;
    for (var d = Math.floor((t0 - ws) / 86400) - 1; d * 86400 + ws < t1; d++) {
      out.push([d * 86400 + ws, d * 86400 + ws + wl]);
    }
    return out;
  }
  function drawChart() {
    var c = document.getElementById("chart");
    if (!c) { return; }
    var s = setupCanvas(c), g = s.g, w = s.w, h = s.h, L0 = 30, R0 = w - 30, T0 = 14, B0 = h - 16;
    var X = function (t) { return L0 + (R0 - L0) * (t - T.t_s[0]) / Math.max(tEnd - T.t_s[0], 1); };
    g.fillStyle = "#dbeafe";
    windows(T.t_s[0], tEnd).forEach(function (wd) {
      var a = Math.max(X(wd[0]), L0), b = Math.min(X(wd[1]), R0);
      if (b > a) { g.fillRect(a, T0, b - a, B0 - T0); }
    });
    var sunMin = Math.min(-5, Math.min.apply(null, T.sun_elevation_deg.filter(isFinite)));
    var sunMax = Math.max(5, Math.max.apply(null, T.sun_elevation_deg.filter(isFinite)));
    var Yb = function (v) { return B0 - (B0 - T0) * v / P.battery_wh; };
    var Ys = function (v) { return B0 - (B0 - T0) * (v - sunMin) / (sunMax - sunMin); };
    g.strokeStyle = "#999"; g.setLineDash([3, 3]); g.beginPath();
    g.moveTo(L0, Yb(P.reserve_wh)); g.lineTo(R0, Yb(P.reserve_wh)); g.stroke(); g.setLineDash([]);
    var line = function (col, Y, colour) {
      g.strokeStyle = colour; g.lineWidth = 1.5; g.beginPath();
      for (var i = 0; i < nRows; i++) { if (col[i] === null) { continue; } var px = X(T.t_s[i]), py = Y(col[i]);
        if (i === 0) { g.moveTo(px, py); } else { g.lineTo(px, py); } }
      g.stroke();
    };
    line(T.sun_elevation_deg, Ys, "#ff7f0e");
    line(T.soc_wh, Yb, "#2ca02c");
    g.fillStyle = "#333"; g.font = "10px system-ui, sans-serif"; g.textAlign = "left";
    g.fillStyle = "#1a7f37"; g.fillText("battery Wh (reserve dashed)", L0, 10);
    g.textAlign = "right"; g.fillStyle = "#c55a00"; g.fillText("sun elevation deg", R0, 10);
    g.fillStyle = "#333"; g.textAlign = "right";
    g.fillText(fmt(P.battery_wh), L0 - 3, T0 + 8); g.fillText("0", L0 - 3, B0);
    g.textAlign = "left"; g.fillStyle = "#c55a00";
    g.fillText(fmt(sunMax, 2), R0 + 3, T0 + 8); g.fillText(fmt(sunMin, 2), R0 + 3, B0);
    g.fillStyle = "#333"; g.textAlign = "center";
    var days = Math.ceil((tEnd - 0) / 86400);
    for (var k = 0; k <= days; k++) {
      var px = X(k * 86400); if (px < L0 - 0.5 || px > R0 + 0.5) { continue; }
      g.fillRect(px, B0, 1, 3);
      if (k < days) { g.fillText("d" + (k + 1), Math.min(X((k + 0.5) * 86400), R0 - 6), h - 3); }
    }
    g.strokeStyle = "#333"; g.strokeRect(L0, T0, R0 - L0, B0 - T0);
    g.strokeStyle = "#d62728"; g.lineWidth = 2; g.beginPath(); g.moveTo(X(tNow), T0); g.lineTo(X(tNow), B0); g.stroke();
    c.onclick = function (e) {
      var r = c.getBoundingClientRect(), f = (e.clientX - r.left - L0) / (R0 - L0);
      setTime(T.t_s[0] + Math.min(Math.max(f, 0), 1) * (tEnd - T.t_s[0]));
    };
  }
  function drawDay() {
    var c = document.getElementById("daystrip");
    if (!c) { return; }
    var s = setupCanvas(c), g = s.g, w = s.w, h = s.h, L0 = 8, R0 = w - 8;
    var day = Math.floor(tNow / 86400), d0 = day * 86400, d1 = d0 + 86400;
    var X = function (t) { return L0 + (R0 - L0) * (t - d0) / 86400; };
    g.fillStyle = "#333"; g.font = "10px system-ui, sans-serif"; g.textAlign = "left";
    g.fillText("plan day " + (day + 1) + ": drive window, activity, command cycle", L0, 10);
    g.fillStyle = "#dbeafe";
    windows(d0, d1).forEach(function (wd) {
      var a = Math.max(X(wd[0]), L0), b = Math.min(X(wd[1]), R0);
      if (b > a) { g.fillRect(a, 14, b - a, 40); }
    });
    var i0 = Math.max(rowAtOrAfter(d0), 1);
    for (var i = i0; i < nRows && T.t_s[i - 1] < d1; i++) {
      var a = Math.max(X(T.t_s[i - 1]), L0), b = Math.min(X(T.t_s[i]), R0);
      g.fillStyle = T.activity_colours[T.activity[i]];
      g.fillRect(a, 24, Math.max(b - a, 0.6), 20);
    }
    var cyc = currentCycle(tNow);
    if (cyc && cyc.day === day) {
      g.strokeStyle = "#ff00ff"; g.lineWidth = 2;
      g.strokeRect(X(cyc.t0) - 1, 20, Math.max(X(cyc.t1) - X(cyc.t0), 1) + 2, 28);
    }
    g.strokeStyle = "#333"; g.lineWidth = 1; g.strokeRect(L0, 14, R0 - L0, 40);
    g.fillStyle = "#333"; g.textAlign = "center";
    for (var hh = 0; hh <= 24; hh += 6) {
      var px = X(d0 + hh * 3600);
      g.fillRect(px, 54, 1, 3);
      g.fillText(clock(d0 + hh * 3600).slice(11, 16), Math.min(Math.max(px, L0 + 12), R0 - 12), h - 4);
    }
    g.strokeStyle = "#d62728"; g.lineWidth = 2; g.beginPath(); g.moveTo(X(tNow), 14); g.lineTo(X(tNow), 54); g.stroke();
    c.onclick = function (e) {
      var r = c.getBoundingClientRect(), f = (e.clientX - r.left - L0) / (R0 - L0);
      setTime(Math.min(Math.max(d0 + Math.min(Math.max(f, 0), 1) * 86400, T.t_s[0]), tEnd));
    };
  }

  function setTime(t, fromSlider) {
    if (!nRows) { return; }
    tNow = Math.min(Math.max(t, T.t_s[0]), tEnd);
    var s = stateAt(tNow), near = s.near;
    rover.setLatLng(ll(s.x, s.y));
    var cyc = currentCycle(tNow), pts = [];
    if (cyc) { for (var i = cyc.first - 1; i <= cyc.last; i++) { pts.push(ll(T.x_m[i], T.y_m[i])); } }
    cycleLine.setLatLngs(pts);
    if (!fromSlider) { slider.value = String(tNow); }
    clockBox.textContent = clock(tNow) + " · plan day " + (Math.floor(tNow / 86400) + 1);
    var act = T.activities[s.act];
    var comm = T.comm_ok[near];
    var link = comm === null ? "no lander link modelled" : (comm ? "in link with the lander" : "NO LINK");
    if (s.margin !== null && s.margin !== undefined) { link += " (margin " + fmt(s.margin, 3) + " dB)"; }
    var stopIdx = T.stop[near] >= 0 && T.t_s[near] === tNow ? T.stop[near] : -1;
    var rows = [
      ["time", clock(tNow)],
      ["plan day, hour", "day " + (Math.floor(tNow / 86400) + 1) + ", " + fmt((tNow % 86400) / 3600, 3) + " h"],
      ["activity", '<span class="swatch" style="background:' + T.activity_colours[s.act] + '"></span> ' + esc(act) +
        (T.leg[near] >= 0 ? ", leg " + T.leg[near] : "") + (stopIdx >= 0 ? ", at stop " + stopIdx : "")],
      ["battery", fmt(s.soc, 4) + " Wh (" + fmt(100 * s.soc / P.battery_wh, 3) + " %; reserve " + fmt(P.reserve_wh, 3) + " Wh)"],
      ["sun elevation", fmt(s.sun, 3) + " deg"],
      ["solar power", fmt(s.solar, 3) + " W"],
      ["link", esc(link)],
      ["position", "x " + s.x.toFixed(2) + " m, y " + s.y.toFixed(2) + " m"],
      ["lat, lon", esc(latLonText(s.x, s.y) || "–")],
      ["driven so far", fmt(s.driven, 4) + " m of " + fmt(P.distance_m, 4) + " m"],
      ["command cycle", cyc ? (cyc.t1 >= tNow ? "driving: " : "last today: ") + fmt(cyc.length_m, 3) + " m, " +
        clock(cyc.t0).slice(11, 16) + "–" + clock(cyc.t1).slice(11, 16) : "none yet today"],
    ];
    nowBox.innerHTML = '<table class="now">' + rows.map(function (r) {
      return "<tr><th>" + r[0] + "</th><td>" + r[1] + "</td></tr>";
    }).join("") + "</table>";
    drawChart();
    drawDay();
  }

  // ------------------------------------------------------------------------------------------
  // first view

  function areaBounds() {
    var b = null;
    var add = function (lat, lng) { b = b ? b.extend(L.latLng(lat, lng)) : L.latLngBounds([lat, lng], [lat, lng]); };
    // the traverse and the lander when there is one, else where the touchdowns came down
    var ids = layers.legs || layers.egress ? ["lander", "deployment_sides", "egress", "legs", "stops"]
      : ["touchdown_ellipse", "impacts", "aim_point", "lander"];
    ids.forEach(function (id) {
      var l = layers[id];
      if (!l) { return; }
      var lb = l.getBounds ? l.getBounds() : null;
      if (!lb && l.eachLayer) {
        l.eachLayer(function (x) { if (x.getBounds) { var q = x.getBounds(); if (q.isValid()) { add(q.getSouth(), q.getWest()); add(q.getNorth(), q.getEast()); } } });
      } else if (lb && lb.isValid()) { add(lb.getSouth(), lb.getWest()); add(lb.getNorth(), lb.getEast()); }
    });
    if (!b || (!layers.legs && !layers.touchdown_ellipse)) { return siteBounds; }
    var c = b.getCenter(), half = Math.max(20 * D.crs.res_m, 25); // never closer than 50 m across
    b.extend(L.latLng(c.lat - half, c.lng - half)).extend(L.latLng(c.lat + half, c.lng + half));
    return b.pad(0.15);
  }
  bWhole.addEventListener("click", function () { map.fitBounds(siteBounds); });
  bArea.addEventListener("click", function () { map.fitBounds(areaBounds()); });
  map.invalidateSize({ animate: false }); // the panels around the map are built by now
  map.fitBounds(areaBounds(), { animate: false });
  if (nRows) { setTime(T.t_s[0]); }
  window.addEventListener("resize", function () { if (nRows) { drawChart(); drawDay(); } });

  window.frigoris = {
    map: map, layers: layers, data: D, setTime: setTime, toLatLon: toLatLon,
    tmercSphereInverse: tmercSphereInverse,
    time: function () { return tNow; },
    rover: function () { var p = rover.getLatLng(); return [p.lng, p.lat]; },
    ready: true,
  };
})();
