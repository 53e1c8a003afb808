// The desk's map: tickets as markers coloured by state, clustered; tiles may fail to load
// (no network, a blocked tile server): the markers and the list below still work.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el).setView([31.23, 121.47], 11);
  var tiles = L.tileLayer(el.dataset.tiles, {
    subdomains: el.dataset.subdomains || "abc", maxZoom: 18, attribution: el.dataset.attribution
  });
  var warned = false;
  tiles.on("tileerror", function () {
    if (warned) { return; }
    warned = true;
    document.getElementById("tiles-failed").hidden = false;
    el.classList.add("no-tiles");
  });
  tiles.addTo(map);

  function link(p) {
    var a = document.createElement("a");
    a.href = "/tickets/" + p[0];
    a.textContent = "#" + p[0] + " " + p[4] + " · " + p[5];
    return a;
  }

  var cluster = L.markerClusterGroup({ maxClusterRadius: 45, showCoverageOnHover: false });
  fetch(el.dataset.points, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var bounds = [];
      data.points.forEach(function (p) {
        var icon = L.divIcon({ className: "pin st-" + p[3], iconSize: [16, 16] });
        var marker = L.marker([p[1], p[2]], { icon: icon, title: "#" + p[0] + " " + p[4] });
        marker.bindPopup(function () { return link(p); });
        cluster.addLayer(marker);
        bounds.push([p[1], p[2]]);
      });
      map.addLayer(cluster);
      if (bounds.length) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 }); }
      el.dataset.loaded = String(data.points.length);
    })
    .catch(function () { el.dataset.loaded = "error"; });

  if (el.dataset.grids) {
    fetch(el.dataset.grids, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (outlines) {
        if (outlines) {
          L.geoJSON(outlines, { style: { color: "#495057", weight: 1, fill: false } }).addTo(map);
        }
      })
      .catch(function () {});
  }
})();
